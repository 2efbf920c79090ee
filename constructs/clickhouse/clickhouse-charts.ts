import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PART_OF, PART_OF_LABEL, restrictedNamespace } from '../private/k8s';
import { ClickHouseBackupConfig, ClickHouseBackupCronJob } from './backup';
import { ClickHouseCertificates } from './certificates';
import { ClickHouseJobsConfig } from './jobs';
import { appMetadata, DEFAULT_DATABASE, DEFAULT_UTILITY_NODE_POOL, poolSelector, SERVER_APP } from './k8s';
import { ClickHouseKeeper, ClickHouseKeeperConfig } from './keeper';
import { ClickHouseNetworkPolicies } from './network-policies';
import { schemaSql } from './schema';
import { ClickHouseSchemaJob } from './schema-job';
import { ClickHouseQueryService, ClickHouseShard } from './server';
import { ClickHouseServerConfig } from './server-config';
import { clickHouseTopology } from './topology';
import type { ClickHouseChartsProps } from './types';
import { validateClickHouseProps } from './validation';

/**
 * A sharded, replicated ClickHouse cluster as two cdk8s charts, each deployed as one manifest,
 * `shards` after `cluster`:
 *
 * - per shard (`ClickHouseShard`): a StatefulSet of `replicasPerShard` replicas, each with a
 *   clickhouse-backup sidecar, a headless Service and a PodDisruptionBudget;
 * - the Keeper ensemble (`ClickHouseKeeper`) and its configuration (`ClickHouseKeeperConfig`);
 * - the `clickhouse` ClusterIP Service (query path, HTTPS 8443 and native TLS 9440) over all servers;
 * - the servers' shared configuration (`ClickHouseServerConfig`): `remote_servers`, Keeper nodes,
 *   `from_env` macros and the users, for every server at once;
 * - a schema Job (`ClickHouseSchemaJob`) and a daily backup CronJob (`ClickHouseBackupCronJob`),
 *   their scripts in one ConfigMap (`ClickHouseJobsConfig`);
 * - cert-manager Certificates for the servers, the Keeper members, the admin Jobs and each client
 *   namespace (`ClickHouseCertificates`), and NetworkPolicies that admit each port only from the pods
 *   that use it (`ClickHouseNetworkPolicies`).
 *
 * Every port speaks TLS and every network user authenticates with a client certificate (see
 * `security.ts`). Every pod runs as UID 101 with a read-only root file system, no capabilities and
 * RuntimeDefault seccomp; the namespace enforces Pod Security `restricted`.
 */
export class ClickHouseCharts extends Construct {
  /** The namespace, configuration, certificates, policies, Keeper, query Service and Jobs. */
  public readonly cluster: Chart;
  /**
   * The server StatefulSets with their headless Services and disruption budgets: the bulk of the
   * objects (20 x 3 in tier3), kept apart so each manifest stays well inside the custom resource
   * payload limit.
   */
  public readonly shards: Chart;

  constructor(scope: Construct, id: string, props: ClickHouseChartsProps) {
    super(scope, id);
    validateClickHouseProps(this, props);
    const labels = { [PART_OF_LABEL]: PART_OF };
    this.cluster = new Chart(this, 'clickhouse', { labels });
    this.shards = new Chart(this, 'clickhouse-shards', { labels });
    this.shards.addDependency(this.cluster);

    const { namespace } = props;
    const topology = clickHouseTopology(props.shards, props.replicasPerShard);
    const database = props.database ?? DEFAULT_DATABASE;
    const sql = schemaSql({
      clusterName: props.clusterName,
      database,
      kafka: props.kafka,
      region: props.region,
      tableTtlDays: props.tableTtlDays,
    });
    const jobs = {
      namespace,
      image: props.image,
      nodeSelector: poolSelector(props.nodePoolLabel, props.utilityNodePool ?? DEFAULT_UTILITY_NODE_POOL),
    };

    // In this order in the manifest: the namespace first, then what the pods mount, then the pods.
    const cluster = this.cluster;
    restrictedNamespace(cluster, namespace);
    new kplus.k8s.KubeServiceAccount(cluster, 'ServerServiceAccount', {
      metadata: appMetadata(props.serviceAccountName, namespace, SERVER_APP),
      automountServiceAccountToken: false,
    });
    new ClickHouseCertificates(cluster, 'Certificates', { namespace, topology, clients: props.clients, tls: props.tls });
    new ClickHouseServerConfig(cluster, 'ServerConfig', {
      namespace,
      clusterName: props.clusterName,
      topology,
      keeperNodes: props.keeperNodes,
      database,
      clients: props.clients,
    });
    new ClickHouseKeeperConfig(cluster, 'KeeperConfig', { namespace, keeperNodes: props.keeperNodes });
    new ClickHouseBackupConfig(cluster, 'BackupConfig', { namespace, region: props.region, backup: props.backup });
    new ClickHouseJobsConfig(cluster, 'JobsConfig', { namespace, topology, schemaSql: sql });
    new ClickHouseKeeper(cluster, 'Keeper', {
      namespace,
      keeperNodes: props.keeperNodes,
      image: props.keeperImage,
      zones: props.zones,
      storageClass: props.storageClass,
      storageGiB: props.keeperStorageGiB,
      resources: props.keeperResources,
      nodePoolLabel: props.nodePoolLabel,
      nodePool: props.keeperNodePool,
    });
    for (const shard of topology.shards) {
      new ClickHouseShard(this.shards, `Shard${shard.shard}`, {
        namespace,
        shard,
        replicasPerShard: props.replicasPerShard,
        zones: props.zones,
        image: props.image,
        serviceAccountName: props.serviceAccountName,
        nodeVcpus: props.nodeVcpus,
        nodeMemoryGiB: props.nodeMemoryGiB,
        storageClass: props.storageClass,
        storageGiB: props.storageGiB,
        backup: props.backup,
        nodePoolLabel: props.nodePoolLabel,
        nodePool: props.nodePool,
      });
    }
    new ClickHouseQueryService(cluster, 'QueryService', { namespace });
    new ClickHouseSchemaJob(cluster, 'SchemaJob', { ...jobs, schemaSql: sql });
    new ClickHouseBackupCronJob(cluster, 'BackupCronJob', { ...jobs, schedule: props.backup.schedule });
    new ClickHouseNetworkPolicies(cluster, 'NetworkPolicies', {
      namespace,
      clientNamespaces: props.clients.map((client) => client.namespace),
    });
  }
}
