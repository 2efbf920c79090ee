export * from './access-logs-bucket';
export * from './artifact-bucket';
export * from './bucket-replication';
