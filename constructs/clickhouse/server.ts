import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { NAME_LABEL, resourceRequirements } from '../private/k8s';
import { backupSidecar } from './backup';
import {
  appMetadata,
  type ClickHouseStatefulSetProps,
  CONTAINER_SECURITY,
  containerPort,
  DATA_PATH,
  DEFAULT_NODE_POOL,
  HOSTNAME_KEY,
  headlessServiceSpec,
  httpsProbe,
  onePodAtATime,
  POD_SECURITY,
  poolSelector,
  SERVER_APP,
  SHARD_LABEL,
  servicePort,
  tlsVolume,
  volumeClaim,
  ZONE_KEY,
  zoneAffinity,
} from './k8s';
import { SERVER_TLS_DIR, SERVER_TLS_SECRET } from './security';
import { SERVER_CONFIG_NAME, SERVER_USERS_NAME } from './server-config';
import {
  HTTPS_PORT,
  INTERSERVER_HOST_ENV,
  INTERSERVER_HTTPS_PORT,
  NATIVE_SECURE_PORT,
  podDnsName,
  QUERY_SERVICE_NAME,
  REPLICA_ENV,
  SHARD_ENV,
  type ShardTopology,
  serverResources,
} from './topology';
import type { ClickHouseBackupSpec } from './types';

const SERVER_CONFIG_DIR = '/etc/clickhouse-server/config.d';
const SERVER_USERS_DIR = '/etc/clickhouse-server/users.d';
/**
 * Probe timings, ours: /ping answers as soon as the HTTP handler is up. The startup probe gives a
 * server 15 minutes to load its tables before liveness applies.
 */
const SERVER_PROBE = { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6, startupFailures: 90 };

export interface ClickHouseShardProps extends ClickHouseStatefulSetProps {
  readonly shard: ShardTopology;
  /** 1 to 3, one per zone. */
  readonly replicasPerShard: number;
  /** ServiceAccount of the server pods. */
  readonly serviceAccountName: string;
  /** vCPUs of the node each replica gets to itself; see `serverResources`. */
  readonly nodeVcpus: number;
  readonly nodeMemoryGiB: number;
  /** Size of each replica's data volume, GiB. */
  readonly storageGiB: number;
  /** Settings of the replicas' backup sidecars. */
  readonly backup: ClickHouseBackupSpec;
  /**
   * Pool of the servers.
   * @default DEFAULT_NODE_POOL
   */
  readonly nodePool?: string;
}

/**
 * One shard: a StatefulSet of `replicasPerShard` replicas (Parallel, one per zone, one per node, on
 * the servers' pool), each with a clickhouse-backup sidecar; a headless Service for the replicas' DNS
 * names; and a PodDisruptionBudget that lets a drain take one replica at a time.
 */
export class ClickHouseShard extends Construct {
  public readonly headlessService: kplus.k8s.KubeService;
  public readonly statefulSet: kplus.k8s.KubeStatefulSet;
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: ClickHouseShardProps) {
    super(scope, id);
    const { shard } = props;
    const selector = { [NAME_LABEL]: SERVER_APP, [SHARD_LABEL]: String(shard.shard) };
    const metadata = { name: shard.name, namespace: props.namespace, labels: selector };

    this.headlessService = new kplus.k8s.KubeService(this, 'Headless', {
      metadata,
      spec: headlessServiceSpec(selector, [
        servicePort('native-tls', NATIVE_SECURE_PORT),
        servicePort('interserver', INTERSERVER_HTTPS_PORT),
      ]),
    });

    this.statefulSet = new kplus.k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata,
      spec: {
        serviceName: shard.name,
        replicas: props.replicasPerShard,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            serviceAccountName: props.serviceAccountName,
            automountServiceAccountToken: false,
            securityContext: POD_SECURITY,
            nodeSelector: poolSelector(props.nodePoolLabel, props.nodePool ?? DEFAULT_NODE_POOL),
            affinity: {
              nodeAffinity: zoneAffinity(props.zones),
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
                image: props.image,
                imagePullPolicy: 'IfNotPresent',
                // The server directly, not the image's entrypoint, which writes to /etc (read-only here).
                command: ['clickhouse-server', '--config-file=/etc/clickhouse-server/config.xml'],
                env: [
                  { name: SHARD_ENV, value: String(shard.shard) },
                  { name: REPLICA_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: INTERSERVER_HOST_ENV, value: podDnsName(`$(${REPLICA_ENV})`, shard.name, props.namespace) },
                ],
                ports: [
                  containerPort('https', HTTPS_PORT),
                  containerPort('native-tls', NATIVE_SECURE_PORT),
                  containerPort('interserver', INTERSERVER_HTTPS_PORT),
                ],
                resources: resourceRequirements(serverResources(props.nodeVcpus, props.nodeMemoryGiB), `${props.nodeVcpus}`),
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
              backupSidecar(props.backup, shard.shard),
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
        volumeClaimTemplates: [volumeClaim('data', props.storageClass, props.storageGiB)],
      },
    });

    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata,
      spec: onePodAtATime(selector),
    });
  }
}

export interface ClickHouseQueryServiceProps {
  readonly namespace: string;
}

/** The `clickhouse` ClusterIP Service of the query path (HTTPS and native TLS) over every server. */
export class ClickHouseQueryService extends Construct {
  public readonly service: kplus.k8s.KubeService;

  constructor(scope: Construct, id: string, props: ClickHouseQueryServiceProps) {
    super(scope, id);
    this.service = new kplus.k8s.KubeService(this, 'QueryService', {
      metadata: appMetadata(QUERY_SERVICE_NAME, props.namespace, SERVER_APP),
      spec: {
        type: 'ClusterIP',
        selector: { [NAME_LABEL]: SERVER_APP },
        ports: [servicePort('https', HTTPS_PORT), servicePort('native-tls', NATIVE_SECURE_PORT)],
      },
    });
  }
}
