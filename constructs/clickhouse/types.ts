/**
 * The contract between the compute stack and the ClickHouse charts. The stack fills it from the tier
 * preset and from the AWS resources it creates (images, backup bucket, MSK bootstrap string); the
 * charts turn it into Kubernetes objects. Nothing here reads config.
 */
import type { CertificateIssuer } from '../private/certificates';
import type { ContainerResources } from '../private/k8s';

/** Daily backups of every shard to S3, by clickhouse-backup. */
export interface ClickHouseBackupSpec {
  /** Bucket the backups go to (may be a token). */
  readonly bucketName: string;
  /** Key prefix inside the bucket, without leading or trailing '/'; each shard writes under `<prefix>/shard-<n>`. */
  readonly prefix: string;
  /**
   * Backups kept per shard; older ones are deleted after each upload. clickhouse-backup keeps a
   * number of backups, not an age, so this is days only with a daily `schedule`.
   */
  readonly retentionDays: number;
  /** Kubernetes CronJob schedule (5 fields, the cluster's time zone, UTC on EKS), e.g. `0 2 * * *`. */
  readonly schedule: string;
  /**
   * clickhouse-backup image (e.g. `altinity/clickhouse-backup:<version>`), run as a sidecar of every
   * server: it must read the server's data volume, so it cannot run in a separate pod.
   */
  readonly image: string;
}

/** Ingestion from Kafka (MSK) into the shards. */
export interface ClickHouseKafkaSpec {
  /** MSK bootstrap string of the IAM listener, `host:9098,...` (may be a token). */
  readonly bootstrapServers: string;
  readonly topics: {
    /** Trace spans, JSON lines. */
    readonly spans: string;
    /** Evaluation results, JSON lines. */
    readonly evaluations: string;
  };
  /** Consumer group prefix; the spans and evaluations tables consume as `<consumerGroup>-spans` and `<consumerGroup>-evaluations`. */
  readonly consumerGroup: string;
}

/** What a client may do in the platform database. */
export type ClickHouseAccess = 'read' | 'write';

/** Pods of one namespace that query ClickHouse, authenticated by a client certificate. */
export interface ClickHouseClientSpec {
  readonly namespace: string;
  /** `read`: SELECT on the platform database; `write`: SELECT and INSERT. */
  readonly access: ClickHouseAccess;
}

/** TLS certificates, issued and renewed by cert-manager. */
export interface ClickHouseTlsSpec {
  /** cert-manager issuer of every certificate (a private CA: peers trust only its root). */
  readonly issuer: CertificateIssuer;
  /**
   * Lifetime of each certificate, hours.
   * @default 2160 (90 days)
   */
  readonly durationHours?: number;
  /**
   * Renew this many hours before expiry; ClickHouse servers reload renewed files, other processes
   * read them at start.
   * @default 720 (30 days)
   */
  readonly renewBeforeHours?: number;
}

/** A sharded, replicated ClickHouse cluster with its Keeper ensemble, schema, ingestion and backups. */
export interface ClickHouseChartsProps {
  /** Namespace of every object; the chart creates it (Pod Security `restricted`). */
  readonly namespace: string;
  /** Cluster name in `remote_servers`, `ON CLUSTER` and the `{cluster}` macro: lower-case letters, digits, '_'. */
  readonly clusterName: string;
  /** AWS region of the backup bucket and the MSK cluster. */
  readonly region: string;
  readonly shards: number;
  /** 1 to 3, and at most one per zone: a shard's replicas sit in different zones. */
  readonly replicasPerShard: number;
  /** vCPUs of the node one server replica gets; the server requests 85 % of it (see `serverResources`). */
  readonly nodeVcpus: number;
  /** Memory of that node, GiB. */
  readonly nodeMemoryGiB: number;
  /** Data volume of each server replica, GiB. */
  readonly storageGiB: number;
  /** StorageClass of the data and Keeper volumes, e.g. `gp3` or `io2`; it must exist in the cluster. */
  readonly storageClass: string;
  /** Keeper ensemble size: 3 or 5. */
  readonly keeperNodes: number;
  /**
   * Keeper volume per member, GiB.
   * @default 20
   */
  readonly keeperStorageGiB?: number;
  /**
   * Requests of each Keeper member (memory limit = request). Small enough by default to fit next to
   * a server on the smallest node if the scheduler must put it there.
   * @default - 250 millicores, 1024 MiB
   */
  readonly keeperResources?: ContainerResources;
  /**
   * ClickHouse server image (may be a token). The schema Job and the backup CronJob run its
   * `clickhouse-client`. Kafka ingestion with `AWS_MSK_IAM` needs a release that has it
   * (ClickHouse PR #96100, 2026).
   */
  readonly image: string;
  /** ClickHouse Keeper image (may be a token). */
  readonly keeperImage: string;
  /**
   * ServiceAccount of the server pods, created by the chart; the stack gives it an IAM role (Pod
   * Identity) that may write the backup prefix (the backup sidecar) and read the Kafka topics (MSK IAM).
   */
  readonly serviceAccountName: string;
  readonly backup: ClickHouseBackupSpec;
  readonly kafka: ClickHouseKafkaSpec;
  /**
   * Namespaces whose pods query ClickHouse, and what they may do. Each gets a client certificate
   * Secret in its namespace (`clientSecretName(access)`) that authenticates it as
   * `clickHouseUser(access)`; a NetworkPolicy refuses everything else from outside the namespace.
   */
  readonly clients: readonly ClickHouseClientSpec[];
  /** Certificates of every server, Keeper member and client; every port speaks TLS only. */
  readonly tls: ClickHouseTlsSpec;
  /** The availability zones of the node pool, at least 3; pods are kept to them. */
  readonly zones: readonly string[];
  /**
   * Node label that names a node's pool.
   * @default 'mlp.platform/pool'
   */
  readonly nodePoolLabel?: string;
  /**
   * Pool of the servers.
   * @default 'memory'
   */
  readonly nodePool?: string;
  /**
   * Pool of the Keeper members. Keeper needs a fraction of a server's node (`keeperResources`), so it
   * runs among the general workloads instead of taking nodes sized for ClickHouse.
   * @default 'general'
   */
  readonly keeperNodePool?: string;
  /**
   * Pool of the schema Job and the backup CronJob (small, short-lived pods).
   * @default 'general'
   */
  readonly utilityNodePool?: string;
  /**
   * Database of the platform's tables.
   * @default 'mlp'
   */
  readonly database?: string;
  /**
   * Rows older than this many days are deleted from the local tables, a whole part at a time
   * (`ttl_only_drop_parts`), so a row may outlive it by up to a month (parts never span months).
   * @default - kept until deleted by hand
   */
  readonly tableTtlDays?: number;
}
