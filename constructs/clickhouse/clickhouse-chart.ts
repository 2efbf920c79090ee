import { createHash } from 'node:crypto';
import { Token } from 'aws-cdk-lib';
import { type App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
import {
  DEFAULT_CERTIFICATE_DURATION_HOURS,
  DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS,
  leafCertificate,
  SECRET_FILE_MODE,
  validateIssuer,
} from '../private/certificates';
import { pascalCase } from '../private/ids';
import {
  isDnsLabel,
  PART_OF,
  PART_OF_LABEL,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  validateDnsSubdomain,
} from '../private/k8s';
import { ValidationError } from '../private/validation-error';
import { schemaSql } from './schema';
import { backupScript, CLIENT_CONFIG_FILE, JOBS_DIR, keeperStartScript, SCHEMA_FILE, schemaScript } from './scripts';
import {
  ADMIN_TLS_SECRET,
  adminClientXml,
  CLIENT_TLS_DIR,
  certificateCommonName,
  clientCommonName,
  clientSecretName,
  INTERSERVER_USER,
  KEEPER_TLS_DIR,
  KEEPER_TLS_SECRET,
  openSslXml,
  SERVER_TLS_DIR,
  SERVER_TLS_SECRET,
  TLS_CA_FILE,
  usersXml,
} from './security';
import {
  BACKUP_SIDECAR_RESOURCES,
  CLUSTER_DOMAIN,
  type ClickHouseTopology,
  clickHouseTopology,
  HTTPS_PORT,
  INTERSERVER_HOST_ENV,
  INTERSERVER_HTTPS_PORT,
  KEEPER_CLIENT_PORT,
  KEEPER_DATA_PATH,
  KEEPER_HTTP_CONTROL_PORT,
  KEEPER_ID_ENV,
  KEEPER_NAME,
  KEEPER_RAFT_PORT,
  keeperXml,
  macrosXml,
  NATIVE_SECURE_PORT,
  podDnsName,
  QUERY_SERVICE_NAME,
  REPLICA_ENV,
  remoteServersXml,
  SHARD_ENV,
  type ShardTopology,
  serverResources,
  serverXml,
  zookeeperXml,
} from './topology';
import type { ClickHouseClientSpec, ClickHouseResources, ClickHouseSpec } from './types';

const k8s = kplus.k8s;

/** UID and GID ClickHouse's and clickhouse-backup's images run as. */
export const CLICKHOUSE_UID = 101;

/** Selects pods: `clickhouse` (every server), `clickhouse-keeper`, `clickhouse-schema`, `clickhouse-backup`. */
export const NAME_LABEL = 'app.kubernetes.io/name';
/** The shard number of a server pod, next to `NAME_LABEL`. */
export const SHARD_LABEL = 'mlp.platform/clickhouse-shard';
export const SERVER_APP = 'clickhouse';
const SCHEMA_APP = 'clickhouse-schema';

export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const HOSTNAME_KEY = 'kubernetes.io/hostname';

export const DEFAULT_NODE_POOL_LABEL = 'mlp.platform/pool';
export const DEFAULT_NODE_POOL = 'memory';
export const DEFAULT_UTILITY_NODE_POOL = 'general';
export const DEFAULT_KEEPER_NODE_POOL = 'general';
export const DEFAULT_DATABASE = 'mlp';
export const DEFAULT_KEEPER_STORAGE_GIB = 20;
export const DEFAULT_KEEPER_RESOURCES: ClickHouseResources = { cpuMillicores: 250, memoryMiB: 1024 };

/** Names of the ConfigMaps and of the backup CronJob. */
export const SERVER_CONFIG_NAME = 'clickhouse-server-config';
export const SERVER_USERS_NAME = 'clickhouse-server-users';
export const KEEPER_CONFIG_NAME = 'clickhouse-keeper-config';
export const BACKUP_ENV_NAME = 'clickhouse-backup-env';
export const JOBS_CONFIG_NAME = 'clickhouse-jobs';
export const BACKUP_CRONJOB_NAME = 'clickhouse-backup';
/** The schema Job is named after its SQL, so a changed schema is a new Job (a Job's pod template is immutable). */
export const SCHEMA_JOB_PREFIX = 'clickhouse-schema-';

const SERVER_CONFIG_DIR = '/etc/clickhouse-server/config.d';
const SERVER_USERS_DIR = '/etc/clickhouse-server/users.d';
const KEEPER_CONFIG_DIR = '/etc/clickhouse-keeper';
const KEEPER_CONFIG_FILE = 'keeper_config.xml';
const KEEPER_START_FILE = 'start.sh';
const DATA_PATH = '/var/lib/clickhouse';
const BACKUP_SCRIPT_FILE = 'backup.sh';
/** Where the backup sidecar's REST API listens: inside the pod only, for the server's integration tables. */
const BACKUP_API_ADDRESS = '127.0.0.1:7171';

/**
 * Probe timings, ours: /ping answers as soon as the HTTP handler is up. The startup probe gives a
 * server 15 minutes to load its tables before liveness applies.
 */
const SERVER_PROBE = { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6, startupFailures: 90 };
const KEEPER_PROBE = { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 6, startupFailures: 60 };
/** Jobs, ours: what they request, how long a finished schema Job stays for its logs, how long a backup may run. */
const JOB_RESOURCES: ClickHouseResources = { cpuMillicores: 100, memoryMiB: 512 };
const SCHEMA_JOB_TTL_SECONDS = 86_400;
const SCHEMA_JOB_DEADLINE_SECONDS = 3_600;
const BACKUP_DEADLINE_SECONDS = 20 * 3_600;

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const KAFKA_NAME = /^[A-Za-z0-9._-]+$/;

/** The ClickHouse cluster as two charts, each deployed as one manifest, `shards` after `cluster`. */
export interface ClickHouseCharts {
  /** The namespace, configuration, certificates, policies, Keeper, query Service and Jobs. */
  readonly cluster: Chart;
  /**
   * The server StatefulSets with their headless Services and disruption budgets: the bulk of the
   * objects (20 x 3 in tier3), kept apart so each manifest stays well inside the custom resource
   * payload limit.
   */
  readonly shards: Chart;
}

/**
 * A sharded, replicated ClickHouse cluster as two cdk8s charts (see `ClickHouseCharts`):
 *
 * - per shard: a StatefulSet of `replicasPerShard` replicas (Parallel, one per zone, one per node,
 *   on the memory pool), a headless Service for the replicas' DNS names and a PodDisruptionBudget
 *   (maxUnavailable 1); each replica carries a clickhouse-backup sidecar;
 * - the Keeper ensemble: a StatefulSet of `keeperNodes` members in different zones, its headless
 *   Service and a PodDisruptionBudget that keeps a quorum;
 * - the `clickhouse` ClusterIP Service (query path, HTTPS 8443 and native TLS 9440) over all servers;
 * - shared configuration in a few ConfigMaps: `remote_servers`, Keeper nodes and `from_env` macros
 *   for every server at once, the users, the Raft membership, the schema and the backup script;
 * - a schema Job (idempotent DDL, `ON CLUSTER`) and a daily backup CronJob;
 * - cert-manager Certificates for the servers, the Keeper members, the admin Jobs and each client
 *   namespace, and NetworkPolicies that admit each port only from the pods that use it.
 *
 * Every port speaks TLS and every network user authenticates with a client certificate (see
 * `security.ts`). Every pod runs as UID 101 with a read-only root file system, no capabilities and
 * RuntimeDefault seccomp; the namespace enforces Pod Security `restricted`.
 */
export function clickHouseCharts(app: App, spec: ClickHouseSpec): ClickHouseCharts {
  const labels = { [PART_OF_LABEL]: PART_OF };
  const cluster = new Chart(app, 'clickhouse', { labels });
  validateSpec(cluster, spec);
  const shards = new Chart(app, 'clickhouse-shards', { labels });
  shards.addDependency(cluster);
  new ClickHouseObjects(cluster, shards, spec);
  return { cluster, shards };
}

class ClickHouseObjects {
  private readonly topology: ClickHouseTopology;
  private readonly namespace: string;
  private readonly nodeSelector: Record<string, string>;
  private readonly podSecurity: kplus.k8s.PodSecurityContext = {
    ...restrictedPodSecurity(CLICKHOUSE_UID),
    // Skip the recursive chown of multi-TiB volumes on every mount once their root is ours.
    fsGroupChangePolicy: 'OnRootMismatch',
  };

  constructor(
    private readonly chart: Chart,
    private readonly shardsChart: Chart,
    private readonly spec: ClickHouseSpec,
  ) {
    this.topology = clickHouseTopology(spec.shards, spec.replicasPerShard);
    this.namespace = spec.namespace;
    this.nodeSelector = { [spec.nodePoolLabel ?? DEFAULT_NODE_POOL_LABEL]: spec.nodePool ?? DEFAULT_NODE_POOL };

    new k8s.KubeNamespace(chart, 'Namespace', {
      metadata: { name: spec.namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    new k8s.KubeServiceAccount(chart, 'ServerServiceAccount', {
      metadata: this.metadata(spec.serviceAccountName, SERVER_APP),
      automountServiceAccountToken: false,
    });
    this.certificates();
    this.configMaps();
    this.keeper();
    for (const shard of this.topology.shards) this.shard(shard);
    new k8s.KubeService(chart, 'QueryService', {
      metadata: this.metadata(QUERY_SERVICE_NAME, SERVER_APP),
      spec: {
        type: 'ClusterIP',
        selector: { [NAME_LABEL]: SERVER_APP },
        ports: [port('https', HTTPS_PORT), port('native-tls', NATIVE_SECURE_PORT)],
      },
    });
    this.schemaJob();
    this.backupCronJob();
    this.networkPolicies();
  }

  /**
   * One certificate per role from the issuer: the servers (every replica's DNS name through its
   * shard's headless Service, the query Service, and localhost for the backup sidecar), the Keeper
   * members, the admin Jobs, and one per client namespace and access, in that namespace.
   */
  private certificates(): void {
    const ns = this.namespace;
    const service = (name: string) => [name, `${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.${CLUSTER_DOMAIN}`];
    this.certificate('ServerCertificate', ns, SERVER_TLS_SECRET, certificateCommonName('server', ns), {
      dnsNames: [
        'localhost',
        ...service(QUERY_SERVICE_NAME),
        ...this.topology.shards.map((shard) => `*.${shard.name}.${ns}.svc.${CLUSTER_DOMAIN}`),
      ],
      ipAddresses: ['127.0.0.1'],
      server: true,
    });
    this.certificate('KeeperCertificate', ns, KEEPER_TLS_SECRET, certificateCommonName('keeper', ns), {
      dnsNames: [...service(KEEPER_NAME), `*.${KEEPER_NAME}.${ns}.svc.${CLUSTER_DOMAIN}`],
      server: true,
    });
    this.certificate('AdminCertificate', ns, ADMIN_TLS_SECRET, certificateCommonName('admin', ns), {});
    for (const client of this.spec.clients) {
      const secretName = clientSecretName(client.access);
      this.certificate(
        `Client${pascalCase(client.namespace)}${pascalCase(client.access)}Certificate`,
        client.namespace,
        secretName,
        clientCommonName(client),
        {},
      );
    }
  }

  /** A certificate from the spec's issuer into `secretName` (the Certificate is named after it). */
  private certificate(
    id: string,
    namespace: string,
    secretName: string,
    commonName: string,
    options: { readonly dnsNames?: readonly string[]; readonly ipAddresses?: readonly string[]; readonly server?: boolean },
  ): void {
    const { tls } = this.spec;
    leafCertificate(this.chart, id, {
      name: secretName.replace(/-tls$/, ''),
      namespace,
      secretName,
      commonName,
      ...options,
      issuer: tls.issuer,
      durationHours: tls.durationHours,
      renewBeforeHours: tls.renewBeforeHours,
      labels: { [NAME_LABEL]: SERVER_APP },
    });
  }

  /**
   * Ingress, port by port: nothing by default; the servers' query ports (HTTPS, native TLS) from
   * this namespace's Jobs, the other servers and the client namespaces; part fetches only between
   * servers; Keeper's client port only from the servers and its Raft port only between members.
   * Enforced by the VPC CNI's network policy agent; the kubelet's probes come from the node.
   */
  private networkPolicies(): void {
    const pods = (app: string) => ({ podSelector: { matchLabels: { [NAME_LABEL]: app } } });
    const namespace = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
    const tcp = (...numbers: number[]) => numbers.map((n) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(n) }));
    const policy = (id: string, name: string, podSelector: kplus.k8s.LabelSelector, ingress: kplus.k8s.NetworkPolicyIngressRule[]) =>
      new k8s.KubeNetworkPolicy(this.chart, id, {
        metadata: { name, namespace: this.namespace },
        spec: { podSelector, policyTypes: ['Ingress'], ingress },
      });
    const clientNamespaces = [...new Set(this.spec.clients.map((client) => client.namespace))];

    policy('DefaultDenyPolicy', 'clickhouse-default-deny', {}, []);
    policy('ServerPolicy', 'clickhouse-server-ingress', pods(SERVER_APP).podSelector, [
      { from: [namespace(this.namespace), ...clientNamespaces.map(namespace)], ports: tcp(HTTPS_PORT, NATIVE_SECURE_PORT) },
      { from: [pods(SERVER_APP)], ports: tcp(INTERSERVER_HTTPS_PORT) },
    ]);
    policy('KeeperPolicy', 'clickhouse-keeper-ingress', pods(KEEPER_NAME).podSelector, [
      { from: [pods(SERVER_APP)], ports: tcp(KEEPER_CLIENT_PORT) },
      { from: [pods(KEEPER_NAME)], ports: tcp(KEEPER_RAFT_PORT) },
    ]);
  }

  /** Metadata of a namespaced object; the chart adds the part-of label. */
  private metadata(name: string, app: string): kplus.k8s.ObjectMeta {
    return { name, namespace: this.namespace, labels: { [NAME_LABEL]: app } };
  }

  private configMaps(): void {
    const { spec } = this;
    new k8s.KubeConfigMap(this.chart, 'ServerConfig', {
      metadata: this.metadata(SERVER_CONFIG_NAME, SERVER_APP),
      data: {
        'server.xml': serverXml(openSslXml(SERVER_TLS_DIR)),
        'macros.xml': macrosXml(spec.clusterName),
        'remote-servers.xml': remoteServersXml(this.topology, spec.clusterName, this.namespace, INTERSERVER_USER),
        'zookeeper.xml': zookeeperXml(spec.keeperNodes, this.namespace),
      },
    });
    new k8s.KubeConfigMap(this.chart, 'ServerUsers', {
      metadata: this.metadata(SERVER_USERS_NAME, SERVER_APP),
      data: { 'users.xml': usersXml(spec.database ?? DEFAULT_DATABASE, this.namespace, spec.clients) },
    });
    new k8s.KubeConfigMap(this.chart, 'KeeperConfig', {
      metadata: this.metadata(KEEPER_CONFIG_NAME, KEEPER_NAME),
      data: {
        [KEEPER_CONFIG_FILE]: keeperXml(spec.keeperNodes, this.namespace, openSslXml(KEEPER_TLS_DIR)),
        [KEEPER_START_FILE]: keeperStartScript(KEEPER_ID_ENV, `${KEEPER_CONFIG_DIR}/${KEEPER_CONFIG_FILE}`),
      },
    });
    // clickhouse-backup reads its whole configuration from the environment.
    new k8s.KubeConfigMap(this.chart, 'BackupEnv', {
      metadata: this.metadata(BACKUP_ENV_NAME, BACKUP_CRONJOB_NAME),
      data: {
        REMOTE_STORAGE: 's3',
        S3_BUCKET: spec.backup.bucketName,
        S3_REGION: spec.region,
        // Keep the local copy (hard links) only until it is uploaded.
        BACKUPS_TO_KEEP_LOCAL: '-1',
        BACKUPS_TO_KEEP_REMOTE: String(spec.backup.retentionDays),
        API_LISTEN: BACKUP_API_ADDRESS,
        API_CREATE_INTEGRATION_TABLES: 'true',
        API_INTEGRATION_TABLES_HOST: BACKUP_API_ADDRESS.split(':')[0] as string,
        // The server's `default` user, which answers on localhost only, over TLS.
        CLICKHOUSE_HOST: 'localhost',
        CLICKHOUSE_PORT: String(NATIVE_SECURE_PORT),
        CLICKHOUSE_USERNAME: 'default',
        CLICKHOUSE_SECURE: 'true',
        CLICKHOUSE_SKIP_VERIFY: 'false',
        CLICKHOUSE_TLS_CA: `${SERVER_TLS_DIR}/${TLS_CA_FILE}`,
        ALLOW_EMPTY_BACKUPS: 'true',
        LOG_LEVEL: 'info',
      },
    });
    new k8s.KubeConfigMap(this.chart, 'JobsConfig', {
      metadata: this.metadata(JOBS_CONFIG_NAME, JOBS_CONFIG_NAME),
      data: {
        [SCHEMA_FILE]: this.schemaSql(),
        [CLIENT_CONFIG_FILE]: adminClientXml(),
        'schema.sh': schemaScript(),
        [BACKUP_SCRIPT_FILE]: backupScript(this.topology, this.namespace),
      },
    });
  }

  private schemaSql(): string {
    const { spec } = this;
    return schemaSql({
      clusterName: spec.clusterName,
      database: spec.database ?? DEFAULT_DATABASE,
      kafka: spec.kafka,
      region: spec.region,
      tableTtlDays: spec.tableTtlDays,
    });
  }

  private shard(shard: ShardTopology): void {
    const { spec } = this;
    const selector = { [NAME_LABEL]: SERVER_APP, [SHARD_LABEL]: String(shard.shard) };
    const metadata = { name: shard.name, namespace: this.namespace, labels: selector };
    const server = serverResources(spec.nodeVcpus, spec.nodeMemoryGiB);
    const id = `Shard${shard.shard}`;

    new k8s.KubeService(this.shardsChart, `${id}Headless`, {
      metadata,
      spec: {
        clusterIp: 'None',
        // Replicas resolve each other (and Keeper its members) before they are ready.
        publishNotReadyAddresses: true,
        selector,
        ports: [port('native-tls', NATIVE_SECURE_PORT), port('interserver', INTERSERVER_HTTPS_PORT)],
      },
    });

    new k8s.KubeStatefulSet(this.shardsChart, id, {
      metadata,
      spec: {
        serviceName: shard.name,
        replicas: spec.replicasPerShard,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            serviceAccountName: spec.serviceAccountName,
            automountServiceAccountToken: false,
            securityContext: this.podSecurity,
            nodeSelector: this.nodeSelector,
            affinity: {
              nodeAffinity: this.zoneAffinity(),
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  // A shard's replicas in different zones: losing a zone loses one copy of each shard.
                  { labelSelector: { matchLabels: selector }, topologyKey: ZONE_KEY },
                  // One server per node: each is sized to have the node to itself.
                  { labelSelector: { matchLabels: { [NAME_LABEL]: SERVER_APP } }, topologyKey: HOSTNAME_KEY },
                ],
              },
            },
            containers: [
              {
                name: 'clickhouse',
                image: spec.image,
                imagePullPolicy: 'IfNotPresent',
                // The server directly, not the image's entrypoint, which writes to /etc (read-only here).
                command: ['clickhouse-server', '--config-file=/etc/clickhouse-server/config.xml'],
                env: [
                  { name: SHARD_ENV, value: String(shard.shard) },
                  { name: REPLICA_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: INTERSERVER_HOST_ENV, value: podDnsName(`$(${REPLICA_ENV})`, shard.name, this.namespace) },
                ],
                ports: [
                  containerPort('https', HTTPS_PORT),
                  containerPort('native-tls', NATIVE_SECURE_PORT),
                  containerPort('interserver', INTERSERVER_HTTPS_PORT),
                ],
                resources: resources(server, { cpu: `${spec.nodeVcpus}` }),
                startupProbe: httpsProbe('/ping', HTTPS_PORT, SERVER_PROBE, SERVER_PROBE.startupFailures),
                readinessProbe: httpsProbe('/ping', HTTPS_PORT, SERVER_PROBE, 3),
                livenessProbe: httpsProbe('/ping', HTTPS_PORT, SERVER_PROBE, SERVER_PROBE.failureThreshold),
                securityContext: CONTAINER_SECURITY,
                volumeMounts: [
                  { name: 'data', mountPath: DATA_PATH },
                  { name: 'config', mountPath: SERVER_CONFIG_DIR },
                  { name: 'users', mountPath: SERVER_USERS_DIR },
                  { name: 'tls', mountPath: SERVER_TLS_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'logs', mountPath: '/var/log/clickhouse-server' },
                ],
              },
              {
                name: 'backup',
                image: spec.backup.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['clickhouse-backup', 'server'],
                envFrom: [{ configMapRef: { name: BACKUP_ENV_NAME } }],
                env: [{ name: 'S3_PATH', value: `${spec.backup.prefix}/shard-${shard.shard}` }],
                resources: resources(BACKUP_SIDECAR_RESOURCES, { cpu: '1' }),
                securityContext: CONTAINER_SECURITY,
                volumeMounts: [
                  { name: 'data', mountPath: DATA_PATH },
                  { name: 'tls', mountPath: SERVER_TLS_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: SERVER_CONFIG_NAME } },
              { name: 'users', configMap: { name: SERVER_USERS_NAME } },
              tlsVolume('tls', SERVER_TLS_SECRET),
              { name: 'tmp', emptyDir: {} },
              { name: 'logs', emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [volumeClaim('data', spec.storageClass, spec.storageGiB)],
      },
    });

    new k8s.KubePodDisruptionBudget(this.shardsChart, `${id}DisruptionBudget`, {
      metadata,
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });
  }

  private keeper(): void {
    const { spec } = this;
    const selector = { [NAME_LABEL]: KEEPER_NAME };
    const metadata = this.metadata(KEEPER_NAME, KEEPER_NAME);
    const keeperResources = spec.keeperResources ?? DEFAULT_KEEPER_RESOURCES;
    // One member per zone when there are zones enough; 5 members over 3 zones are spread at most 2
    // per zone (losing a zone leaves 3 of 5, a quorum) and kept on different nodes.
    const onePerZone = spec.keeperNodes <= spec.zones.length;

    new k8s.KubeService(this.chart, 'KeeperHeadless', {
      metadata,
      spec: {
        clusterIp: 'None',
        // Members must resolve each other to elect a leader, and are not ready until one is elected.
        publishNotReadyAddresses: true,
        selector,
        ports: [port('client', KEEPER_CLIENT_PORT), port('raft', KEEPER_RAFT_PORT), port('http-control', KEEPER_HTTP_CONTROL_PORT)],
      },
    });

    new k8s.KubeStatefulSet(this.chart, 'Keeper', {
      metadata,
      spec: {
        serviceName: KEEPER_NAME,
        replicas: spec.keeperNodes,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            automountServiceAccountToken: false,
            securityContext: this.podSecurity,
            nodeSelector: { [spec.nodePoolLabel ?? DEFAULT_NODE_POOL_LABEL]: spec.keeperNodePool ?? DEFAULT_KEEPER_NODE_POOL },
            affinity: {
              nodeAffinity: this.zoneAffinity(),
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: selector }, topologyKey: onePerZone ? ZONE_KEY : HOSTNAME_KEY },
                ],
              },
            },
            ...(onePerZone
              ? {}
              : {
                  topologySpreadConstraints: [
                    { maxSkew: 1, topologyKey: ZONE_KEY, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: selector } },
                  ],
                }),
            containers: [
              {
                name: 'keeper',
                image: spec.keeperImage,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', `${KEEPER_CONFIG_DIR}/${KEEPER_START_FILE}`],
                ports: [
                  containerPort('client', KEEPER_CLIENT_PORT),
                  containerPort('raft', KEEPER_RAFT_PORT),
                  containerPort('http-control', KEEPER_HTTP_CONTROL_PORT),
                ],
                resources: resources(keeperResources, { cpu: `${Math.max(1000, keeperResources.cpuMillicores)}m` }),
                startupProbe: tcpProbe(KEEPER_CLIENT_PORT, KEEPER_PROBE, KEEPER_PROBE.startupFailures),
                // Ready only while the member sees a leader (the ensemble has a quorum).
                readinessProbe: httpProbe('/ready', KEEPER_HTTP_CONTROL_PORT, KEEPER_PROBE, 3),
                livenessProbe: tcpProbe(KEEPER_CLIENT_PORT, KEEPER_PROBE, KEEPER_PROBE.failureThreshold),
                securityContext: CONTAINER_SECURITY,
                volumeMounts: [
                  { name: 'data', mountPath: KEEPER_DATA_PATH },
                  { name: 'config', mountPath: KEEPER_CONFIG_DIR },
                  { name: 'tls', mountPath: KEEPER_TLS_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: KEEPER_CONFIG_NAME } },
              tlsVolume('tls', KEEPER_TLS_SECRET),
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [volumeClaim('data', spec.storageClass, spec.keeperStorageGiB ?? DEFAULT_KEEPER_STORAGE_GIB)],
      },
    });

    new k8s.KubePodDisruptionBudget(this.chart, 'KeeperDisruptionBudget', {
      metadata,
      // A drain takes one member at a time, so a quorum always remains.
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });
  }

  private zoneAffinity(): kplus.k8s.NodeAffinity {
    return {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_KEY, operator: 'In', values: [...this.spec.zones] }] }],
      },
    };
  }

  /** Pod of a Job: `sh <script>` from the jobs ConfigMap with the server image's clickhouse-client. */
  private jobPod(app: string, container: string, script: string): kplus.k8s.PodTemplateSpec {
    return {
      metadata: { labels: { [NAME_LABEL]: app } },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: this.podSecurity,
        nodeSelector: { [this.spec.nodePoolLabel ?? DEFAULT_NODE_POOL_LABEL]: this.spec.utilityNodePool ?? DEFAULT_UTILITY_NODE_POOL },
        containers: [
          {
            name: container,
            image: this.spec.image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', `${JOBS_DIR}/${script}`],
            env: [{ name: 'HOME', value: '/tmp' }],
            resources: resources(JOB_RESOURCES, { cpu: '1' }),
            securityContext: CONTAINER_SECURITY,
            volumeMounts: [
              { name: 'jobs', mountPath: JOBS_DIR },
              { name: 'tls', mountPath: CLIENT_TLS_DIR, readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          },
        ],
        volumes: [
          { name: 'jobs', configMap: { name: JOBS_CONFIG_NAME } },
          tlsVolume('tls', ADMIN_TLS_SECRET),
          { name: 'tmp', emptyDir: {} },
        ],
      },
    };
  }

  private schemaJob(): void {
    new k8s.KubeJob(this.chart, 'SchemaJob', {
      metadata: this.metadata(`${SCHEMA_JOB_PREFIX}${schemaHash(this.schemaSql())}`, SCHEMA_APP),
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: SCHEMA_JOB_DEADLINE_SECONDS,
        ttlSecondsAfterFinished: SCHEMA_JOB_TTL_SECONDS,
        template: this.jobPod(SCHEMA_APP, 'schema', 'schema.sh'),
      },
    });
  }

  private backupCronJob(): void {
    new k8s.KubeCronJob(this.chart, 'BackupCronJob', {
      metadata: this.metadata(BACKUP_CRONJOB_NAME, BACKUP_CRONJOB_NAME),
      spec: {
        schedule: this.spec.backup.schedule,
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3_600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            // A retry starts a new backup of every shard; one is enough before the next day's run.
            backoffLimit: 1,
            activeDeadlineSeconds: BACKUP_DEADLINE_SECONDS,
            template: this.jobPod(BACKUP_CRONJOB_NAME, 'backup', BACKUP_SCRIPT_FILE),
          },
        },
      },
    });
  }
}

const CONTAINER_SECURITY: kplus.k8s.SecurityContext = restrictedContainerSecurity();

function port(name: string, number: number): kplus.k8s.ServicePort {
  return { name, port: number, targetPort: k8s.IntOrString.fromString(name) };
}

function containerPort(name: string, number: number): kplus.k8s.ContainerPort {
  return { name, containerPort: number };
}

/** Requests as given; memory limit = request (memory cannot be throttled, only reclaimed by killing). */
function resources(requests: ClickHouseResources, limits: { cpu: string }): kplus.k8s.ResourceRequirements {
  const memory = k8s.Quantity.fromString(`${requests.memoryMiB}Mi`);
  return {
    requests: { cpu: k8s.Quantity.fromString(`${requests.cpuMillicores}m`), memory },
    limits: { cpu: k8s.Quantity.fromString(limits.cpu), memory },
  };
}

interface ProbeTiming {
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
}

/** HTTPS GET (the kubelet does not verify the certificate, nor present one). */
function httpsProbe(path: string, portNumber: number, timing: ProbeTiming, failureThreshold: number): kplus.k8s.Probe {
  return { httpGet: { path, port: k8s.IntOrString.fromNumber(portNumber), scheme: 'HTTPS' }, ...timing, failureThreshold };
}

function httpProbe(path: string, portNumber: number, timing: ProbeTiming, failureThreshold: number): kplus.k8s.Probe {
  return { httpGet: { path, port: k8s.IntOrString.fromNumber(portNumber) }, ...timing, failureThreshold };
}

/** A certificate Secret written by cert-manager, readable by the pod's group only (fsGroup 101). */
function tlsVolume(name: string, secretName: string): kplus.k8s.Volume {
  return { name, secret: { secretName, defaultMode: SECRET_FILE_MODE } };
}

function tcpProbe(portNumber: number, timing: ProbeTiming, failureThreshold: number): kplus.k8s.Probe {
  return { tcpSocket: { port: k8s.IntOrString.fromNumber(portNumber) }, ...timing, failureThreshold };
}

function volumeClaim(name: string, storageClass: string, sizeGiB: number): kplus.k8s.KubePersistentVolumeClaimProps {
  return {
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: storageClass,
      resources: { requests: { storage: k8s.Quantity.fromString(`${sizeGiB}Gi`) } },
    },
  };
}

/** Short hash of the schema; CloudFormation tokens in it count by position, not by their per-synth number. */
function schemaHash(sql: string): string {
  return createHash('sha256')
    .update(sql.replace(/\$\{Token\[[^\]]*\]\}/g, 'TOKEN'))
    .digest('hex')
    .slice(0, 10);
}

function validateSpec(scope: IConstruct, spec: ClickHouseSpec): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  const integer = (what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      fail(`${what} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, got ${value}`);
    }
  };
  const known = (value: string) => !Token.isUnresolved(value);

  if (!isDnsLabel(spec.namespace)) {
    fail(`namespace must be a DNS-1123 label, got '${spec.namespace}'`);
  }
  for (const [what, value] of [
    ['clusterName', spec.clusterName],
    ['database', spec.database ?? DEFAULT_DATABASE],
  ] as const) {
    if (!IDENTIFIER.test(value)) fail(`${what} must be lower-case letters, digits and '_', starting with a letter, got '${value}'`);
  }
  integer('shards', spec.shards, 1);
  if (spec.zones.length < 3) {
    fail(
      `zones must name at least 3 availability zones (a shard's replicas and the Keeper members are spread over them), got ${spec.zones.length}`,
    );
  }
  if (known(spec.zones.join('')) && new Set(spec.zones).size !== spec.zones.length)
    fail(`zones must be distinct, got ${spec.zones.join(', ')}`);
  integer('replicasPerShard', spec.replicasPerShard, 1, 3);
  if (spec.replicasPerShard > spec.zones.length) {
    fail(
      `replicasPerShard (${spec.replicasPerShard}) must not exceed the number of zones (${spec.zones.length}); a shard's replicas sit in different zones`,
    );
  }
  if (spec.keeperNodes !== 3 && spec.keeperNodes !== 5) {
    fail(`keeperNodes must be 3 or 5 (an odd ensemble that keeps a quorum with one member down), got ${spec.keeperNodes}`);
  }
  // The server's share after the backup sidecar must stay positive and useful.
  integer('nodeVcpus', spec.nodeVcpus, 2);
  integer('nodeMemoryGiB', spec.nodeMemoryGiB, 4);
  integer('storageGiB', spec.storageGiB, 1);
  if (spec.keeperStorageGiB !== undefined) integer('keeperStorageGiB', spec.keeperStorageGiB, 1);
  if (spec.keeperResources !== undefined) {
    integer('keeperResources.cpuMillicores', spec.keeperResources.cpuMillicores, 1);
    integer('keeperResources.memoryMiB', spec.keeperResources.memoryMiB, 1);
  }
  if (spec.tableTtlDays !== undefined) integer('tableTtlDays', spec.tableTtlDays, 1);
  if (spec.storageClass === '') fail('storageClass must name a StorageClass');
  if (known(spec.serviceAccountName)) validateDnsSubdomain(scope, 'serviceAccountName', spec.serviceAccountName);
  for (const [what, value] of [
    ['image', spec.image],
    ['keeperImage', spec.keeperImage],
    ['backup.image', spec.backup.image],
    ['backup.bucketName', spec.backup.bucketName],
    ['region', spec.region],
  ] as const) {
    if (value === '') fail(`${what} must not be empty`);
  }

  validateClients(scope, spec.clients);
  const { tls } = spec;
  validateIssuer(scope, 'tls.issuer', tls.issuer);
  const duration = tls.durationHours ?? DEFAULT_CERTIFICATE_DURATION_HOURS;
  integer('tls.durationHours', duration, 1);
  integer('tls.renewBeforeHours', tls.renewBeforeHours ?? DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS, 1, duration - 1);

  const { backup, kafka } = spec;
  integer('backup.retentionDays', backup.retentionDays, 1);
  if (known(backup.prefix) && (backup.prefix === '' || backup.prefix.startsWith('/') || backup.prefix.endsWith('/'))) {
    fail(`backup.prefix must be a non-empty key prefix without leading or trailing '/', got '${backup.prefix}'`);
  }
  if (known(backup.schedule) && backup.schedule.trim().split(/\s+/).length !== 5) {
    fail(`backup.schedule must be a 5-field cron expression, got '${backup.schedule}'`);
  }
  for (const [what, value] of [
    ['kafka.topics.spans', kafka.topics.spans],
    ['kafka.topics.evaluations', kafka.topics.evaluations],
    ['kafka.consumerGroup', kafka.consumerGroup],
  ] as const) {
    if (known(value) && !KAFKA_NAME.test(value)) fail(`${what} must be a Kafka name (letters, digits, '.', '_', '-'), got '${value}'`);
  }
  // Literal values go into single-quoted SQL strings.
  for (const [what, value] of [
    ['kafka.bootstrapServers', kafka.bootstrapServers],
    ['region', spec.region],
  ] as const) {
    if (known(value) && (value === '' || /['\\\s]/.test(value)))
      fail(`${what} must be non-empty, without quotes, backslashes or spaces, got '${value}'`);
  }
}

function validateClients(scope: IConstruct, clients: readonly ClickHouseClientSpec[]): void {
  const seen = new Set<string>();
  for (const client of clients) {
    if (!isDnsLabel(client.namespace)) {
      throw new ValidationError(`clients: namespace must be a DNS-1123 label, got '${client.namespace}'`, scope);
    }
    if (client.access !== 'read' && client.access !== 'write') {
      throw new ValidationError(
        `clients: access of namespace '${client.namespace}' must be 'read' or 'write', got '${client.access}'`,
        scope,
      );
    }
    const key = `${client.namespace} ${client.access}`;
    if (seen.has(key)) {
      throw new ValidationError(
        `clients: namespace '${client.namespace}' is listed twice with access '${client.access}'; one certificate serves its pods`,
        scope,
      );
    }
    seen.add(key);
  }
}
