export * from './backup';
export * from './certificates';
export * from './clickhouse-charts';
export * from './clickhouse-region';
export * from './jobs';
export {
  CLICKHOUSE_UID,
  DEFAULT_DATABASE,
  DEFAULT_KEEPER_NODE_POOL,
  DEFAULT_NODE_POOL,
  DEFAULT_NODE_POOL_LABEL,
  DEFAULT_UTILITY_NODE_POOL,
  HOSTNAME_KEY,
  NAME_LABEL,
  SERVER_APP,
  SHARD_LABEL,
  ZONE_KEY,
} from './k8s';
export * from './keeper';
export * from './network-policies';
export * from './schema';
export * from './schema-job';
export * from './scripts';
export * from './security';
export * from './server';
export * from './server-config';
export * from './topology';
export * from './types';
