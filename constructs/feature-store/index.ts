export * from './feature-keyspace';
export * from './keyspace-regions';
