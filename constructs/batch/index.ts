export * from './batch-compute';
export * from './pipeline-batch';
export * from './retry-strategy';
export * from './training-job-definition';
