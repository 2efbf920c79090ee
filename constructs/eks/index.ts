export * from './karpenter';
export * from './platform-cluster';
