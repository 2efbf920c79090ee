export * from './compute-stack';
export * from './data-stack';
export * from './global-stack';
export * from './network-stack';
export * from './regional-stack';
export * from './resilience-stack';
export * from './witness-stack';
