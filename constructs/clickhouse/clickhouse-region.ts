import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import type { ClickHouseTopology, RunbookParameters } from '../../lib/config';
import type { IArtifactBucket } from '../artifacts';
import { INTERNAL_CA_ISSUER, type PlatformCluster } from '../eks';
import type { IKafkaCluster } from '../kafka';
import { ClickHouseCharts } from './clickhouse-charts';
import { CLIENT_TLS_DIR, clickHouseUser, clientSecretName, TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE } from './security';
import { CLUSTER_DOMAIN, HTTPS_PORT, NATIVE_SECURE_PORT, QUERY_SERVICE_NAME } from './topology';
import type { ClickHouseAccess } from './types';

const NAMESPACE = 'clickhouse';
const DATABASE = 'mlp';
const CLUSTER = 'mlp';
const SERVICE_ACCOUNT = 'clickhouse';
/** Where each region's ClickHouse keeps its backups, inside the region's artifact bucket. */
const BACKUP_PREFIX = 'clickhouse-backups';
/** The query Service, as clients and runbooks reach it. */
const SERVICE_HOST = `${QUERY_SERVICE_NAME}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}`;

export interface ClickHouseRegionProps {
  /** The region's EKS cluster, with cert-manager's internal CA and the memory node groups. */
  readonly cluster: PlatformCluster;
  readonly region: string;
  readonly zones: readonly string[];
  readonly topology: ClickHouseTopology;
  /** Server, Keeper and backup images, in the region's ECR. */
  readonly images: { readonly server: string; readonly keeper: string; readonly backup: string };
  /** The region's Kafka cluster, whose spans and evaluation results ClickHouse consumes. */
  readonly kafka: IKafkaCluster;
  readonly kafkaBootstrapServers: string;
  readonly kafkaTopics: { readonly spans: string; readonly evaluations: string };
  /** The region's artifact bucket, which holds the backups under `clickhouse-backups/<region>`. */
  readonly artifacts: IArtifactBucket;
  readonly artifactBucketName: string;
  /** Where the clients run, and the access each needs: a client certificate per access goes there. */
  readonly clients: { readonly namespace: string; readonly accesses: readonly ClickHouseAccess[] };
  /** The clients' namespace, which must exist before their certificates. */
  readonly clientNamespace: eks.KubernetesManifest;
}

/**
 * A region's ClickHouse on its EKS cluster: the server and Keeper charts (its shards apart, for the
 * custom resource's size limit), fed from the region's Kafka topics and backed up to its artifact
 * bucket, and the settings its clients connect with.
 *
 * Not a construct: its pod role and manifests are created on the cluster, under the ids they have
 * always had (`ClickHouse`, `ClickHouseShards`).
 */
export class ClickHouseRegion {
  /** Where the region's ClickHouse is, for its stack to publish. */
  public readonly runbookParameters: RunbookParameters<'clickhouse'>;
  public readonly manifests: { readonly cluster: eks.KubernetesManifest; readonly shards: eks.KubernetesManifest };

  constructor(props: ClickHouseRegionProps) {
    const { cluster, topology, region } = props;
    const role = cluster.addPodRole('ClickHouse', NAMESPACE, SERVICE_ACCOUNT);
    props.kafka.grantClient(role, {
      topics: [props.kafkaTopics.spans, props.kafkaTopics.evaluations],
      read: true,
      groups: ['clickhouse*'],
    });
    props.artifacts.grantReadWriteObjects(role, { keys: `${BACKUP_PREFIX}/*`, withDelete: true });
    const charts = new ClickHouseCharts(new cdk8s.App(), 'ClickHouse', {
      namespace: NAMESPACE,
      clusterName: CLUSTER,
      database: DATABASE,
      region,
      shards: topology.shards,
      replicasPerShard: topology.replicasPerShard,
      nodeVcpus: topology.nodeVcpus,
      nodeMemoryGiB: topology.nodeMemoryGiB,
      storageGiB: topology.nodeStorageGiB,
      storageClass: topology.storageVolumeType,
      keeperNodes: topology.keeperNodes,
      image: props.images.server,
      keeperImage: props.images.keeper,
      serviceAccountName: SERVICE_ACCOUNT,
      backup: {
        bucketName: props.artifactBucketName,
        prefix: `${BACKUP_PREFIX}/${region}`,
        retentionDays: topology.backupRetentionDays,
        schedule: topology.backupSchedule,
        image: props.images.backup,
      },
      kafka: { bootstrapServers: props.kafkaBootstrapServers, topics: props.kafkaTopics, consumerGroup: 'clickhouse' },
      zones: [...props.zones],
      clients: props.clients.accesses.map((access) => ({ namespace: props.clients.namespace, access })),
      tls: { issuer: { kind: 'ClusterIssuer', name: INTERNAL_CA_ISSUER } },
    });
    const memoryNodes = cluster.nodegroups.Memory1 as eks.Nodegroup;
    const clusterManifest = cluster.cluster.addCdk8sChart('ClickHouse', charts.cluster);
    // Its Certificates need cert-manager and the CA; its client certificates go into the clients' namespace.
    clusterManifest.node.addDependency(cluster.internalCa, props.clientNamespace, memoryNodes);
    const shardsManifest = cluster.cluster.addCdk8sChart('ClickHouseShards', charts.shards);
    shardsManifest.node.addDependency(clusterManifest, memoryNodes);
    this.manifests = { cluster: clusterManifest, shards: shardsManifest };
    this.runbookParameters = {
      namespace: NAMESPACE,
      service: SERVICE_HOST,
      cluster: CLUSTER,
      'backup-location': `s3://${props.artifactBucketName}/${BACKUP_PREFIX}/${region}`,
    };
  }
}

/** What a client of `access` connects with: its certificate's mount and the connection settings. */
export function clickHouseClientSettings(access: ClickHouseAccess): {
  readonly secretMount: { readonly secretName: string; readonly mountPath: string };
  readonly env: Readonly<Record<string, string>>;
} {
  return {
    secretMount: { secretName: clientSecretName(access), mountPath: CLIENT_TLS_DIR },
    env: {
      CLICKHOUSE_HOST: SERVICE_HOST,
      CLICKHOUSE_HTTPS_PORT: String(HTTPS_PORT),
      CLICKHOUSE_NATIVE_PORT: String(NATIVE_SECURE_PORT),
      CLICKHOUSE_DATABASE: DATABASE,
      CLICKHOUSE_USER: clickHouseUser(access),
      CLICKHOUSE_TLS_CERT: `${CLIENT_TLS_DIR}/${TLS_CERT_FILE}`,
      CLICKHOUSE_TLS_KEY: `${CLIENT_TLS_DIR}/${TLS_KEY_FILE}`,
      CLICKHOUSE_TLS_CA: `${CLIENT_TLS_DIR}/${TLS_CA_FILE}`,
    },
  };
}
