/**
 * Typed configuration of the platform. `bin/platform.ts` builds exactly one `PlatformConfig` from
 * CDK context; stacks and the region assemblies they compose (the `*Region` classes, the region's
 * operations) read it, resource constructs never do: they take typed props, whose types the
 * config reuses where it holds the same shape.
 *
 * Every number lives in `tiers.ts`, next to the seed design document it comes from.
 */

import type { ArtifactLifecycleProps } from '../../constructs/artifacts';
import type { TieredBackupSchedule, VaultLock } from '../../constructs/backup';
import type { JobQueueSpec, JobRetryBudgets } from '../../constructs/batch';
import type { NodeGroupSpec } from '../../constructs/eks';
import type { FeatureTableCapacity, FeatureTableSpec } from '../../constructs/feature-store';
import type { KafkaTopicSpec } from '../../constructs/kafka';
import type { ContainerResources, HealthProbe, ServiceAutoscaling } from '../../constructs/workloads/types';

export type TierName = 'dev' | 'tier1' | 'tier2' | 'tier3';

/** Recovery time and recovery point objectives for one failure scenario. */
export interface RecoveryObjective {
  readonly rtoSeconds: number;
  readonly rpoSeconds: number;
}

export interface RecoveryObjectives {
  /** One availability zone fails. */
  readonly availabilityZone: RecoveryObjective;
  /** The primary region fails and a secondary takes over. */
  readonly region: RecoveryObjective;
  /** Duration of the seeds' manual region runbooks, the baseline automation must beat. */
  readonly manualRegionRunbookSeconds: number;
  /** How an unplanned region failover gets started after the fault: counted in the RTO from the fault. */
  readonly regionFailoverStart: RegionFailoverStart;
}

/**
 * An operator starts the unplanned failover, paged by the alarm on the primary's Route 53 health
 * check, once the check has failed for `sustainedFailureSeconds`, within `decisionSeconds`.
 */
export interface OperatorStart {
  readonly kind: 'operator';
  /** How long the primary's health check must have been failing before a failover is started. */
  readonly sustainedFailureSeconds: number;
  /** The on-call engineer's budget to confirm and start the runbook once that holds. */
  readonly decisionSeconds: number;
}

/**
 * The primary's successor starts the unplanned failover itself: its watchdog sees the primary's write
 * lease stale in a majority of the tier's state tables and the primary's write gate not answering,
 * a composite alarm of the two goes to ALARM, and an EventBridge rule on it starts RegionFailover
 * there (`startedBy: automatic`), which refuses unless both still hold (Preflight). Disabling the
 * rule (`mlp-<tier>-<code>-automatic-failover`) switches it off; the operator path remains.
 */
export interface AutomaticStart {
  readonly kind: 'automatic';
}

export type RegionFailoverStart = OperatorStart | AutomaticStart;

export interface NetworkSizing {
  /** NAT gateways per VPC; 3 puts one in every AZ so an AZ loss never cuts egress. */
  readonly natGateways: number;
  /** Retention of VPC flow logs, in days. */
  readonly flowLogRetentionDays: number;
}

export type PostgresReplicaRole = 'scheduler-polling' | 'status-api' | 'analytics';

export interface PostgresSizing {
  /** PostgreSQL major version; replicas always follow their source. */
  readonly engineMajorVersion: '16' | '17';
  /** RDS instance class without the `db.` prefix, e.g. `m7g.2xlarge`. */
  readonly instanceClass: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling. */
  readonly maxAllocatedStorageGiB: number;
  readonly maxConnections: number;
  /** In-region read replicas, one entry per replica, named by the traffic it serves. */
  readonly readReplicaRoles: readonly PostgresReplicaRole[];
  /** Put RDS Proxy (the seeds' PgBouncer) in front of the primary. */
  readonly connectionPooler: boolean;
  readonly backupRetentionDays: number;
  /** Make each cross-region replica Multi-AZ, so a promoted replica is highly available at once. */
  readonly crossRegionReplicaMultiAz: boolean;
}

/**
 * What serves the platform's PostgreSQL:
 * - `aurora-postgresql-global`: an Aurora PostgreSQL global database, one cluster per region; a
 *   managed switchover or failover moves the writer, and no template names it;
 * - `rds-postgresql`: an RDS instance in the home region and cross-region read replicas, promoted by
 *   the runbooks and re-protected by new replica generations.
 */
export type DatabaseEngine = 'aurora-postgresql-global' | 'rds-postgresql';

export interface AuroraSizing {
  /** Aurora PostgreSQL `<major>.<minor>`; every cluster of the global database runs it. */
  readonly engineVersion: string;
  /** Memory-optimized instance class without `db.` (an Aurora global database requires one). */
  readonly instanceClass: string;
}

export interface DatabaseChoice {
  /** The tier's engine unless `-c databaseEngine` says otherwise. */
  readonly engine: DatabaseEngine;
  /** Sizing when the engine is Aurora; `postgres` gives the rest (connections, read roles, pooler, backups). */
  readonly aurora: AuroraSizing;
}

export interface ClickHouseTopology {
  readonly shards: number;
  readonly replicasPerShard: number;
  readonly nodeVcpus: number;
  readonly nodeMemoryGiB: number;
  readonly nodeStorageGiB: number;
  /** EBS volume type of the data volumes. */
  readonly storageVolumeType: 'gp3' | 'io2';
  readonly keeperNodes: number;
  readonly backupRetentionDays: number;
  /** EventBridge-style cron of the daily backup, as a Kubernetes CronJob schedule (UTC). */
  readonly backupSchedule: string;
}

export type KafkaReplicationMode = 'msk-replicator' | 'mirrormaker2';

export interface KafkaSizing {
  /** Broker count; a multiple of the three AZs. */
  readonly brokers: number;
  /** MSK broker instance type, e.g. `kafka.m7g.xlarge`. */
  readonly brokerInstanceType: string;
  /** MSK Kafka version. */
  readonly kafkaVersion: string;
  readonly brokerStorageGiB: number;
  /** Storage auto scaling ceiling per broker. */
  readonly maxBrokerStorageGiB: number;
  /** Disk utilisation storage auto scaling keeps brokers at. */
  readonly storageUtilizationTargetPercent: number;
  readonly defaultReplicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly retentionHours: number;
  readonly topics: readonly KafkaTopicSpec[];
  readonly replicationMode: KafkaReplicationMode;
  /** MirrorMaker 2 tasks per flow when `replicationMode` is `mirrormaker2`. */
  readonly mirrorMakerTasks: number;
}

/** The cache: always Valkey (`CacheCluster`), Redis OSS-compatible, with Global Datastore support and a lower node price. */
export interface RedisSizing {
  /** Engine version; a global datastore's members share it. */
  readonly engineVersion: string;
  /** ElastiCache node type; global datastores need M5/R5 or newer (no T-family). */
  readonly nodeType: string;
  readonly shards: number;
  readonly replicasPerShard: number;
  /** Memory the cluster is sized to hold. */
  readonly targetMemoryGiB: number;
  readonly snapshotRetentionDays: number;
  readonly cacheTtlSeconds: number;
}

/** The online feature store: its tables and their capacity, in the feature keyspace's own terms. */
export interface FeatureStoreSizing {
  readonly capacity: FeatureTableCapacity;
  readonly tables: readonly FeatureTableSpec[];
}

export interface BatchSizing {
  readonly cpuInstanceTypes: readonly string[];
  readonly cpuMaxVcpus: number;
  readonly gpuInstanceTypes: readonly string[];
  readonly gpuMaxVcpus: number;
  readonly spotMaxVcpus: number;
  readonly queues: readonly JobQueueSpec[];
  /** Root volume of every Batch instance; it also holds the (large) job images. */
  readonly rootVolumeGiB: number;
  /** Resources of the training-step job definition template. */
  readonly trainingJob: {
    readonly vcpus: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly timeoutHours: number;
  };
  /** Job retry attempts by failure class. */
  readonly retries: JobRetryBudgets;
}

export type ServiceName =
  | 'tracking-server'
  | 'registry-api'
  | 'metadata-service'
  | 'metaflow-worker'
  | 'query-api'
  | 'collector'
  | 'prediction-service'
  | 'evaluation-worker';

/** The platform services' sizing, in the shapes the workload constructs take (`constructs/workloads`). */
export interface WorkloadSizing {
  readonly services: Readonly<Record<ServiceName, ServiceAutoscaling>>;
  /** Requests of each service's container, and of the scheduler's; limits are derived (memory limit = request, CPU limit = 2x request). */
  readonly resources: Readonly<Record<ServiceName | 'scheduler', ContainerResources>>;
  /** Tag of every platform image in the region's ECR repositories (immutable tags). */
  readonly imageTag: string;
  readonly scheduler: {
    /** One leader plus standbys, elected through a Kubernetes Lease. */
    readonly replicas: number;
    readonly leaseDurationSeconds: number;
  };
  readonly probe: HealthProbe;
}

export interface EksSizing {
  /** Kubernetes minor version; the kubectl layer must match it. */
  readonly kubernetesVersion: '1.36';
  /** Cluster add-ons and controllers (CoreDNS, KEDA, load balancer controller). */
  readonly system: NodeGroupSpec;
  /** Platform services. */
  readonly general: NodeGroupSpec;
  /** ClickHouse and other memory-bound stores. */
  readonly memoryOptimized: NodeGroupSpec;
  /** Tainted GPU nodes for GPU inference; absent where the tier runs none. */
  readonly gpu?: NodeGroupSpec;
}

export interface RoutingSettings {
  readonly healthCheckIntervalSeconds: 10 | 30;
  readonly healthCheckFailureThreshold: number;
  /** TTL of the read hosts' latency records. */
  readonly recordTtlSeconds: number;
  /** TTL of the write hosts' failover records: how long a client keeps writing where the name pointed. */
  readonly writeRecordTtlSeconds: number;
}

/** Protection of the regional API load balancers (the web ACL). */
export interface IngressProtection {
  /** Requests one client IP address may send in any 5-minute window before WAF blocks it. */
  readonly requestsPerIpPer5Minutes: number;
}

export interface DrillCadence {
  /** EventBridge Scheduler expression (UTC) of the read-only preflight every secondary region runs of a failover to itself. */
  readonly preflight: string;
  readonly regionFailoverDrill: string;
  readonly chaosExercise: string;
}

/**
 * Versions of the third-party images the platform runs, mirrored into the region's ECR (an
 * operator pushes them; nothing is pulled from public registries at run time).
 */
export interface ThirdPartyImages {
  readonly clickhouse: string;
  readonly clickhouseKeeper: string;
  readonly clickhouseBackup: string;
  /** Apache Kafka with the aws-msk-iam-auth jar, for MirrorMaker 2 and the topic job. */
  readonly kafkaTools: string;
}

/** What the paging alarms hold each region to (`constructs/operations`), beside the RPO and RTO. */
export interface AlarmThresholds {
  /** A database's CPU above this, in percent, for `databaseMinutes` pages. */
  readonly databaseCpuPercent: number;
  /** A database's connections above this share of its `max_connections`, in percent. */
  readonly databaseConnectionsPercent: number;
  /** An RDS instance's storage used above this share of its allocation, in percent (Aurora's grows by itself). */
  readonly databaseStorageUsedPercent: number;
  readonly databaseMinutes: number;
  /** The API's 5xx responses above this share of its requests, in percent, for `apiErrorMinutes`. */
  readonly apiErrorRatePercent: number;
  readonly apiErrorMinutes: number;
  /** The API's p99 response time above this, in seconds, for `apiLatencyMinutes`. */
  readonly apiLatencyP99Seconds: number;
  readonly apiLatencyMinutes: number;
  /** Messages an MSK Replicator may lag behind its source before it pages. */
  readonly kafkaReplicatorMessageLag: number;
}

/** Everything that differs between capacity tiers. */
export interface TierPreset {
  readonly name: TierName;
  readonly description: string;
  /** Regions used when `-c regions` is not given; the first is the primary. */
  readonly defaultRegions: readonly string[];
  /**
   * The witness of a two-region deployment (`-c witnessRegion`, `none` for none): a third region
   * holding only a runbook state table, so the tier's lock and write lease are taken in a majority of
   * three tables. Ignored from three regions on, where the regions themselves make a majority.
   */
  readonly defaultWitnessRegion: string;
  /**
   * Whether the tier runs game days unless `-c gameDays` says otherwise: the scheduled planned
   * switchover and its failback (`drills.regionFailoverDrill`), the AZ failover after an injected
   * database failover (`drills.chaosExercise`), and the AWS FIS experiment templates in the primary.
   */
  readonly defaultGameDays: boolean;
  readonly recovery: RecoveryObjectives;
  readonly network: NetworkSizing;
  readonly postgres: PostgresSizing;
  readonly database: DatabaseChoice;
  readonly clickhouse: ClickHouseTopology;
  readonly kafka: KafkaSizing;
  readonly redis: RedisSizing;
  readonly featureStore: FeatureStoreSizing;
  readonly eks: EksSizing;
  readonly batch: BatchSizing;
  readonly workloads: WorkloadSizing;
  readonly backups: TieredBackupSchedule;
  readonly artifacts: ArtifactLifecycleProps;
  readonly images: ThirdPartyImages;
  readonly routing: RoutingSettings;
  readonly ingress: IngressProtection;
  readonly drills: DrillCadence;
  readonly alarms: AlarmThresholds;
}

/** One region of a deployment, with everything derived for it. */
export interface RegionPlan {
  readonly name: string;
  readonly code: string;
  readonly availabilityZones: readonly [string, string, string];
  /** Holds the writable primary now (`-c primaryRegion`); changes with a failover. */
  readonly isPrimary: boolean;
  /**
   * The first region of `-c regions`. It owns the stores that exist once per deployment (the
   * feature keyspace, the cache's global datastore) whatever region is the primary, so a failover
   * never moves a resource between stacks.
   */
  readonly isHome: boolean;
  /** VPC CIDR, unique across every region and tier of the address plan. */
  readonly vpcCidr: string;
}

/** AWS Backup Vault Lock, as the backup plan's `vaultLock` takes it. */
export type BackupVaultLockMode = VaultLock;

/**
 * What a region's database is now, as deployed:
 * - `primary`: the writable primary (created as one, or a promoted replica);
 * - `replica`: a cross-region replica of the primary;
 * - `stale-replica`: a replica of an instance that is no longer the primary (re-point it);
 * - `former-primary`: once the primary, now fenced and replicating nothing (re-protect the region).
 */
export type DatabaseRole = 'primary' | 'replica' | 'stale-replica' | 'former-primary';

/** One RDS instance of a region's lineage. Generation 1 is the region's first. */
export interface DatabaseGeneration {
  readonly region: string;
  readonly regionCode: string;
  readonly generation: number;
  readonly instanceIdentifier: string;
  /** The instance this one was created as a replica of; absent for the home region's first primary. */
  readonly createdFrom?: { readonly region: string; readonly instanceIdentifier: string };
  readonly role: DatabaseRole;
}

/** The databases a region's data stack holds. */
export interface RegionDatabases {
  /** The newest generation: the region's database in every runbook and client. */
  readonly current: DatabaseGeneration;
  /** Older generations kept (retained and protected) until `-c retiredDatabases` names them. */
  readonly retained: readonly DatabaseGeneration[];
}

/** By region name. */
export type DatabaseTopology = Readonly<Record<string, RegionDatabases>>;

export interface PlatformConfig {
  readonly tier: TierPreset;
  /** What serves PostgreSQL: the tier's engine unless `-c databaseEngine`. */
  readonly databaseEngine: DatabaseEngine;
  /** How Kafka topics reach the secondaries; the tier preset's mode unless `-c kafkaReplicationMode`. */
  readonly kafkaReplicationMode: KafkaReplicationMode;
  /**
   * Whether cross-region Kafka replication is deployed. MSK cannot create a cluster with multi-VPC
   * connectivity (which MSK Replicator needs on its source), so a tier's first deployment runs with
   * `-c kafkaReplication=off` and the next one turns it on.
   */
  readonly kafkaReplication: boolean;
  /** IAM roles granted cluster-admin on every EKS cluster through access entries; may be empty. */
  readonly eksAdminRoleArns: readonly string[];
  /**
   * `-c onCallPrincipals`: the principals (account roots, roles, users) that may assume each region's
   * on-call role; empty means this account's root, i.e. any principal of the account its own policy lets.
   */
  readonly onCallPrincipalArns: readonly string[];
  /** Vault Lock on every region's backup vault; `off` unless `-c backupVaultLock` says otherwise. */
  readonly backupVaultLock: BackupVaultLockMode;
  readonly account: string;
  /** True when `account` is the synth-only placeholder; such an app must not be deployed. */
  readonly accountIsPlaceholder: boolean;
  /** Regions in home order (`-c regions`); `regions[0]` is the home region. */
  readonly regions: readonly RegionPlan[];
  /** The region that holds the writable primary; `regions[0]` unless `-c primaryRegion`. */
  readonly primaryRegion: RegionPlan;
  /**
   * A two-region deployment's witness region (a runbook state table and its key, nothing else), so
   * the runbook lock and the write lease are majorities of three tables; absent from three regions
   * on, or with `-c witnessRegion=none`.
   */
  readonly witnessRegion?: RegionPlan;
  /** Game days (scheduled drills and FIS experiment templates): the tier's default unless `-c gameDays=on|off`. */
  readonly gameDays: boolean;
  /** `-c rebuiltReplicas`: each region put back under replication, and its source, oldest first. */
  readonly rebuiltReplicas: readonly { readonly region: string; readonly source: string }[];
  /** `-c retiredDatabases`: older database generations removed from their stacks. */
  readonly retiredDatabases: readonly string[];
  /** Each region's databases, from `-c primaryRegion`, `-c rebuiltReplicas` and `-c retiredDatabases`. */
  readonly databases: DatabaseTopology;
  readonly domain: string;
  readonly hostedZoneId: string;
}
