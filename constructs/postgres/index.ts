export * from './cross-region-read-replica';
export * from './instance-support';
export * from './postgres-database';
