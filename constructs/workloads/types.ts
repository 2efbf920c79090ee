/**
 * The props of the workload constructs. The compute stack fills them from the tier preset and from
 * the AWS resources it creates (images, target groups, load balancer); the tier preset's workload
 * sizing uses these shapes as they are. Nothing here reads config.
 */

import type { ContainerResources } from '../private/k8s';

export type { ContainerResources };

/** A HorizontalPodAutoscaler scaling policy. */
export interface ScalingPolicy {
  readonly type: 'Percent' | 'Pods';
  readonly value: number;
  readonly periodSeconds: number;
}

/** One direction of a HorizontalPodAutoscaler's `behavior`. */
export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly policies: readonly ScalingPolicy[];
}

/** How a service's replica count follows its load. */
export interface ServiceAutoscaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuTargetPercent: number;
  /**
   * Per-pod request rate target; needs `requestsMetric` on the service.
   * @default - CPU only
   */
  readonly requestsPerSecondPerPod?: number;
  /** @default - Kubernetes' scale-up behaviour */
  readonly scaleUp?: ScalingRules;
  /** @default - Kubernetes' scale-down behaviour */
  readonly scaleDown?: ScalingRules;
}

/** An HTTP health check: the startup, readiness and liveness probes are built from it. */
export interface HealthProbe {
  /** Absolute HTTP path, e.g. `/health`. */
  readonly path: string;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
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
export interface SecretMount {
  /** Name of the Secret in the service's namespace (a DNS-1123 subdomain). */
  readonly secretName: string;
  /** Absolute directory the Secret's keys appear in, one file per key. */
  readonly mountPath: string;
}

/** What a platform service and the scheduler both are: one container behind a Service, optionally in an ALB target group. */
export interface PlatformContainerProps {
  /** Kubernetes name of the Deployment, Service and container, e.g. `tracking-server`; a DNS-1123 label. */
  readonly name: string;
  /** Full image reference (may be a token). */
  readonly image: string;
  /** Container port the service listens on. */
  readonly port: number;
  /** Requests; limits are derived (memory limit = request, CPU limit = 2x request). */
  readonly resources: ContainerResources;
  readonly probe: HealthProbe;
  /** Pods get this ServiceAccount, created for them; the stack associates an IAM role with it (EKS Pod Identity). */
  readonly serviceAccountName: string;
  /**
   * Bind the pods to this ALB target group (TargetGroupBinding, IP targets).
   * @default - an internal service
   */
  readonly targetGroupArn?: string;
  /**
   * Security group of the ALB, allowed to reach the pods; required with `targetGroupArn`.
   * @default - none
   */
  readonly loadBalancerSecurityGroupId?: string;
  /**
   * Environment variables, as literal values.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** One stateless platform service. */
export interface PlatformServiceProps extends PlatformContainerProps {
  readonly autoscaling: ServiceAutoscaling;
  /**
   * Where the request rate comes from.
   * @default - none; required when `autoscaling.requestsPerSecondPerPod` is set
   */
  readonly requestsMetric?: RequestsMetricSource;
  /**
   * Secrets mounted read-only, e.g. client certificates.
   * @default - none
   */
  readonly secretMounts?: readonly SecretMount[];
}

/** The job scheduler: one leader and standbys elected through a Kubernetes Lease. */
export interface LeaderElectedSchedulerProps extends PlatformContainerProps {
  /** Leader plus standbys. */
  readonly replicas: number;
  readonly leaseDurationSeconds: number;
}

/** Everything the platform charts need in one region. */
export interface PlatformChartsProps {
  /** Namespace of every platform service. */
  readonly namespace: string;
  /** AWS region, for KEDA's CloudWatch trigger. */
  readonly region: string;
  /** Services by name; the charts group them into families. */
  readonly services: Readonly<Record<string, PlatformServiceProps>>;
  readonly scheduler: LeaderElectedSchedulerProps;
}
