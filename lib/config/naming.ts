import type { TierName } from './types';

/**
 * Names shared across regions. Stacks in different regions never hold references to each other
 * (no `crossRegionReferences`); they agree on these names instead.
 */
export type RegionalLayer = 'network' | 'data' | 'compute' | 'resilience' | 'witness';

/** `Mlp-<tier>-<regionCode>-<layer>`, e.g. `Mlp-tier1-use1-network`. */
export function regionalStackName(tier: TierName, regionCode: string, layer: RegionalLayer): string {
  return `Mlp-${tier}-${regionCode}-${layer}`;
}

/** `Mlp-<tier>-global`, deployed in us-east-1. */
export function globalStackName(tier: TierName): string {
  return `Mlp-${tier}-global`;
}

/**
 * Artifact bucket of one region. A physical name because replication rules in other regions must
 * name it; account and region make it globally unique.
 */
export function artifactBucketName(tier: TierName, account: string, region: string): string {
  return `mlp-${tier}-artifacts-${account}-${region}`;
}

/**
 * Alias of the regional data key. S3 replication names the destination region's key by this alias,
 * because the key id itself is only known after that region deploys.
 */
export function dataKeyAlias(tier: TierName): string {
  return `alias/mlp-${tier}-data`;
}

/** Prefix of every SSM parameter the platform publishes for its runbooks, e.g. `/mlp/tier1/`. */
export function parameterPrefix(tier: TierName): string {
  return `/mlp/${tier}`;
}

/*
 * Physical names of the data stores. Each is fixed because another region or a runbook must name
 * the resource without holding a reference to it: a cross-region replica names its source's ARN,
 * a Global Datastore member names the global group, a backup copy names the destination vault.
 * Names carry the region code so that a store keeps its name when it changes role in a failover.
 */

/**
 * RDS instance of a region, of any role. Generation 1 is the region's first instance; a region put
 * back under replication after a failover gets a new instance (promotion is one-way), whose name
 * must not collide with the retained old one: `mlp-<tier>-pg-<code>-g<n>`.
 */
export function postgresInstanceId(tier: TierName, regionCode: string, generation = 1): string {
  if (!Number.isInteger(generation) || generation < 1) throw new Error(`generation must be a positive integer, got ${generation}`);
  return `mlp-${tier}-pg-${regionCode}${generation === 1 ? '' : `-g${generation}`}`;
}

/** The Aurora global database of a tier; its global writer endpoint starts with this name. */
export function postgresGlobalClusterId(tier: TierName): string {
  return `mlp-${tier}-pg-global`;
}

/** The Aurora cluster of a region in the tier's global database (cluster names are unique across regions). */
export function postgresClusterId(tier: TierName, regionCode: string): string {
  return `mlp-${tier}-pg-${regionCode}`;
}

/** Instance `index` (1 or 2) of a cluster's writer pair, e.g. `mlp-tier1-pg-use1-1`. */
export function postgresWriterPairId(clusterId: string, index: 1 | 2): string {
  return `${clusterId}-${index}`;
}

/** Secrets Manager name of an Aurora global database's master user (break-glass; clients use IAM). */
export function postgresMasterSecretName(tier: TierName): string {
  return `mlp/${tier}/postgres-master`;
}

/** Tag on every resource of one database generation: its instance identifier. */
export const DATABASE_TAG = 'mlp:database';

/** In-region read replica `index` (from 1) of a primary serving `role`, e.g. `mlp-tier1-pg-use1-status-api-1`. */
export function postgresReadReplicaId(primaryInstanceId: string, role: string, index: number): string {
  return `${primaryInstanceId}-${role}-${index}`;
}

/** ElastiCache replication group of a region. */
export function cacheReplicationGroupId(tier: TierName, regionCode: string): string {
  return `mlp-${tier}-cache-${regionCode}`;
}

/**
 * Tag on each region's replication group: its id. AWS FIS selects replication groups by tag only, and
 * CloudFormation does not propagate stack tags to `AWS::ElastiCache::ReplicationGroup`
 * (cloudformation-coverage-roadmap issues 2009 and 2125), so the group carries this one itself.
 */
export const CACHE_TAG = 'mlp:cache';

/** Suffix of the Global Datastore id; ElastiCache prepends a prefix of its own. */
export function cacheGlobalDatastoreSuffix(tier: TierName): string {
  return `mlp-${tier}-cache`;
}

/** Multi-Region Keyspaces keyspace of the online feature store (letters, digits, underscores). */
export function featureKeyspaceName(tier: TierName): string {
  return `mlp_${tier}_features`;
}

/** AWS Backup vault, the same name in every region so a copy rule can name the next region's. */
export function backupVaultName(tier: TierName): string {
  return `mlp-${tier}-backup`;
}

/**
 * SSM parameters each region publishes for its runbooks, as `/mlp/<tier>/<component>/<key>`.
 * The runbooks read them from the region they run in; every value describes that region's store.
 */
export const RUNBOOK_PARAMETERS = {
  postgres: [
    'instance-id', // the region's current RDS instance, of any role
    'instance-arn',
    'role', // primary, replica, stale-replica or former-primary, as deployed (a runbook changes the truth first)
    'generation', // 1 for the region's first instance; one more for each rebuilt replica
    'endpoint', // host:port of the instance
    'source-arn', // the instance it was created as a replica of, or `none`
    'retained-instance-ids', // older generations kept until retired, comma-separated, or `none`
    'master-secret-arn', // the home region's first instance only: the RDS-managed master user secret
    'proxy-endpoint', // beside the primary, with a pooler only
    'read-replica-ids', // beside the primary only: comma-separated in-region replica ids
    'engine', // aurora-postgresql-global or rds-postgresql
    'cluster-id', // Aurora: the region's cluster of the global database
    'cluster-arn', // Aurora
    'global-cluster-id', // Aurora: the global database
    'reader-endpoint', // Aurora: host:port of the region's cluster reader endpoint
    'writer-endpoint', // Aurora: host:port of the global writer endpoint, which follows the writer (what services write through)
  ],
  topology: [
    'primary-region', // -c primaryRegion as deployed
    'regions', // -c regions, home first
    'rebuilt-replicas', // -c rebuiltReplicas as deployed, or `none`
  ],
  redis: [
    'replication-group-id',
    'configuration-endpoint',
    'global-datastore-id',
    'role',
    'application-user-id', // the RBAC user the platform's clients authenticate as; the runbooks fence the cache through it
  ],
  'feature-store': ['keyspace', 'tables', 'regions'],
  backup: ['vault-name', 'plan-id', 'copy-region'],
  network: ['vpc-id', 'route-table-ids'],
  compute: ['cluster-name', 'api-host', 'load-balancer-arn', 'batch-queues'],
  kafka: [
    'cluster-arn',
    'bootstrap-brokers', // IAM (SASL/SCRAM-free) TLS bootstrap string
    'replication-source', // what a secondary needs to replicate this cluster: `<arn>|<subnet,...>|<security group>`
    'replication-mode', // `msk-replicator` or `mirrormaker2`
    'replicator-arns', // MSK Replicator mode: the flows into this region's cluster, comma-separated
  ],
  clickhouse: ['namespace', 'service', 'cluster', 'backup-location'],
  runbooks: ['region-failover', 'failback', 'az-failover'], // state machine ARNs, in the resilience stack
  operations: [
    'paging-topic-arn', // the region's paging topic, which operators subscribe the on-call channel to
    'on-call-role-arn', // the region's on-call role: start and stop its runbooks, read their reports and dashboards
  ],
} as const;

export type RunbookParameterComponent = keyof typeof RUNBOOK_PARAMETERS;
export type RunbookParameterKey<C extends RunbookParameterComponent> = (typeof RUNBOOK_PARAMETERS)[C][number];
/** Values of some of one component's runbook parameters, by key, as a construct offers them for its stack to publish. */
export type RunbookParameters<C extends RunbookParameterComponent> = Partial<Record<RunbookParameterKey<C>, string>>;

/** Name of one runbook parameter, e.g. `/mlp/tier1/postgres/instance-id`. */
export function runbookParameterName<C extends RunbookParameterComponent>(
  tier: TierName,
  component: C,
  key: RunbookParameterKey<C>,
): string {
  return `${parameterPrefix(tier)}/${component}/${key}`;
}

/**
 * Host names under the platform domain and the service behind each. Write (control-plane) hosts fail
 * over from the primary region; read hosts are served active-active by the nearest healthy region.
 */
export const SERVICE_HOSTS = {
  tracking: 'tracking-server',
  registry: 'registry-api',
  metadata: 'metadata-service',
  scheduler: 'scheduler',
  ingest: 'collector',
  prediction: 'prediction-service',
  query: 'query-api',
} as const;
export type ServiceHost = keyof typeof SERVICE_HOSTS;
export const WRITE_HOSTS: readonly ServiceHost[] = ['tracking', 'registry', 'metadata', 'scheduler', 'ingest'];
export const READ_HOSTS: readonly ServiceHost[] = ['prediction', 'query'];

/** MSK cluster of a region. */
export function kafkaClusterName(tier: TierName, regionCode: string): string {
  return `mlp-${tier}-${regionCode}`;
}

/** EKS cluster of a region. */
export function clusterName(tier: TierName, regionCode: string): string {
  return `mlp-${tier}-${regionCode}`;
}

/** Kubernetes namespace of the platform services. */
export const PLATFORM_NAMESPACE = 'mlp';

/** The runbooks, as their state machines are named (`mlp-<tier>-<runbook>`). */
export const RUNBOOK_NAMES = ['region-failover', 'failback', 'az-failover'] as const;
export type RunbookName = (typeof RUNBOOK_NAMES)[number];

/**
 * Each runbook state machine's `TimeoutSeconds`: Step Functions ends an execution still running then
 * (`TIMED_OUT`). The tier lock relies on it to take over from an owner whose region does not answer.
 */
export const RUNBOOK_TIMEOUT_SECONDS: Readonly<Record<RunbookName, number>> = {
  'region-failover': 3_600,
  failback: 3 * 3_600,
  'az-failover': 3_600,
};

/** The DR runbooks of one region, as every region and Route 53 name them (fixed, so no reference crosses regions). */
export const runbookNames = {
  /** The DR state table of each region: lock, epoch, write gate, primary. */
  stateTable: (tier: string) => `mlp-${tier}-dr-state`,
  /** A runbook's state machine, the same name in every region. */
  stateMachine: (tier: string, runbook: RunbookName) => `mlp-${tier}-${runbook}`,
  /** Alias of each region's runbook key (state table, logs, report topic): other regions' runbooks name it by alias. */
  runbookKeyAlias: (tier: string) => `alias/mlp-${tier}-runbooks`,
  /** The function other regions invoke to act on this region's databases. */
  databaseAgent: (tier: string) => `mlp-${tier}-dr-database-agent`,
  /** The schedule that runs a region's read-only preflight every day. */
  dailyPreflight: (tier: string, regionCode: string) => `mlp-${tier}-${regionCode}-daily-preflight`,
  /** The alarm on it: the region is not ready to take over, or its preflight did not run. */
  preflightNotReadyAlarm: (tier: string, regionCode: string) => `mlp-${tier}-${regionCode}-preflight-not-ready`,
} as const;

/** The RBAC user the platform's clients authenticate to each region's cache as (a user is regional: one per region, same id). */
export const cacheApplicationUser = (tier: string) => `mlp-${tier}-app`;

/**
 * The access strings of a cache's application user (ElastiCache RBAC). `fenced` turns it off (no new
 * authentication) and takes every command away, which Valkey applies to connections already open:
 * the regional control plane's `ModifyUser` fences a cache no client can lift.
 */
export const CACHE_ACCESS = {
  application: 'on ~* &* +@all -@admin -@dangerous',
  fenced: 'off ~* &* -@all',
} as const;

/** Where each region's API name answers for its write gate (`ServeWriteGate`), for Route 53's write-gate check. */
export const WRITE_GATE_PATH = '/write-gate';

/** The CloudWatch metric a region's write gate is published as; its namespace holds every DR metric of the runbooks. */
export const WRITE_GATE_METRIC = { namespace: 'MLP/DR', metricName: 'WriteGateOpen' } as const;

/** What the heartbeat writer publishes once a run while its region holds the primary (dimensions Tier, Region): rows acknowledged. */
export const HEARTBEAT_METRIC = { namespace: WRITE_GATE_METRIC.namespace, metricName: 'HeartbeatsWritten' } as const;

/** What a preflight-only run of RegionFailover publishes (dimensions Tier, Region): 1 when the region could take over, else 0. */
export const PREFLIGHT_METRIC = { namespace: WRITE_GATE_METRIC.namespace, metricName: 'PreflightReady' } as const;
