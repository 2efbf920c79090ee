export * from './service-repositories';
