export * from './regional-api-endpoint';
export * from './web-acl';
