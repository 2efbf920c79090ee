export * from './access';
export * from './client-config';
export { KAFKA_TOOLS_UID, type KafkaToolProps } from './k8s';
export * from './mirror-maker';
export * from './msk-cluster';
export * from './msk-replicator';
export * from './topics';
export * from './topics-job';
export * from './vpc-peering';
