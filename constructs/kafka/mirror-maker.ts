import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { type CertificateIssuer, leafCertificate, SECRET_FILE_MODE, validateIssuer } from '../private/certificates';
import { contentHash, maskTokens, validateInteger } from '../private/k8s';
import { ValidationError } from '../private/validation-error';
import { MSK_IAM_CLIENT_SETTINGS, propertyLines } from './client-config';
import { KafkaToolChart, type KafkaToolProps } from './k8s';

export const MIRROR_MAKER_NAMESPACE = 'kafka-replication';
/** Port of the workers' internal REST API, over which followers forward task configurations to the leader. */
export const MIRROR_MAKER_REST_PORT = 8083;
/** Where the workers find the REST API's key store and trust store (the chart mounts its certificate Secret there). */
export const MIRROR_MAKER_TLS_DIR = '/etc/mirror-maker/tls';
const PROPERTIES_FILE = 'mm2.properties';
const CLUSTER_ALIAS = /^[A-Za-z0-9_-]+$/;
/** cert-manager writes these two PKCS#12 files into the certificate's Secret (`keystores.pkcs12`). */
const KEY_STORE_FILE = 'keystore.p12';
const TRUST_STORE_FILE = 'truststore.p12';
/**
 * PKCS#12 requires a password, but this one guards nothing: the same Secret holds the unencrypted key
 * (`tls.key`). Access to the Secret and the file mode protect the key, so the password is not a secret.
 */
const STORE_PASSWORD = 'pkcs12-not-a-secret';
/** Checksum of the key store the worker loaded at start. */
const LOADED_KEY_STORE_SUM = '/tmp/keystore.loaded.cksum';
/** cert-manager's advice: longer common names make invalid certificate requests. */
const MAX_COMMON_NAME_LENGTH = 64;

/** One cluster of a MirrorMaker 2 flow. */
export interface MirrorMakerCluster {
  /** Alias in `mm2.properties`, e.g. `use1`: letters, digits, `_` and `-`. */
  readonly alias: string;
  /** `host:port,...` of the cluster's SASL/IAM listener (a token is fine). */
  readonly bootstrapServers: string;
}

/** What MirrorMaker 2 copies, and how often it looks again. */
export interface MirrorMaker2Spec {
  /** The primary, read from. */
  readonly source: MirrorMakerCluster;
  /** The cluster in MirrorMaker's own region, written to. */
  readonly target: MirrorMakerCluster;
  /**
   * Regexes of the topics to copy.
   * @default ['.*']
   */
  readonly topics?: readonly string[];
  /**
   * Regexes of the consumer groups whose offsets are translated.
   * @default ['.*']
   */
  readonly groups?: readonly string[];
  /** `tasks.max`: parallel copy tasks per connector, spread over the replicas. */
  readonly tasks: number;
  /**
   * Replication factor of the copied topics MirrorMaker creates and of its internal topics.
   * @default 3
   */
  readonly replicationFactor?: number;
  /**
   * How often translated consumer offsets are committed to the target, and checkpoints emitted, seconds.
   * @default 60
   */
  readonly offsetSyncIntervalSeconds?: number;
  /**
   * How often new topics and groups on the source are picked up, seconds.
   * @default 60
   */
  readonly refreshIntervalSeconds?: number;
}

/**
 * `mm2.properties` for MirrorMaker 2 in dedicated mode, copying `source` into `target` one way,
 * topic names unchanged (IdentityReplicationPolicy), consumer offsets translated, both clusters
 * reached with MSK IAM over TLS. Offset syncs live on the target, so the source is only read.
 *
 * The workers' internal REST API speaks mutual TLS with the PKCS#12 key and trust stores that
 * `MirrorMaker2Chart` mounts under `MIRROR_MAKER_TLS_DIR`.
 */
export function mirrorMaker2Properties(spec: MirrorMaker2Spec): string {
  const problem = specProblem(spec);
  if (problem !== undefined) throw new Error(problem);
  const { source, target } = spec;
  const src = source.alias;
  const tgt = target.alias;
  const rf = spec.replicationFactor ?? 3;
  const syncInterval = spec.offsetSyncIntervalSeconds ?? 60;
  const refreshInterval = spec.refreshIntervalSeconds ?? 60;
  const lines = [
    `# MirrorMaker 2, dedicated mode: copies ${src} into ${tgt} under the same topic names.`,
    `clusters = ${src}, ${tgt}`,
    `${src}.bootstrap.servers = ${source.bootstrapServers}`,
    `${tgt}.bootstrap.servers = ${target.bootstrapServers}`,
    '',
    '# Both clusters admit IAM-authenticated clients over TLS only.',
    ...propertyLines(MSK_IAM_CLIENT_SETTINGS, src),
    ...propertyLines(MSK_IAM_CLIENT_SETTINGS, tgt),
    '',
    `${src}->${tgt}.enabled = true`,
    `${src}->${tgt}.topics = ${(spec.topics ?? ['.*']).join(', ')}`,
    `${src}->${tgt}.groups = ${(spec.groups ?? ['.*']).join(', ')}`,
    `# Failback flips this flow on (and the one above off) to copy ${tgt}'s writes back once ${src} is restored.`,
    '# Never run both at once: with identical topic names a copy cannot be told from an original, and records would loop.',
    `${tgt}->${src}.enabled = false`,
    `# Without this, MirrorMaker would still run the disabled flow's heartbeats, and write to ${src}.`,
    `${tgt}->${src}.emit.heartbeats.enabled = false`,
    '',
    '# Copies keep the source topic names, so clients fail over by switching bootstrap servers only.',
    'replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
    `replication.factor = ${rf}`,
    `tasks.max = ${spec.tasks}`,
    `refresh.topics.interval.seconds = ${refreshInterval}`,
    `refresh.groups.interval.seconds = ${refreshInterval}`,
    'sync.topic.configs.enabled = true',
    '# MSK IAM access control replaces Kafka ACLs: there are none to copy.',
    'sync.topic.acls.enabled = false',
    'emit.checkpoints.enabled = true',
    `emit.checkpoints.interval.seconds = ${syncInterval}`,
    'sync.group.offsets.enabled = true',
    `sync.group.offsets.interval.seconds = ${syncInterval}`,
    'emit.heartbeats.enabled = true',
    '# Offset syncs on the target: MirrorMaker writes nothing to the source.',
    'offset-syncs.topic.location = target',
    `offset-syncs.topic.replication.factor = ${rf}`,
    `checkpoints.topic.replication.factor = ${rf}`,
    `heartbeats.topic.replication.factor = ${rf}`,
    `offset.storage.replication.factor = ${rf}`,
    `config.storage.replication.factor = ${rf}`,
    `status.storage.replication.factor = ${rf}`,
    '',
    '# Several workers: followers forward task configurations to the leader over the internal REST API (KIP-710),',
    '# over mutual TLS: each worker presents a certificate from the internal CA and requires one from its peer.',
    'dedicated.mode.enable.internal.rest = true',
    `listeners = https://0.0.0.0:${MIRROR_MAKER_REST_PORT}`,
    'rest.advertised.listener = https',
    ...restTlsLines(),
  ];
  return `${lines.join('\n')}\n`;
}

/** A MirrorMaker 2 deployment on EKS. */
export interface MirrorMaker2ChartProps extends MirrorMaker2Spec, KafkaToolProps {
  /**
   * Namespace the chart creates and deploys into.
   * @default MIRROR_MAKER_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Name of the Deployment, ConfigMap and disruption budget.
   * @default 'mirror-maker-2'
   */
  readonly name?: string;
  /** Worker pods; tasks are balanced over them. */
  readonly replicas: number;
  /** TLS of the workers' internal REST API. */
  readonly tls: MirrorMakerRestTls;
}

/** Certificates of MirrorMaker's internal REST API. */
export interface MirrorMakerRestTls {
  /**
   * cert-manager issuer (the cluster's internal CA, e.g. the `mlp-internal-ca` ClusterIssuer) of the
   * certificate each worker presents on the internal REST API; a worker also requires its peer's
   * certificate to be signed by this issuer's CA. An `Issuer` must live in the chart's namespace.
   */
  readonly issuer: CertificateIssuer;
}

/**
 * MirrorMaker 2 as a cdk8s chart: a `restricted` namespace, the `mm2.properties` ConfigMap, a
 * ServiceAccount for Pod Identity, a Deployment of non-root workers with a read-only root file system
 * spread over zones, and a disruption budget that lets a drain take one worker at a time.
 *
 * Each worker advertises its pod IP to the others (`rest.advertised.host.name`, appended at start:
 * the ConfigMap cannot know it). Pods roll when the properties change.
 *
 * The internal REST API speaks mutual TLS with a cert-manager certificate from `tls.issuer`, and a
 * NetworkPolicy admits only the other workers to it.
 */
export class MirrorMaker2Chart extends KafkaToolChart {
  constructor(scope: Construct, id: string, props: MirrorMaker2ChartProps) {
    const namespace = props.namespace ?? MIRROR_MAKER_NAMESPACE;
    const name = props.name ?? 'mirror-maker-2';
    super(scope, id, { ...props, namespace, name });
    const { toolLabels: labels, selector } = this;
    const kafkaHome = props.kafkaHome ?? '/opt/kafka';
    validateInteger(this, 'replicas', props.replicas, 1);
    validateIssuer(this, 'tls.issuer', props.tls.issuer);
    const commonName = `${name}.${namespace}`;
    if (commonName.length > MAX_COMMON_NAME_LENGTH) {
      throw new ValidationError(
        `name and namespace make the certificate's common name '${commonName}', longer than ${MAX_COMMON_NAME_LENGTH} characters`,
        this,
      );
    }
    if (!kafkaHome.startsWith('/')) throw new ValidationError(`kafkaHome must be an absolute path, got '${kafkaHome}'`, this);
    const problem = specProblem(props);
    if (problem !== undefined) throw new ValidationError(problem, this);
    const properties = mirrorMaker2Properties(props);

    const configMap = new kplus.k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: `${name}-config`, labels },
      data: { [PROPERTIES_FILE]: properties },
    });
    const tlsSecretName = `${name}-rest-tls`;
    // No DNS names or IP addresses: workers reach each other at the pod IPs they advertise, which no
    // certificate can list in advance, so peers are not verified by name (see restTlsLines) but by
    // mutual TLS: each side must present a certificate signed by the issuer's CA.
    // The REST server loads its key store at start; the liveness probe restarts the worker after a
    // renewal (the old certificate stays valid for renewBefore meanwhile).
    leafCertificate(this, 'RestCertificate', {
      name: `${name}-rest`,
      secretName: tlsSecretName,
      commonName,
      server: true,
      issuer: props.tls.issuer,
      labels,
      // Connect's REST server and client load their stores through Jetty, which knows no PEM key store.
      keystores: { pkcs12: { create: true, password: STORE_PASSWORD, profile: 'Modern2023' } },
    });

    // The REST server reads its key store once, at start. Remember which one it read; the liveness
    // probe fails once cert-manager has renewed it (the kubelet updates the mounted Secret), so the
    // container restarts and serves the new certificate long before the old one expires.
    const keyStoreSum = `cksum < ${MIRROR_MAKER_TLS_DIR}/${KEY_STORE_FILE}`;
    const start = [
      'set -eu',
      `${keyStoreSum} > ${LOADED_KEY_STORE_SUM}`,
      `cp /config/${PROPERTIES_FILE} /tmp/${PROPERTIES_FILE}`,
      `printf 'rest.advertised.host.name = %s\\n' "$POD_IP" >> /tmp/${PROPERTIES_FILE}`,
      `exec ${kafkaHome}/bin/connect-mirror-maker.sh /tmp/${PROPERTIES_FILE}`,
    ].join('\n');
    const restProbe = (periodSeconds: number, failureThreshold: number): kplus.k8s.Probe => ({
      tcpSocket: { port: kplus.k8s.IntOrString.fromNumber(MIRROR_MAKER_REST_PORT) },
      periodSeconds,
      failureThreshold,
      timeoutSeconds: 5,
    });
    new kplus.k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name, labels },
      spec: {
        replicas: props.replicas,
        selector: { matchLabels: selector },
        // One worker at a time, so the group keeps a quorum of running tasks while it rebalances.
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), maxSurge: kplus.k8s.IntOrString.fromNumber(0) },
        },
        template: {
          metadata: {
            labels,
            annotations: {
              'kafka.mlp.platform/config-hash': contentHash(maskTokens(properties)),
              // The bootstrap servers are tokens the hash cannot see; a new value rolls the pods too.
              'kafka.mlp.platform/source-bootstrap': props.source.bootstrapServers,
              'kafka.mlp.platform/target-bootstrap': props.target.bootstrapServers,
            },
          },
          spec: {
            ...this.podIdentity(),
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'topology.kubernetes.io/zone',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: selector },
              },
            ],
            containers: [
              {
                ...this.container(
                  name,
                  ['/bin/sh', '-c', start],
                  [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                ),
                ports: [{ name: 'rest', containerPort: MIRROR_MAKER_REST_PORT, protocol: 'TCP' }],
                // Workers start slowly (they join the group and read the config topics): give them two minutes.
                startupProbe: restProbe(10, 12),
                readinessProbe: restProbe(10, 3),
                livenessProbe: {
                  exec: { command: ['/bin/sh', '-c', `${keyStoreSum} | cmp -s - ${LOADED_KEY_STORE_SUM}`] },
                  periodSeconds: 60,
                  failureThreshold: 2,
                  timeoutSeconds: 5,
                },
                volumeMounts: [
                  { name: 'config', mountPath: '/config', readOnly: true },
                  { name: 'rest-tls', mountPath: MIRROR_MAKER_TLS_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: configMap.name } },
              {
                name: 'rest-tls',
                // Only the stores; readable by the pod's group (fsGroup), which the container runs as.
                secret: {
                  secretName: tlsSecretName,
                  defaultMode: SECRET_FILE_MODE,
                  items: [KEY_STORE_FILE, TRUST_STORE_FILE].map((file) => ({ key: file, path: file })),
                },
              },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    });
    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, labels },
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });
    // Workers accept nothing but the other workers' REST calls (the kubelet's probes come from the node).
    new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: `${name}-ingress`, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: selector } }],
            ports: [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(MIRROR_MAKER_REST_PORT) }],
          },
        ],
      },
    });
  }
}

/**
 * SSL settings of the internal REST API. Connect's REST server and the REST client with which a
 * follower forwards to the leader both read the `listeners.https.`-prefixed settings, and only
 * those once one is set (SSLUtils, `valuesWithPrefixAllOrNothing`). Unprefixed `ssl.*` would also
 * reach the MSK clients (MirrorMakerConfig copies top-level client settings into every cluster's),
 * whose TLS must trust Amazon's CAs, not the internal one: so there are none.
 */
function restTlsLines(): string[] {
  const https = (key: string, value: string) => `listeners.https.ssl.${key} = ${value}`;
  return [
    "# PKCS#12, not PEM: Connect hands the store type to Jetty, which loads it with the JDK's KeyStore, and the JDK has no PEM key store.",
    '# The store password is not a secret: the same Secret holds the unencrypted key.',
    https('keystore.type', 'PKCS12'),
    https('keystore.location', `${MIRROR_MAKER_TLS_DIR}/${KEY_STORE_FILE}`),
    https('keystore.password', STORE_PASSWORD),
    https('key.password', STORE_PASSWORD),
    https('truststore.type', 'PKCS12'),
    https('truststore.location', `${MIRROR_MAKER_TLS_DIR}/${TRUST_STORE_FILE}`),
    https('truststore.password', STORE_PASSWORD),
    https('client.auth', 'required'),
    '# Workers advertise pod IPs, which no certificate lists: peers are not checked by name, only by a certificate from the internal CA.',
    https('endpoint.identification.algorithm', ''),
  ];
}

function specProblem(spec: MirrorMaker2Spec): string | undefined {
  for (const cluster of [spec.source, spec.target]) {
    if (!CLUSTER_ALIAS.test(cluster.alias)) return `cluster alias '${cluster.alias}' must be letters, digits, '_' and '-'`;
    if (cluster.bootstrapServers.trim() === '') return `cluster '${cluster.alias}' has no bootstrap servers`;
  }
  if (spec.source.alias === spec.target.alias) return `source and target need different aliases, both are '${spec.source.alias}'`;
  if (!Number.isInteger(spec.tasks) || spec.tasks < 1) return `tasks must be a positive integer, got ${spec.tasks}`;
  const rf = spec.replicationFactor ?? 3;
  if (!Number.isInteger(rf) || rf < 1) return `replicationFactor must be a positive integer, got ${rf}`;
  for (const [what, value] of [
    ['offsetSyncIntervalSeconds', spec.offsetSyncIntervalSeconds],
    ['refreshIntervalSeconds', spec.refreshIntervalSeconds],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) return `${what} must be a positive integer, got ${value}`;
  }
  for (const [what, patterns] of [
    ['topics', spec.topics],
    ['groups', spec.groups],
  ] as const) {
    if (patterns === undefined) continue;
    if (patterns.length === 0) return `${what} must list at least one regex`;
    for (const pattern of patterns) {
      if (pattern.includes(',')) return `${what} has '${pattern}'; MirrorMaker splits its lists on commas, so a regex cannot contain one`;
      try {
        new RegExp(pattern);
      } catch {
        return `${what} has '${pattern}', which is not a regular expression`;
      }
    }
  }
  return undefined;
}
