export * from './clickhouse-chart';
export * from './clickhouse-region';
export * from './schema';
export * from './scripts';
export * from './security';
export * from './topology';
export * from './types';
