export * from './paging-topic';
export * from './region-alarms';
