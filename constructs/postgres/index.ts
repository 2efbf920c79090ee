export * from './aurora-global-database';
export * from './cross-region-read-replica';
export * from './database-bootstrap';
export * from './iam-auth-proxy';
export * from './instance-support';
export * from './postgres-database';
export * from './primary-read-scaling';
export * from './regional-database';
