import * as kplus from 'cdk8s-plus-28';
import { SECRET_FILE_MODE } from '../private/certificates';
import { NAME_LABEL, restrictedContainerSecurity, restrictedPodSecurity } from '../private/k8s';

/**
 * What the ClickHouse objects share: labels, node placement and the pieces of their pod specs. The
 * constructs of each concern (server, Keeper, certificates, jobs, backup, network policies) build on
 * these.
 */

export { NAME_LABEL };

const k8s = kplus.k8s;

/** UID and GID ClickHouse's and clickhouse-backup's images run as. */
export const CLICKHOUSE_UID = 101;

/** The shard number of a server pod, next to `NAME_LABEL`. */
export const SHARD_LABEL = 'mlp.platform/clickhouse-shard';
/** `NAME_LABEL` of every server pod (also `clickhouse-keeper`, `clickhouse-schema`, `clickhouse-backup`). */
export const SERVER_APP = 'clickhouse';

export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const HOSTNAME_KEY = 'kubernetes.io/hostname';

export const DEFAULT_NODE_POOL_LABEL = 'mlp.platform/pool';
export const DEFAULT_NODE_POOL = 'memory';
export const DEFAULT_UTILITY_NODE_POOL = 'general';
export const DEFAULT_KEEPER_NODE_POOL = 'general';
export const DEFAULT_DATABASE = 'mlp';

/** Restricted pod security as UID 101, without the recursive chown of multi-TiB volumes on every mount once their root is ours. */
export const POD_SECURITY: kplus.k8s.PodSecurityContext = {
  ...restrictedPodSecurity(CLICKHOUSE_UID),
  fsGroupChangePolicy: 'OnRootMismatch',
};
export const CONTAINER_SECURITY: kplus.k8s.SecurityContext = restrictedContainerSecurity();

/** What the server shards and the Keeper ensemble, StatefulSets kept to the cluster's zones, both take. */
export interface ClickHouseStatefulSetProps {
  readonly namespace: string;
  /** Image of the pods' main container (may be a token). */
  readonly image: string;
  /** The zones the pods are kept to. */
  readonly zones: readonly string[];
  /** StorageClass of the pods' volumes. */
  readonly storageClass: string;
  /**
   * Node label that names a node's pool.
   * @default DEFAULT_NODE_POOL_LABEL
   */
  readonly nodePoolLabel?: string;
}

/** Metadata of a namespaced object of `app`; the chart adds the part-of label. */
export function appMetadata(name: string, namespace: string, app: string): kplus.k8s.ObjectMeta {
  return { name, namespace, labels: { [NAME_LABEL]: app } };
}

/** Node label selecting `pool`, under the cluster's pool label. */
export function poolSelector(nodePoolLabel: string | undefined, pool: string): Record<string, string> {
  return { [nodePoolLabel ?? DEFAULT_NODE_POOL_LABEL]: pool };
}

/** Keeps pods to the cluster's zones. */
export function zoneAffinity(zones: readonly string[]): kplus.k8s.NodeAffinity {
  return {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_KEY, operator: 'In', values: [...zones] }] }],
    },
  };
}

export function servicePort(name: string, number: number): kplus.k8s.ServicePort {
  return { name, port: number, targetPort: k8s.IntOrString.fromString(name) };
}

export function containerPort(name: string, number: number): kplus.k8s.ContainerPort {
  return { name, containerPort: number };
}

export interface ProbeTiming {
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
}

/** HTTPS GET (the kubelet does not verify the certificate, nor present one). */
export function httpsProbe(path: string, portNumber: number, timing: ProbeTiming, failureThreshold: number): kplus.k8s.Probe {
  return { httpGet: { path, port: k8s.IntOrString.fromNumber(portNumber), scheme: 'HTTPS' }, ...timing, failureThreshold };
}

export function httpProbe(path: string, portNumber: number, timing: ProbeTiming, failureThreshold: number): kplus.k8s.Probe {
  return { httpGet: { path, port: k8s.IntOrString.fromNumber(portNumber) }, ...timing, failureThreshold };
}

export function tcpProbe(portNumber: number, timing: ProbeTiming, failureThreshold: number): kplus.k8s.Probe {
  return { tcpSocket: { port: k8s.IntOrString.fromNumber(portNumber) }, ...timing, failureThreshold };
}

/** A certificate Secret written by cert-manager, readable by the pod's group only (fsGroup 101). */
export function tlsVolume(name: string, secretName: string): kplus.k8s.Volume {
  return { name, secret: { secretName, defaultMode: SECRET_FILE_MODE } };
}

export function volumeClaim(name: string, storageClass: string, sizeGiB: number): kplus.k8s.KubePersistentVolumeClaimProps {
  return {
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: storageClass,
      resources: { requests: { storage: k8s.Quantity.fromString(`${sizeGiB}Gi`) } },
    },
  };
}

/**
 * The headless Service of a StatefulSet, which gives each pod its DNS name. Not-ready pods are
 * published too: replicas and Keeper members must resolve each other before they can become ready.
 */
export function headlessServiceSpec(selector: Record<string, string>, ports: kplus.k8s.ServicePort[]): kplus.k8s.ServiceSpec {
  return { clusterIp: 'None', publishNotReadyAddresses: true, selector, ports };
}

/** A disruption budget that lets a drain take one pod of `selector` at a time. */
export function onePodAtATime(selector: Record<string, string>): kplus.k8s.PodDisruptionBudgetSpec {
  return { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } };
}

/** The server's data directory (its volume), which the backup sidecar reads too. */
export const DATA_PATH = '/var/lib/clickhouse';
