export * from './batch-compute';
export * from './retry-strategy';
export * from './training-job-definition';
