export * from './clickhouse-chart';
export * from './schema';
export * from './scripts';
export * from './topology';
export * from './types';
