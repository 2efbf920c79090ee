export * from './failover-record-chain';
export * from './global-traffic-routing';
export * from './host-names';
export * from './latency-records';
export * from './regional-health-checks';
export { MAX_RECORD_TTL_SECONDS } from './validation';
export * from './write-gates';
