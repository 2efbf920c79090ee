export * from './leader-elected-scheduler';
export * from './platform-charts';
export * from './platform-service';
export * from './platform-workload';
export * from './target-group-binding';
export * from './types';
export * from './workloads-region';
