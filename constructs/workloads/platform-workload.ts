import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, type IConstruct } from 'constructs';
import { NAME_LABEL, PART_OF, PART_OF_LABEL, validateDnsLabel, validateDnsSubdomain } from '../private/k8s';
import { ValidationError } from '../private/validation-error';

export { NAME_LABEL, PART_OF, PART_OF_LABEL, validateDnsLabel };

import { TargetGroupBinding } from './target-group-binding';
import type { ProbeSpec, ResourceSpec } from './types';

/** Label that selects a workload's pods; selectors are immutable, so it is the only one. */

/** Node label of the general-purpose node group every platform pod runs on. */
export const NODE_POOL_LABEL = 'mlp.platform/pool';
export const NODE_POOL = 'general';

/** Fixed non-root UID and GID of every platform container (images must not need root). */
export const RUN_AS_USER = 10001;

/** The Service listens on 80 and forwards to the container port; target group bindings point at it. */
export const SERVICE_PORT = 80;

/**
 * How long a container may take to answer its health check after it starts, before it is
 * restarted. The startup probe holds the liveness probe back until then, so a slow start is not
 * mistaken for a hung process.
 */
export const STARTUP_GRACE_SECONDS = 120;

/** Throws unless `value` is an integer in [min, max]. */
export function validateInteger(scope: IConstruct, what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new ValidationError(`${what} must be an integer ${range}, got ${value}`, scope);
  }
}

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

export interface PlatformWorkloadProps {
  /** Name of the Deployment, Service and container; a DNS-1123 label. */
  readonly name: string;
  /** Full image reference (may be a token). */
  readonly image: string;
  /** Container port. */
  readonly port: number;
  /** Requests; limits are derived (memory limit = request, CPU limit = 2x request). */
  readonly resources: ResourceSpec;
  readonly probe: ProbeSpec;
  /** ServiceAccount created for the pods (the stack associates an IAM role with it). */
  readonly serviceAccountName: string;
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
  /** Register the pods in this ALB target group (IP targets). */
  readonly targetGroupArn?: string;
  /** ALB security group allowed to reach the pods; required with `targetGroupArn`. */
  readonly loadBalancerSecurityGroupId?: string;
}

/**
 * The parts every platform workload shares: a ServiceAccount, a hardened Deployment (non-root,
 * read-only root file system, no capabilities, RuntimeDefault seccomp, writable /tmp only) with
 * health probes, spread over zones and nodes on the general node pool, a ClusterIP Service on
 * port 80, and optionally a TargetGroupBinding that registers the pods in an ALB target group.
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
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, labels },
      // cdk8s-plus selects on its own address label by default; select on the name label instead.
      select: false,
      podMetadata: { labels },
      replicas: props.replicas,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: props.kubernetesApiAccess ?? false,
      securityContext: { ensureNonRoot: true, user: RUN_AS_USER, group: RUN_AS_USER },
      volumes: [tmp],
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
          volumeMounts: [{ path: '/tmp', volume: tmp }],
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

function httpProbe(probe: ProbeSpec, port: number, successThreshold: number, failureThreshold: number): kplus.Probe {
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
}
