export * from './feature-keyspace';
