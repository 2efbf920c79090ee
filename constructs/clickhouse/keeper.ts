import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { type ContainerResources, NAME_LABEL, resourceRequirements } from '../private/k8s';
import {
  appMetadata,
  type ClickHouseStatefulSetProps,
  CONTAINER_SECURITY,
  containerPort,
  DEFAULT_KEEPER_NODE_POOL,
  HOSTNAME_KEY,
  headlessServiceSpec,
  httpProbe,
  onePodAtATime,
  POD_SECURITY,
  poolSelector,
  servicePort,
  tcpProbe,
  tlsVolume,
  volumeClaim,
  ZONE_KEY,
  zoneAffinity,
} from './k8s';
import { keeperStartScript } from './scripts';
import { KEEPER_TLS_DIR, KEEPER_TLS_SECRET, openSslXml } from './security';
import {
  KEEPER_CLIENT_PORT,
  KEEPER_DATA_PATH,
  KEEPER_HTTP_CONTROL_PORT,
  KEEPER_ID_ENV,
  KEEPER_NAME,
  KEEPER_RAFT_PORT,
  keeperXml,
} from './topology';

export const KEEPER_CONFIG_NAME = 'clickhouse-keeper-config';
export const DEFAULT_KEEPER_STORAGE_GIB = 20;
export const DEFAULT_KEEPER_RESOURCES: ContainerResources = { cpuMillicores: 250, memoryMiB: 1024 };

const KEEPER_CONFIG_DIR = '/etc/clickhouse-keeper';
const KEEPER_CONFIG_FILE = 'keeper_config.xml';
const KEEPER_START_FILE = 'start.sh';
/** Probe timings, ours. */
const KEEPER_PROBE = { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 6, startupFailures: 60 };

export interface ClickHouseKeeperConfigProps {
  readonly namespace: string;
  /** Ensemble size. */
  readonly keeperNodes: number;
}

/** The Keeper configuration (Raft membership, TLS) and the start script that gives each member its Raft id. */
export class ClickHouseKeeperConfig extends Construct {
  public readonly configMap: kplus.k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: ClickHouseKeeperConfigProps) {
    super(scope, id);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'KeeperConfig', {
      metadata: appMetadata(KEEPER_CONFIG_NAME, props.namespace, KEEPER_NAME),
      data: {
        [KEEPER_CONFIG_FILE]: keeperXml(props.keeperNodes, props.namespace, openSslXml(KEEPER_TLS_DIR)),
        [KEEPER_START_FILE]: keeperStartScript(KEEPER_ID_ENV, `${KEEPER_CONFIG_DIR}/${KEEPER_CONFIG_FILE}`),
      },
    });
  }
}

export interface ClickHouseKeeperProps extends ClickHouseStatefulSetProps {
  /** Ensemble size: 3 or 5. */
  readonly keeperNodes: number;
  /**
   * Volume per member, GiB.
   * @default DEFAULT_KEEPER_STORAGE_GIB
   */
  readonly storageGiB?: number;
  /**
   * Requests of each member (memory limit = request; CPU may burst to a core).
   * @default DEFAULT_KEEPER_RESOURCES
   */
  readonly resources?: ContainerResources;
  /**
   * Pool of the members.
   * @default DEFAULT_KEEPER_NODE_POOL
   */
  readonly nodePool?: string;
}

/**
 * The Keeper ensemble: a StatefulSet of `keeperNodes` members in different zones, its headless
 * Service and a PodDisruptionBudget that keeps a quorum.
 */
export class ClickHouseKeeper extends Construct {
  public readonly headlessService: kplus.k8s.KubeService;
  public readonly statefulSet: kplus.k8s.KubeStatefulSet;
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: ClickHouseKeeperProps) {
    super(scope, id);
    const selector = { [NAME_LABEL]: KEEPER_NAME };
    const metadata = appMetadata(KEEPER_NAME, props.namespace, KEEPER_NAME);
    const resources = props.resources ?? DEFAULT_KEEPER_RESOURCES;
    // One member per zone when there are zones enough; 5 members over 3 zones are spread at most 2
    // per zone (losing a zone leaves 3 of 5, a quorum) and kept on different nodes.
    const onePerZone = props.keeperNodes <= props.zones.length;

    // Members must resolve each other to elect a leader, and are not ready until one is elected.
    this.headlessService = new kplus.k8s.KubeService(this, 'KeeperHeadless', {
      metadata,
      spec: headlessServiceSpec(selector, [
        servicePort('client', KEEPER_CLIENT_PORT),
        servicePort('raft', KEEPER_RAFT_PORT),
        servicePort('http-control', KEEPER_HTTP_CONTROL_PORT),
      ]),
    });

    this.statefulSet = new kplus.k8s.KubeStatefulSet(this, 'Keeper', {
      metadata,
      spec: {
        serviceName: KEEPER_NAME,
        replicas: props.keeperNodes,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            automountServiceAccountToken: false,
            securityContext: POD_SECURITY,
            nodeSelector: poolSelector(props.nodePoolLabel, props.nodePool ?? DEFAULT_KEEPER_NODE_POOL),
            affinity: {
              nodeAffinity: zoneAffinity(props.zones),
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
                image: props.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', `${KEEPER_CONFIG_DIR}/${KEEPER_START_FILE}`],
                ports: [
                  containerPort('client', KEEPER_CLIENT_PORT),
                  containerPort('raft', KEEPER_RAFT_PORT),
                  containerPort('http-control', KEEPER_HTTP_CONTROL_PORT),
                ],
                resources: resourceRequirements(resources, `${Math.max(1000, resources.cpuMillicores)}m`),
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
        volumeClaimTemplates: [volumeClaim('data', props.storageClass, props.storageGiB ?? DEFAULT_KEEPER_STORAGE_GIB)],
      },
    });

    // A drain takes one member at a time, so a quorum always remains.
    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'KeeperDisruptionBudget', {
      metadata,
      spec: onePodAtATime(selector),
    });
  }
}
