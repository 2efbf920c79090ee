export * from './regional-api-endpoint';
