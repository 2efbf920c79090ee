export * from './cache-cluster';
export * from './global-datastore';
