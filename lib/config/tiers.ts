import type { KafkaTopicSpec } from '../../constructs/kafka';
import type { ServiceAutoscaling } from '../../constructs/workloads/types';
import type {
  BatchSizing,
  FeatureStoreSizing,
  OperatorStart,
  RecoveryObjectives,
  ServiceName,
  TierName,
  TierPreset,
  WorkloadSizing,
} from './types';

/*
 * Capacity tier presets.
 *
 * Sources, cited beside each number:
 *   [000] seeds/000: experiment tracking + model registry + pipeline scheduler
 *   [001] seeds/001: feature store + prediction service
 *   [002] seeds/002: Metaflow-style pipelines
 *   [003] seeds/003: distributed job scheduler
 *   [004] seeds/004: LLM observability
 *   [ours] a platform decision where the seeds give no number; the reason is stated.
 *
 * Seed 000's "Tier 1/2/3" (run volume) are the capacity tiers tier1/tier2/tier3. `dev` is ours: the
 * smallest footprint that still exercises every component and every DR path.
 */

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How the seeds start a region failover: an operator, on the primary's health check. */
export const OPERATOR_START: OperatorStart = {
  kind: 'operator',
  sustainedFailureSeconds: 5 * MINUTE, // [000], [004] trigger: "Primary region health check fails for > 5 minutes"
  decisionSeconds: 5 * MINUTE, // [004] "Failover approved by on-call lead": a stated budget (paged, acknowledged, approved), no seed figure
};

/** The strictest objective any seed sets for each scenario. */
const RECOVERY: RecoveryObjectives = {
  availabilityZone: { rtoSeconds: 2 * MINUTE, rpoSeconds: 0 }, // [000] AZ failure: RTO 2 min, RPO 0
  region: { rtoSeconds: 5 * MINUTE, rpoSeconds: 1 * MINUTE }, // [003] RTO 5 min, RPO 1 min (stricter than [000] 15/5 min)
  manualRegionRunbookSeconds: 23 * MINUTE, // [004] manual region failover runbook: 23 minutes
  regionFailoverStart: OPERATOR_START,
};

/**
 * [ours] Tiers 1-3 start a region failover automatically: [003]'s 5-minute RTO leaves no room for the
 * seeds' operator trigger (the check failing for 5 minutes, [000], [004]) and an approval. dev keeps
 * the operator's start, as the seeds run it.
 */
const AUTOMATIC_RECOVERY: RecoveryObjectives = { ...RECOVERY, regionFailoverStart: { kind: 'automatic' } };

const TOPIC_RETENTION_HOURS = 7 * 24; // [003] retention_ms 604800000 (7 days); [004] Kafka topics 7 days

function topics(llmSpanPartitions: number, jobTaskPartitions: number): KafkaTopicSpec[] {
  return [
    {
      name: 'job-tasks', // [003] Kafka topic configuration
      partitions: jobTaskPartitions, // [003] 100 partitions
      replicationFactor: 3, // [003] replication_factor 3
      minInsyncReplicas: 2, // [003] min_insync_replicas 2
      retentionHours: TOPIC_RETENTION_HOURS,
    },
    {
      name: 'llm-spans', // [004] trace/span ingestion topic (collectors -> Kafka -> ClickHouse)
      partitions: llmSpanPartitions, // [004] capacity plan: 100 / 300 / 800 partitions in years 1 / 2 / 3
      replicationFactor: 3, // [004] Kafka 3x replication
      minInsyncReplicas: 2, // [003] min ISR 2 (seed 004 gives none; keep one policy)
      retentionHours: TOPIC_RETENTION_HOURS,
    },
    {
      name: 'llm-evaluation-results', // [004] evaluation results, sharded by trace_id downstream
      // [ours] evaluation results are ~1/4 of span volume, so a quarter of the span partitions.
      partitions: Math.max(3, Math.round(llmSpanPartitions / 4)),
      replicationFactor: 3, // [004]
      minInsyncReplicas: 2, // [003]
      retentionHours: TOPIC_RETENTION_HOURS,
    },
  ];
}

/** HPA behaviour shared by the request-serving services of seed 000. */
const TRACKING_BEHAVIOUR = {
  // [000] tracking-server-hpa behavior: scaleUp 100 % / 60 s after 60 s stabilisation
  scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 100, periodSeconds: 60 }] },
  // [000] scaleDown 10 % / 60 s after 300 s stabilisation
  scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
} as const satisfies Pick<ServiceAutoscaling, 'scaleUp' | 'scaleDown'>;

const SEED_SERVICES: Record<ServiceName, ServiceAutoscaling> = {
  // [000] tracking server: 3-50 instances, CPU > 70 % or QPS > 10K/instance
  'tracking-server': {
    minReplicas: 3,
    maxReplicas: 50,
    cpuTargetPercent: 70,
    requestsPerSecondPerPod: 10_000,
    ...TRACKING_BEHAVIOUR,
  },
  // [000] registry API: 2-20 instances, CPU > 70 %
  'registry-api': { minReplicas: 2, maxReplicas: 20, cpuTargetPercent: 70 },
  // [002] metadata service: horizontal on CPU > 70 %; 3 instances behind the ALB in the seed's diagram.
  // [ours] max 30: the seed gives no ceiling; 10x the baseline.
  'metadata-service': { minReplicas: 3, maxReplicas: 30, cpuTargetPercent: 70 },
  // [002] metaflow-worker HPA: 5-500, CPU 70 %
  'metaflow-worker': { minReplicas: 5, maxReplicas: 500, cpuTargetPercent: 70 },
  // [004] query-api-hpa: 5-50, CPU 70 %, 5000 rps/pod, +4 pods/60 s after 60 s, -10 %/60 s after 300 s
  'query-api': {
    minReplicas: 5,
    maxReplicas: 50,
    cpuTargetPercent: 70,
    requestsPerSecondPerPod: 5000,
    scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
  },
  // [004] collectors: scale when QPS > 10K/instance; 60K QPS per ingestion cluster -> 6 instances;
  // year-3 peak 400K QPS -> 40 instances.
  collector: { minReplicas: 6, maxReplicas: 40, cpuTargetPercent: 70, requestsPerSecondPerPod: 10_000 },
  // [001] prediction service: min 10, max 1000, CPU > 70 %, scale out above 40 000 QPS/instance,
  // cooldown 5 minutes. Tier overrides are applied per preset below.
  'prediction-service': {
    minReplicas: 10,
    maxReplicas: 1000,
    cpuTargetPercent: 70,
    requestsPerSecondPerPod: 40_000,
    scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 50, periodSeconds: 120 }] }, // [001] x1.5 after 2 min
    scaleDown: { stabilizationWindowSeconds: 5 * MINUTE, policies: [{ type: 'Percent', value: 20, periodSeconds: 600 }] }, // [001] x0.8 after 10 min, cooldown 5 min
  },
  // [004] evaluation workers scale on queue depth > 10K. [ours] bounds 2-100: no seed ceiling.
  'evaluation-worker': { minReplicas: 2, maxReplicas: 100, cpuTargetPercent: 70 },
};

/**
 * [001] prediction-service overrides by model tier. Seed 001's tiers are model criticality, not
 * capacity: the largest capacity preset (tier3) serves the seed's "Tier 1" (min 50, 30 000 QPS,
 * 3 min cooldown), dev serves "Tier 4" (min 2, 50 000 QPS), tier1 and tier2 use the seed default.
 */
const PREDICTION_MOST_CRITICAL: Partial<ServiceAutoscaling> = {
  minReplicas: 50, // [001] Tier 1: min_instances 50
  requestsPerSecondPerPod: 30_000, // [001] Tier 1: scale_out_threshold_qps 30000
  scaleDown: { stabilizationWindowSeconds: 3 * MINUTE, policies: [{ type: 'Percent', value: 20, periodSeconds: 600 }] }, // [001] cooldown 3 min
};
const PREDICTION_LEAST_CRITICAL: Partial<ServiceAutoscaling> = {
  minReplicas: 2, // [001] Tier 4: min_instances 2
  requestsPerSecondPerPod: 50_000, // [001] Tier 4: scale_out_threshold_qps 50000
};

/**
 * [ours] container requests: the seeds give instance counts and per-instance throughput, not pod sizes.
 * Sized so one pod reaches the seed's per-instance throughput on an m7i core budget.
 */
const RESOURCES: WorkloadSizing['resources'] = {
  'tracking-server': { cpuMillicores: 2000, memoryMiB: 4096 },
  'registry-api': { cpuMillicores: 1000, memoryMiB: 2048 },
  'metadata-service': { cpuMillicores: 1000, memoryMiB: 2048 },
  'metaflow-worker': { cpuMillicores: 1000, memoryMiB: 2048 },
  'query-api': { cpuMillicores: 2000, memoryMiB: 4096 },
  collector: { cpuMillicores: 2000, memoryMiB: 2048 },
  'prediction-service': { cpuMillicores: 2000, memoryMiB: 4096 },
  'evaluation-worker': { cpuMillicores: 1000, memoryMiB: 2048 },
  scheduler: { cpuMillicores: 1000, memoryMiB: 2048 },
};

function workloads(overrides: Partial<Record<ServiceName, Partial<ServiceAutoscaling>>> = {}): WorkloadSizing {
  const services = Object.fromEntries(
    (Object.keys(SEED_SERVICES) as ServiceName[]).map((name) => [name, { ...SEED_SERVICES[name], ...overrides[name] }]),
  ) as Record<ServiceName, ServiceAutoscaling>;
  return {
    services,
    resources: RESOURCES,
    imageTag: '1.0.0', // [ours] immutable release tag; bump per release
    scheduler: {
      replicas: 3, // [000] pipeline scheduler: leader + standby, 3 instances; [003] 1 active + 2 standby
      leaseDurationSeconds: 30, // [000] leader lease 30 s timeout
    },
    // [001] health check: /health every 5 s, 2 s timeout, 3 failures unhealthy, 2 successes healthy
    probe: { path: '/health', periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 2 },
  };
}

const KUBERNETES_VERSION = '1.36'; // [ours] newest version both aws-cdk-lib and a published kubectl layer support

/** [ours] node groups: min = what the services' minimum replicas need, max = their ceilings' order of magnitude. */
function eks(general: [string, number, number], memory: [string, number], gpu?: [string, number]): TierPreset['eks'] {
  const [generalType, generalMin, generalMax] = general;
  const [memoryType, memoryNodes] = memory;
  return {
    kubernetesVersion: KUBERNETES_VERSION,
    system: { instanceTypes: ['m7i.large'], minSize: 3, desiredSize: 3, maxSize: 6 }, // one per AZ
    general: { instanceTypes: [generalType], minSize: generalMin, desiredSize: generalMin, maxSize: generalMax },
    // One node per ClickHouse replica ([000] shards x replicas); Keeper ([004] 3 members) runs on the
    // general pool with its own small requests. [ours] max: one spare per zone while a node is replaced.
    memoryOptimized: { instanceTypes: [memoryType], minSize: memoryNodes, desiredSize: memoryNodes, maxSize: memoryNodes + 3 },
    gpu: gpu && { instanceTypes: [gpu[0]], minSize: 0, desiredSize: 0, maxSize: gpu[1] },
  };
}

const BATCH_RETRIES: BatchSizing['retries'] = {
  transientNetwork: 5, // [002] transient network: 5 attempts, exponential
  rateLimited: 10, // [002] rate limit: 10 attempts, exponential with jitter
  resourceUnavailable: 3, // [002] resource unavailable: 3 attempts, linear 5 min
  outOfMemory: 2, // [002] OOM killed: 2 attempts
  userStepDefault: 3, // [002] @retry(times=3, ...)
  minutesBetweenUserRetries: 2, // [002] minutes_between_retries=2
};

/** [003] worker pools as Batch queues; a higher priority is scheduled first on shared capacity. */
const BATCH_QUEUES: BatchSizing['queues'] = [
  { name: 'priority-high', priority: 100, computeEnvironments: ['cpu'] }, // [003] P0 pool: on-demand only
  { name: 'gpu-training', priority: 60, computeEnvironments: ['gpu'] }, // [002] GPU compute environment
  { name: 'standard', priority: 50, computeEnvironments: ['cpu'] }, // [003] P1 general pool
  { name: 'long-running', priority: 40, computeEnvironments: ['cpu'] }, // [003] jobs > 1 h; [ours] yield to short jobs
  { name: 'spot', priority: 10, computeEnvironments: ['spot'] }, // [003] spot workers for non-critical P2 jobs
];

function batch(cpuMaxVcpus: number, gpuMaxVcpus: number, gpuInstanceTypes: string[]): BatchSizing {
  return {
    cpuInstanceTypes: ['c6i.xlarge', 'c6i.4xlarge', 'c6i.8xlarge'], // [002] CPU compute environment
    cpuMaxVcpus,
    gpuInstanceTypes,
    gpuMaxVcpus,
    // [003] spot pool for interruptible P2 work; [ours] half the CPU ceiling, so spot can never
    // starve on-demand capacity of its account quota.
    spotMaxVcpus: Math.round(cpuMaxVcpus / 2),
    retries: BATCH_RETRIES,
    queues: BATCH_QUEUES,
    rootVolumeGiB: 100, // [ours] CUDA/PyTorch images are several GB each
    // [ours] one g5.xlarge (4 vCPU, 16 GiB, 1 GPU) per step, leaving memory for the ECS agent; 24 h cap
    trainingJob: { vcpus: 4, memoryMiB: 15_000, gpus: 1, timeoutHours: 24 },
  };
}

const SHARED = {
  recovery: RECOVERY,
  // [ours] pinned versions of the images mirrored into ECR. ClickHouse 26.8 (LTS): the Kafka engine's
  // AWS_MSK_IAM mechanism first shipped in 2026 (ClickHouse PR #96100); Keeper runs the same release.
  images: { clickhouse: '26.8', clickhouseKeeper: '26.8', clickhouseBackup: '2.6.3', kafkaTools: '3.8.1' },
  backups: {
    hourlySchedule: 'cron(15 * * * ? *)', // [003] hourly backup
    dailySchedule: 'cron(45 4 * * ? *)', // [003] daily full backup; [ours] 04:45 UTC, outside the RDS backup window
    weeklySchedule: 'cron(45 5 ? * SUN *)', // [003] weekly backup, copied cross-region
    hourlyRetentionDays: 7, // [003] hourly backups: 7 days
    dailyRetentionDays: 30, // [003] daily backups: 30 days
    weeklyRetentionDays: 365, // [003] weekly backups: 1 year
  },
  artifacts: {
    warmAfterDays: 7, // [003] storage tiering: hot = recent 7 days
    coldAfterDays: 30, // [003] warm = 8-30 days, cold (archive) after 30
    archiveAfterDays: 90, // [003] deep archive after 90 days
    archivePrefix: 'runs/',
    noncurrentVersionExpirationDays: 90, // [002] S3 versioning: 90 days retention
  },
  ingress: {
    // [004] query-api scales out at 5000 rps per pod, the smallest per-pod budget behind the load
    // balancer; [ours] one client address may use at most one such pod for the whole 5-minute window
    // (5000 x 300 s), so no single client can force a scale-out on its own.
    requestsPerIpPer5Minutes: 5000 * 300,
  },
  routing: {
    healthCheckIntervalSeconds: 10, // [003] health check fails 3 consecutive times (10 s each)
    healthCheckFailureThreshold: 3, // [003]
    recordTtlSeconds: 60, // [002] Route 53 TTL: 60 seconds
    // [ours] the write names' answer changes only at a failover, and every second of it is RTO: 5 s,
    // as AWS advises for an Aurora global database's failover ("reduce the time-to-live (TTL) of your
    // DNS cache to a low value such as 5 seconds", Aurora User Guide, disaster recovery), and as
    // Aurora's own endpoints use. The price is twelve times the resolver queries of the seed's 60 s, on
    // the write names only; clients must honour it (a JVM's networkaddress.cache.ttl at most 5).
    writeRecordTtlSeconds: 5,
  },
  alarms: {
    databaseCpuPercent: 80, // [000] CPU utilization < 80 %
    databaseConnectionsPercent: 80, // [000][003] connections > 80 % (of the pool): scale
    databaseStorageUsedPercent: 70, // [003] storage usage > 70 % capacity: expand
    databaseMinutes: 5, // [001] cpu_utilization > 70 % FOR 5 minutes
    apiErrorRatePercent: 5, // [001] DR detection: error rate > 5 % for 3 minutes
    apiErrorMinutes: 3, // [001]
    // [000] the slowest p99 objective among the services behind the load balancer (search, model
    // registration: < 2 s); [001]'s 100 ms belongs to prediction serving alone and would page on every search.
    apiLatencyP99Seconds: 2,
    apiLatencyMinutes: 5, // [001] DR detection: latency p99 > 100 ms for 5 minutes
    kafkaReplicatorMessageLag: 100_000, // [004] Kafka scale trigger: lag > 100K messages
  },
  drills: {
    // [ours] daily, before the working day in the home region: a region that could not take over is paged on while
    // nothing is failing, not found out during an outage ([003] asks for the failover to be drilled, quarterly).
    preflight: 'cron(0 6 * * ? *)',
    regionFailoverDrill: 'cron(0 6 1 1,4,7,10 ? *)', // [003] quarterly: full DR failover drill
    chaosExercise: 'cron(0 6 1 6 ? *)', // [003] annually: chaos engineering exercise
  },
} as const;

const TWO_REGIONS = ['us-east-1', 'us-west-2'] as const; // [000][002][003][004] us-east-1 primary, us-west-2 DR
const THREE_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'] as const; // [001] US West, US East, EU West
// [ours] the witness of a two-region tier: a third region apart from both (Ohio, not Virginia or Oregon), holding one state table
const WITNESS_REGION = 'us-east-2';

const KAFKA_COMMON = {
  kafkaVersion: '3.8.x', // [ours] a current MSK version supported by MSK Replicator
  storageUtilizationTargetPercent: 70, // [003] storage usage > 70 %: expand storage
  defaultReplicationFactor: 3, // [003][004] replication factor 3
  minInsyncReplicas: 2, // [003] min ISR 2
  retentionHours: TOPIC_RETENTION_HOURS,
  replicationMode: 'msk-replicator', // [ours] managed replication needs no cross-region network path
} as const;

const POSTGRES_COMMON = {
  // [ours] the newest major that RDS Proxy, cross-region replicas and IAM auth all document support for.
  engineMajorVersion: '17',
  backupRetentionDays: 35, // [002] PostgreSQL snapshots: 35 days (also the PITR window)
} as const;

/**
 * [ours] Aurora PostgreSQL 17: the supported-regions table of Aurora global databases lists PostgreSQL
 * 11 to 18 (AWS Aurora User Guide, as quoted 2026-09); 17.9 is the newest 17 minor aws-cdk-lib knows.
 * Managed switchover and failover need the same major and minor on every cluster.
 */
const AURORA_ENGINE_VERSION = '17.9';

/**
 * [ours] Tiers 1-3 run an Aurora PostgreSQL global database: its managed failover promotes a secondary
 * "in under a minute" at best and "within a few minutes" at worst (Aurora User Guide), where an RDS
 * cross-region replica's promotion takes "several minutes or longer" and alone leaves no room in seed
 * 003's 5-minute RTO. Dev keeps RDS PostgreSQL for cost (a single-AZ m7g.large replica against a
 * two-instance r7g.large cluster per region). Either tier can choose either engine with
 * `-c databaseEngine`; a tier already deployed keeps its engine that way (the change-safety check
 * refuses the switch: it would orphan the database).
 */
const AURORA_TIER_ENGINE = 'aurora-postgresql-global';
const DEV_ENGINE = 'rds-postgresql';

const REDIS_COMMON = {
  engineVersion: '8.0',
  replicasPerShard: 1, // [001] 1 replica per shard
  snapshotRetentionDays: 1, // [004] hourly RDB kept 24 h -> ElastiCache daily snapshot kept 1 day
  cacheTtlSeconds: 300, // [001] L2 Redis TTL 300 s; [000] 5 min
} as const;

const CLICKHOUSE_COMMON = {
  keeperNodes: 3, // [004] 3-node ensemble in separate AZs
  backupRetentionDays: 30, // [004] ClickHouse native backup daily, 30 days
  backupSchedule: '30 3 * * *', // [004] daily; [ours] 03:30 UTC, before the AWS Backup daily rule
} as const;

const FEATURE_TABLES = [
  { name: 'batch_features', ttlSeconds: 7 * DAY }, // [001] online feature data retention: 7 days
  // [ours] streaming aggregates are recomputed continuously; a day bounds the store of stale windows.
  { name: 'streaming_features', ttlSeconds: 1 * DAY },
] as const;

const ON_DEMAND_FEATURES = {
  capacity: { mode: 'PAY_PER_REQUEST' },
  tables: FEATURE_TABLES,
} as const satisfies FeatureStoreSizing;

export const TIER_PRESETS: Readonly<Record<TierName, TierPreset>> = {
  dev: {
    name: 'dev',
    description: 'Smallest footprint that exercises every component and DR path',
    defaultRegions: TWO_REGIONS,
    defaultWitnessRegion: WITNESS_REGION,
    // [ours] dev rehearses a switchover, its failback and an AZ failover on the drill calendar; tiers 1-3 opt in (-c gameDays=on)
    defaultGameDays: true,
    ...SHARED,
    network: { natGateways: 1, flowLogRetentionDays: 30 }, // [ours] dev accepts an AZ-wide egress loss; short log retention
    postgres: {
      instanceClass: 'm7g.large', // [ours] 2 vCPU / 8 GiB: "small, Multi-AZ"
      vcpus: 2,
      memoryGiB: 8,
      allocatedStorageGiB: 100,
      maxAllocatedStorageGiB: 200, // [002] auto-expand storage at 80 % capacity
      maxConnections: 100,
      readReplicaRoles: [],
      connectionPooler: false,
      ...POSTGRES_COMMON,
      crossRegionReplicaMultiAz: false, // [ours] a promoted dev replica may run single-AZ
    },
    database: {
      engine: DEV_ENGINE,
      aurora: { engineVersion: AURORA_ENGINE_VERSION, instanceClass: 'r7g.large' }, // [ours] 2 vCPU, the smallest memory-optimized class (global databases need one)
    },
    clickhouse: {
      shards: 1, // [ours] 1 x 2 keeps replication and failover paths real at the lowest cost
      replicasPerShard: 2,
      nodeVcpus: 4,
      nodeMemoryGiB: 16,
      nodeStorageGiB: 200,
      storageVolumeType: 'gp3',
      ...CLICKHOUSE_COMMON,
    },
    kafka: {
      brokers: 3, // [ours] one per AZ, the minimum for RF 3
      brokerInstanceType: 'kafka.m7g.large',
      brokerStorageGiB: 100,
      maxBrokerStorageGiB: 400, // [ours] 4x headroom before an operator must resize
      topics: topics(12, 12), // [ours] dev partitions: one per broker core
      mirrorMakerTasks: 2,
      ...KAFKA_COMMON,
    },
    redis: {
      nodeType: 'cache.m7g.large', // [ours] smallest node type global datastores accept
      shards: 1,
      targetMemoryGiB: 6,
      ...REDIS_COMMON,
    },
    featureStore: ON_DEMAND_FEATURES, // [ours] spiky, low traffic is cheapest on demand
    eks: eks(['m7i.xlarge', 3, 12], ['r7i.xlarge', 1 * 2]),
    batch: batch(256, 64, ['g5.xlarge']), // [ours] dev: 1/40 of the seed ceiling, single-GPU instances only
    workloads: workloads({
      // [ours] dev runs every service at its smallest HA size (2) and caps growth.
      'tracking-server': { minReplicas: 2, maxReplicas: 6 },
      'registry-api': { minReplicas: 2, maxReplicas: 4 },
      'metadata-service': { minReplicas: 2, maxReplicas: 4 },
      'metaflow-worker': { minReplicas: 2, maxReplicas: 20 },
      'query-api': { minReplicas: 2, maxReplicas: 6 },
      collector: { minReplicas: 2, maxReplicas: 6 },
      'prediction-service': { ...PREDICTION_LEAST_CRITICAL, maxReplicas: 10 },
      'evaluation-worker': { minReplicas: 1, maxReplicas: 4 },
    }),
  },
  tier1: {
    name: 'tier1',
    description: 'Seed tier 1: < 1M runs, < 100M metrics/day',
    defaultRegions: TWO_REGIONS,
    defaultWitnessRegion: WITNESS_REGION,
    defaultGameDays: false, // [ours] a game day moves production's primary: a tier opts in (-c gameDays=on)
    ...SHARED,
    recovery: AUTOMATIC_RECOVERY,
    network: { natGateways: 3, flowLogRetentionDays: 365 }, // [ours] one NAT per AZ (AZ RTO 2 min [000]); 1 year of flow logs
    postgres: {
      instanceClass: 'm7g.2xlarge', // [000] Tier 1 primary: 8 vCPU, 32 GB RAM
      vcpus: 8,
      memoryGiB: 32,
      allocatedStorageGiB: 500, // [000] 500 GB SSD
      maxAllocatedStorageGiB: 1000, // [002] auto-expand at 80 % capacity
      maxConnections: 200, // [000] connections 200
      readReplicaRoles: ['scheduler-polling', 'status-api'], // [000] replicas 2; roles [003]
      connectionPooler: false, // [000] tier 1 has no pooler
      ...POSTGRES_COMMON,
      crossRegionReplicaMultiAz: true, // [ours] promotion must meet the AZ objective right away
    },
    database: {
      engine: AURORA_TIER_ENGINE,
      aurora: { engineVersion: AURORA_ENGINE_VERSION, instanceClass: 'r7g.2xlarge' }, // [000] 8 vCPU (64 GiB: Aurora global databases need memory-optimized classes)
    },
    clickhouse: {
      shards: 3, // [000] Tier 1: 3 shards
      replicasPerShard: 2, // [000] 2 replicas per shard
      nodeVcpus: 16, // [000] node 16 vCPU, 64 GB RAM, 2 TB NVMe
      nodeMemoryGiB: 64,
      nodeStorageGiB: 2048,
      storageVolumeType: 'gp3',
      ...CLICKHOUSE_COMMON,
    },
    kafka: {
      brokers: 3, // [ours] one broker per AZ; [004] 60K QPS per ingestion cluster fits 3 m7g.xlarge
      brokerInstanceType: 'kafka.m7g.xlarge',
      brokerStorageGiB: 1000,
      maxBrokerStorageGiB: 4000,
      topics: topics(100, 100), // [004] year 1: 100 partitions; [003] job-tasks 100
      mirrorMakerTasks: 4,
      ...KAFKA_COMMON,
    },
    redis: {
      nodeType: 'cache.r7g.xlarge', // 26.32 GiB per node
      shards: 2, // [000] L2 Redis: 50 GB cluster -> 2 x 26.32 GiB
      targetMemoryGiB: 50, // [000]
      ...REDIS_COMMON,
    },
    featureStore: ON_DEMAND_FEATURES,
    eks: eks(['m7i.2xlarge', 6, 40], ['r7i.4xlarge', 3 * 2]), // [000] ClickHouse node 16 vCPU / 64 GB -> r7i.4xlarge
    batch: batch(2000, 500, ['g5.xlarge', 'p4d.24xlarge']), // [ours] 1/5 of the [002] ceilings
    workloads: workloads(),
  },
  tier2: {
    name: 'tier2',
    description: 'Seed tier 2: 1M-10M runs, 100M-1B metrics/day',
    defaultRegions: TWO_REGIONS,
    defaultWitnessRegion: WITNESS_REGION,
    defaultGameDays: false, // [ours] a game day moves production's primary: a tier opts in (-c gameDays=on)
    ...SHARED,
    recovery: AUTOMATIC_RECOVERY,
    network: { natGateways: 3, flowLogRetentionDays: 365 },
    postgres: {
      instanceClass: 'm7g.4xlarge', // [000] Tier 2 primary: 16 vCPU, 64 GB RAM
      vcpus: 16,
      memoryGiB: 64,
      allocatedStorageGiB: 2048, // [000] 2 TB SSD
      maxAllocatedStorageGiB: 4096, // [002]
      maxConnections: 500, // [000] connections 500
      readReplicaRoles: ['scheduler-polling', 'status-api', 'analytics'], // [000] replicas 3; roles [003]
      connectionPooler: true, // [000] PgBouncer (2 instances) -> RDS Proxy
      ...POSTGRES_COMMON,
      crossRegionReplicaMultiAz: true,
    },
    database: {
      engine: AURORA_TIER_ENGINE,
      aurora: { engineVersion: AURORA_ENGINE_VERSION, instanceClass: 'r7g.4xlarge' }, // [000] 16 vCPU
    },
    clickhouse: {
      shards: 8, // [000] Tier 2: 8 shards
      replicasPerShard: 2, // [000]
      nodeVcpus: 32, // [000] 32 vCPU, 128 GB RAM, 4 TB NVMe
      nodeMemoryGiB: 128,
      nodeStorageGiB: 4096,
      storageVolumeType: 'gp3',
      ...CLICKHOUSE_COMMON,
    },
    kafka: {
      brokers: 6, // [ours] two per AZ for year-2 volume ([004] 150K peak QPS)
      brokerInstanceType: 'kafka.m7g.2xlarge',
      brokerStorageGiB: 2000,
      maxBrokerStorageGiB: 8000,
      topics: topics(300, 100), // [004] year 2: 300 partitions; [003] job-tasks 100
      mirrorMakerTasks: 8,
      ...KAFKA_COMMON,
    },
    redis: {
      nodeType: 'cache.r7g.2xlarge', // 52.82 GiB per node
      shards: 10, // [001] 500 GB total -> 10 x 52.82 GiB
      targetMemoryGiB: 500, // [001] distributed cache capacity 500 GB
      ...REDIS_COMMON,
    },
    featureStore: ON_DEMAND_FEATURES,
    eks: eks(['m7i.4xlarge', 9, 80], ['r7i.8xlarge', 8 * 2], ['g5.2xlarge', 10]), // [000] 32/128 -> r7i.8xlarge
    batch: batch(5000, 1000, ['g5.xlarge', 'p4d.24xlarge']), // [ours] half the [002] ceilings
    workloads: workloads(),
  },
  tier3: {
    name: 'tier3',
    description: 'Seed tier 3: 10M+ runs, 1B+ metrics/day, three regions',
    defaultRegions: THREE_REGIONS,
    defaultWitnessRegion: WITNESS_REGION,
    defaultGameDays: false, // [ours] a game day moves production's primary: a tier opts in (-c gameDays=on)
    ...SHARED,
    recovery: AUTOMATIC_RECOVERY,
    network: { natGateways: 3, flowLogRetentionDays: 365 },
    postgres: {
      instanceClass: 'm7g.8xlarge', // [000] Tier 3 primary: 32 vCPU, 128 GB RAM
      vcpus: 32,
      memoryGiB: 128,
      allocatedStorageGiB: 4096, // [000] 4 TB SSD
      maxAllocatedStorageGiB: 8192, // [002]
      maxConnections: 1000, // [000] connections 1000
      // [000] replicas 5; roles [003]: a second status-api and analytics replica for read scale
      readReplicaRoles: ['scheduler-polling', 'status-api', 'status-api', 'analytics', 'analytics'],
      connectionPooler: true, // [000] pooler
      ...POSTGRES_COMMON,
      crossRegionReplicaMultiAz: true,
    },
    database: {
      engine: AURORA_TIER_ENGINE,
      aurora: { engineVersion: AURORA_ENGINE_VERSION, instanceClass: 'r7g.8xlarge' }, // [000] 32 vCPU
    },
    clickhouse: {
      shards: 20, // [000] Tier 3: 20 shards
      replicasPerShard: 3, // [000] 3 replicas per shard
      nodeVcpus: 64, // [000] 64 vCPU, 256 GB RAM, 8 TB NVMe
      nodeMemoryGiB: 256,
      nodeStorageGiB: 8192,
      storageVolumeType: 'io2', // [ours] io2 for the 1B+ metrics/day write load
      ...CLICKHOUSE_COMMON,
    },
    kafka: {
      brokers: 9, // [ours] three per AZ for year-3 volume ([004] 400K peak QPS)
      brokerInstanceType: 'kafka.m7g.4xlarge',
      brokerStorageGiB: 4000,
      maxBrokerStorageGiB: 16_000, // MSK's per-broker maximum
      topics: topics(800, 100), // [004] year 3: 800 partitions; [003] job-tasks 100
      mirrorMakerTasks: 16,
      ...KAFKA_COMMON,
    },
    redis: {
      nodeType: 'cache.r7g.2xlarge',
      shards: 10, // [001] 500 GB total
      targetMemoryGiB: 500, // [001]
      ...REDIS_COMMON,
    },
    // [ours] tier3's steady feature traffic is cheaper provisioned; sized for [001] 10M predictions/s
    // served mostly from the Redis cache (60 % hit rate target [001]).
    featureStore: {
      capacity: {
        mode: 'PROVISIONED',
        minReadCapacityUnits: 40_000,
        minWriteCapacityUnits: 10_000,
        maxReadCapacityUnits: 160_000, // [ours] 4x headroom for [001] peak-to-average traffic
        maxWriteCapacityUnits: 40_000,
        targetUtilizationPercent: 70, // [001] scale out at 70 % utilisation
      },
      tables: FEATURE_TABLES,
    },
    eks: eks(['m7i.4xlarge', 30, 300], ['r7i.16xlarge', 20 * 3], ['g5.2xlarge', 40]), // [000] 64/256 -> r7i.16xlarge
    batch: batch(10_000, 2000, ['g5.xlarge', 'p4d.24xlarge']), // [002] maxvCpus 10000 (CPU), 2000 (GPU)
    workloads: workloads({ 'prediction-service': PREDICTION_MOST_CRITICAL }),
  },
};

export const TIER_NAMES = Object.keys(TIER_PRESETS) as TierName[];
