import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Token } from 'aws-cdk-lib';
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, type IConstruct } from 'constructs';
import { SECRET_FILE_MODE } from '../private/certificates';
import { isDnsLabel, NAME_LABEL, PART_OF, PART_OF_LABEL, validateDnsLabel, validateDnsSubdomain, validateInteger } from '../private/k8s';
import { ValidationError } from '../private/validation-error';

export { NAME_LABEL, PART_OF, PART_OF_LABEL, validateDnsLabel };

import { TargetGroupBinding } from './target-group-binding';
import type { HealthProbe, PlatformContainerProps, SecretMount } from './types';

/** Node label of the general-purpose node group every platform pod runs on. */
export const NODE_POOL_LABEL = 'mlp.platform/pool';
export const NODE_POOL = 'general';

/** Fixed non-root UID and GID of every platform container (images must not need root). */
export const RUN_AS_USER = 10001;

/** The writable scratch directory (an emptyDir); the rest of the root file system is read-only. */
const TMP_PATH = '/tmp';

/** The Service listens on 80 and forwards to the container port; target group bindings point at it. */
export const SERVICE_PORT = 80;

/**
 * How long a container may take to answer its health check after it starts, before it is
 * restarted. The startup probe holds the liveness probe back until then, so a slow start is not
 * mistaken for a hung process.
 */
export const STARTUP_GRACE_SECONDS = 120;

/** How strictly the pods are spread over zones and nodes. */
export enum SpreadPolicy {
  /**
   * Spread as evenly as possible, but schedule anyway. While a zone is impaired its pods still
   * count, and a hard constraint would leave replacements Pending exactly when the other zones
   * must absorb the load.
   */
  PREFERRED = 'ScheduleAnyway',
  /** Never place two pods closer than the skew allows; for a few replicas that must not share a failure domain. */
  REQUIRED = 'DoNotSchedule',
}

export interface PlatformWorkloadProps extends Omit<PlatformContainerProps, 'env'> {
  /** @default - none */
  readonly env?: Readonly<Record<string, kplus.EnvValue>>;
  /**
   * Fixed replica count.
   * @default - none: an autoscaler owns the count, and `spec.replicas` is left out
   */
  readonly replicas?: number;
  /**
   * Mount a Kubernetes API token in the pods.
   * @default false
   */
  readonly kubernetesApiAccess?: boolean;
  /** How strictly pods are spread over zones and nodes. */
  readonly spread: SpreadPolicy;
  /**
   * Secrets mounted read-only (files mode 0440, readable through the pod's fsGroup), e.g. client
   * certificates. A Secret that does not exist yet holds the pods in ContainerCreating until it does.
   * @default - none
   */
  readonly secretMounts?: readonly SecretMount[];
}

/** The workload props of a service or the scheduler: its container as given, its environment as literal values. */
export function containerWorkloadProps(props: PlatformContainerProps): Omit<PlatformWorkloadProps, 'spread'> {
  const { name, image, port, resources, probe, serviceAccountName, targetGroupArn, loadBalancerSecurityGroupId } = props;
  const env = Object.fromEntries(Object.entries(props.env ?? {}).map(([key, value]) => [key, kplus.EnvValue.fromValue(value)]));
  return { name, image, port, resources, probe, serviceAccountName, targetGroupArn, loadBalancerSecurityGroupId, env };
}

/**
 * The parts every platform workload shares: a ServiceAccount, a hardened Deployment (non-root,
 * read-only root file system, no capabilities, RuntimeDefault seccomp, writable /tmp only) with
 * health probes and optional read-only Secret mounts, spread over zones and nodes on the general
 * node pool, a ClusterIP Service on port 80, and optionally a TargetGroupBinding that registers the
 * pods in an ALB target group.
 */
export class PlatformWorkload extends Construct {
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  public readonly targetGroupBinding?: TargetGroupBinding;
  /** Labels that select this workload's pods. */
  public readonly selector: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PlatformWorkloadProps) {
    super(scope, id);
    validateWorkload(this, props);
    const { name, port, probe } = props;
    this.selector = { [NAME_LABEL]: name };
    const labels = { ...this.selector, [PART_OF_LABEL]: PART_OF };

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: props.serviceAccountName, labels },
    });

    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp');
    const secretMounts = (props.secretMounts ?? []).map((mount, i) => ({
      path: mount.mountPath,
      readOnly: true,
      volume: kplus.Volume.fromSecret(this, `SecretVolume${i}`, kplus.Secret.fromSecretName(this, `Secret${i}`, mount.secretName), {
        name: secretVolumeName(mount),
        defaultMode: SECRET_FILE_MODE,
      }),
    }));
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, labels },
      // cdk8s-plus selects on its own address label by default; select on the name label instead.
      select: false,
      podMetadata: { labels },
      replicas: props.replicas,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: props.kubernetesApiAccess ?? false,
      // fsGroup makes mounted Secret files (mode 0440) group-owned by, and so readable to, the containers.
      securityContext: { ensureNonRoot: true, user: RUN_AS_USER, group: RUN_AS_USER, fsGroup: RUN_AS_USER },
      volumes: [tmp, ...secretMounts.map((mount) => mount.volume)],
      containers: [
        {
          name,
          image: props.image,
          // Release tags are immutable, so a node's cached image is the right one.
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          portNumber: port,
          resources: {
            cpu: { request: kplus.Cpu.millis(props.resources.cpuMillicores), limit: kplus.Cpu.millis(2 * props.resources.cpuMillicores) },
            // Memory cannot be throttled, only reclaimed by killing: limit = request keeps pods inside what the scheduler reserved.
            memory: { request: Size.mebibytes(props.resources.memoryMiB), limit: Size.mebibytes(props.resources.memoryMiB) },
          },
          readiness: httpProbe(probe, port, probe.successThreshold, probe.failureThreshold),
          // Kubernetes requires successThreshold 1 for liveness (and startup) probes.
          liveness: httpProbe(probe, port, 1, probe.failureThreshold),
          startup: httpProbe(probe, port, 1, Math.ceil(STARTUP_GRACE_SECONDS / probe.periodSeconds)),
          envVariables: { ...props.env },
          volumeMounts: [{ path: TMP_PATH, volume: tmp }, ...secretMounts],
          securityContext: {
            ensureNonRoot: true,
            user: RUN_AS_USER,
            group: RUN_AS_USER,
            privileged: false,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: [kplus.Capability.ALL] },
            seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
          },
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selector }));
    if (props.replicas === undefined) {
      // Without this cdk8s-plus writes `replicas: 2`, and every apply would reset the autoscaler's count.
      this.deployment.markHasAutoscaler();
    }
    patchPodSpec(ApiObject.of(this.deployment), this.selector, props.spread);

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name, labels },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ port: SERVICE_PORT, targetPort: port }],
    });
    for (const [key, value] of Object.entries(this.selector)) this.service.selectLabel(key, value);

    // validateWorkload made sure a target group comes with the load balancer's security group.
    if (props.targetGroupArn !== undefined && props.loadBalancerSecurityGroupId !== undefined) {
      this.targetGroupBinding = new TargetGroupBinding(this, 'TargetGroupBinding', {
        name,
        labels,
        targetGroupArn: props.targetGroupArn,
        serviceName: name,
        servicePort: SERVICE_PORT,
        loadBalancerSecurityGroupId: props.loadBalancerSecurityGroupId,
        containerPort: port,
      });
    }
  }
}

/**
 * `secret-<secretName>` when that is a DNS-1123 label. Otherwise (a dotted or long Secret name, or
 * a token) a label of the same form shortened to fit, with a hash of the Secret name (of the mount
 * path for a token, whose text is not its value) to keep it unique and deterministic.
 */
function secretVolumeName(mount: SecretMount): string {
  if (Token.isUnresolved(mount.secretName)) return `secret-${shortHash(mount.mountPath)}`;
  const plain = `secret-${mount.secretName}`;
  if (isDnsLabel(plain)) return plain;
  const hash = shortHash(mount.secretName);
  const prefix = plain
    .replace(/\./g, '-')
    .slice(0, 63 - hash.length - 1)
    .replace(/-+$/, '');
  return `${prefix}-${hash}`;
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

function httpProbe(probe: HealthProbe, port: number, successThreshold: number, failureThreshold: number): kplus.Probe {
  return kplus.Probe.fromHttpGet(probe.path, {
    port,
    periodSeconds: Duration.seconds(probe.periodSeconds),
    timeoutSeconds: Duration.seconds(probe.timeoutSeconds),
    failureThreshold,
    successThreshold,
  });
}

/** What cdk8s-plus cannot express: topology spread constraints and a plain node selector. */
function patchPodSpec(deployment: ApiObject, selector: Readonly<Record<string, string>>, spread: SpreadPolicy): void {
  const constraint = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: spread,
    labelSelector: { matchLabels: { ...selector } },
  });
  deployment.addJsonPatch(
    // cdk8s-plus always adds its address label to the pod template; nothing selects on it here.
    JsonPatch.remove(`/spec/template/metadata/labels/${kplus.Pod.ADDRESS_LABEL.replace('/', '~1')}`),
    JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
      constraint('topology.kubernetes.io/zone'),
      constraint('kubernetes.io/hostname'),
    ]),
    JsonPatch.add('/spec/template/spec/nodeSelector', { [NODE_POOL_LABEL]: NODE_POOL }),
  );
}

function validateWorkload(scope: IConstruct, props: PlatformWorkloadProps): void {
  validateDnsLabel(scope, 'name', props.name);
  validateDnsSubdomain(scope, 'serviceAccountName', props.serviceAccountName);
  validateInteger(scope, 'port', props.port, 1, 65535);
  validateInteger(scope, 'resources.cpuMillicores', props.resources.cpuMillicores, 1);
  validateInteger(scope, 'resources.memoryMiB', props.resources.memoryMiB, 1);
  if (!props.probe.path.startsWith('/')) {
    throw new ValidationError(`probe.path must be an absolute HTTP path, got '${props.probe.path}'`, scope);
  }
  validateInteger(scope, 'probe.periodSeconds', props.probe.periodSeconds, 1);
  validateInteger(scope, 'probe.timeoutSeconds', props.probe.timeoutSeconds, 1);
  validateInteger(scope, 'probe.failureThreshold', props.probe.failureThreshold, 1);
  validateInteger(scope, 'probe.successThreshold', props.probe.successThreshold, 1);
  if (props.replicas !== undefined) validateInteger(scope, 'replicas', props.replicas, 1);
  if (props.targetGroupArn !== undefined && props.loadBalancerSecurityGroupId === undefined) {
    throw new ValidationError(
      `${props.name} has a targetGroupArn but no loadBalancerSecurityGroupId; the load balancer's security group must be allowed to reach the pods`,
      scope,
    );
  }
  validateSecretMounts(scope, props.name, props.secretMounts ?? []);
}

function validateSecretMounts(scope: IConstruct, name: string, mounts: readonly SecretMount[]): void {
  mounts.forEach((mount, i) => {
    const field = `${name} secretMounts[${i}]`;
    if (!Token.isUnresolved(mount.secretName)) validateDnsSubdomain(scope, `${field}.secretName`, mount.secretName);
    validateMountPath(scope, `${field}.mountPath`, mount.mountPath);
    mounts.slice(0, i).forEach((earlier, j) => {
      if (earlier.mountPath === mount.mountPath) {
        throw new ValidationError(
          `${field}.mountPath '${mount.mountPath}' is already used by secretMounts[${j}]; each Secret needs its own directory`,
          scope,
        );
      }
      const [outer, inner] = mount.mountPath.length < earlier.mountPath.length ? [mount, earlier] : [earlier, mount];
      if (inner.mountPath.startsWith(`${outer.mountPath}/`)) {
        throw new ValidationError(
          `${name} secretMounts[${j}].mountPath '${earlier.mountPath}' and secretMounts[${i}].mountPath '${mount.mountPath}' nest; secret mounts must be separate directories`,
          scope,
        );
      }
      if (earlier.secretName === mount.secretName) {
        throw new ValidationError(
          `${field}.secretName '${mount.secretName}' is already mounted by secretMounts[${j}]; mount each Secret once`,
          scope,
        );
      }
    });
  });
}

function validateMountPath(scope: IConstruct, what: string, path: string): void {
  if (Token.isUnresolved(path)) {
    throw new ValidationError(`${what} must be a literal path, not a token`, scope);
  }
  if (path === '/') {
    throw new ValidationError(`${what} must not be '/', which would hide the container's whole file system`, scope);
  }
  if (!path.startsWith('/') || path.endsWith('/') || path.includes(':') || posix.normalize(path) !== path) {
    throw new ValidationError(
      `${what} must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got '${path}'`,
      scope,
    );
  }
  if (path === TMP_PATH || path.startsWith(`${TMP_PATH}/`)) {
    throw new ValidationError(
      `${what} must not be ${TMP_PATH} or inside it (the writable scratch directory is mounted there), got '${path}'`,
      scope,
    );
  }
}
