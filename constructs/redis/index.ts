export * from './cache-cluster';
export * from './cache-region';
export * from './global-datastore';
