export * from './dr-metrics';
export * from './fault-injection';
export * from './game-days';
export * from './paging-topic';
export * from './region-alarms';
export * from './region-dashboard';
export * from './tier-dashboard';
