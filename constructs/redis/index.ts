export * from './cache-cluster';
export * from './global-datastore';
export * from './global-datastore-id-lookup';
