/**
 * The contract between the compute stack and the workload charts. The stack fills these from the
 * tier preset and from the AWS resources it creates (images, target groups, load balancer); the
 * charts turn them into Kubernetes objects. Nothing here reads config.
 */

export interface ScalingPolicySpec {
  readonly type: 'Percent' | 'Pods';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRulesSpec {
  readonly stabilizationWindowSeconds: number;
  readonly policies: readonly ScalingPolicySpec[];
}

export interface AutoscalingBounds {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuTargetPercent: number;
  /** Per-pod request rate target; needs `requestsMetric` on the service. */
  readonly requestsPerSecondPerPod?: number;
  readonly scaleUp?: ScalingRulesSpec;
  readonly scaleDown?: ScalingRulesSpec;
}

export interface ProbeSpec {
  readonly path: string;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
}

export interface ResourceSpec {
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
}

/**
 * Where a service's per-pod request rate comes from: the ALB's `RequestCountPerTarget` for the
 * service's target group (IP targets, so one target is one pod), read by KEDA from CloudWatch.
 */
export interface RequestsMetricSource {
  /** `app/<name>/<id>`, the ALB's CloudWatch dimension value (may be a CloudFormation token). */
  readonly loadBalancerFullName: string;
  /** `targetgroup/<name>/<id>` (may be a token). */
  readonly targetGroupFullName: string;
  readonly region: string;
}

/** A Secret mounted read-only into a service's container. */
export interface SecretMountSpec {
  /** Name of the Secret in the service's namespace (a DNS-1123 subdomain). */
  readonly secretName: string;
  /** Absolute directory the Secret's keys appear in, one file per key. */
  readonly mountPath: string;
}

/** One stateless platform service. */
export interface ServiceSpec {
  /** Kubernetes name of the Deployment, Service and ServiceAccount, e.g. `tracking-server`. */
  readonly name: string;
  /** Full image reference (may be a token). */
  readonly image: string;
  /** Container port the service listens on. */
  readonly port: number;
  readonly resources: ResourceSpec;
  readonly autoscaling: AutoscalingBounds;
  readonly probe: ProbeSpec;
  /** Pods get this ServiceAccount; the stack associates an IAM role with it (EKS Pod Identity). */
  readonly serviceAccountName: string;
  /** Bind the pods to this ALB target group (TargetGroupBinding); absent for internal services. */
  readonly targetGroupArn?: string;
  /** Security group of the ALB, allowed to reach the pods when `targetGroupArn` is set. */
  readonly loadBalancerSecurityGroupId?: string;
  /** Required when `autoscaling.requestsPerSecondPerPod` is set. */
  readonly requestsMetric?: RequestsMetricSource;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Secrets mounted read-only, e.g. client certificates.
   * @default - none
   */
  readonly secretMounts?: readonly SecretMountSpec[];
}

/** The job scheduler: one leader and standbys elected through a Kubernetes Lease. */
export interface SchedulerSpec {
  readonly name: string;
  readonly image: string;
  readonly port: number;
  readonly resources: ResourceSpec;
  /** Leader plus standbys. */
  readonly replicas: number;
  readonly leaseDurationSeconds: number;
  readonly probe: ProbeSpec;
  readonly serviceAccountName: string;
  readonly targetGroupArn?: string;
  readonly loadBalancerSecurityGroupId?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Everything the platform charts need in one region. */
export interface PlatformWorkloadsSpec {
  /** Namespace of every platform service. */
  readonly namespace: string;
  /** AWS region, for KEDA's CloudWatch trigger. */
  readonly region: string;
  /** Services by name; the charts group them into families. */
  readonly services: Readonly<Record<string, ServiceSpec>>;
  readonly scheduler: SchedulerSpec;
}
