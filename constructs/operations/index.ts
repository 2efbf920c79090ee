export * from './api-operations';
export * from './database-alarms';
export * from './dr-metrics';
export * from './paging-topic';
export * from './region-alarms';
export * from './region-dashboard';
export * from './replication-alarms';
export * from './tier-dashboard';
