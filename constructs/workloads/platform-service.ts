import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, type IConstruct } from 'constructs';
import { validateInteger } from '../private/k8s';
import { ValidationError } from '../private/validation-error';
import { containerWorkloadProps, PART_OF, PART_OF_LABEL, PlatformWorkload, SpreadPolicy } from './platform-workload';
import type { PlatformServiceProps, RequestsMetricSource, ScalingRules } from './types';

/**
 * Share of a service's pods a node drain may evict at once. Kubernetes rounds the percentage up,
 * so a drain always makes progress (at least one pod), and large services drain in parallel
 * instead of one pod at a time. Losing a tenth of the pods moves a 70 % CPU target to about 78 %,
 * inside the headroom the autoscaler's target leaves.
 */
export const SERVICE_MAX_UNAVAILABLE = '10%';

/** ALB requests are summed per minute; KEDA's target is the per-pod count in that minute. */
const REQUEST_METRIC_PERIOD_SECONDS = 60;

/**
 * The namespace's KEDA TriggerAuthentication: CloudWatch is read with the KEDA operator's own Pod
 * Identity role (cloudwatch:GetMetricData), so the service's pods need no CloudWatch access.
 */
export const KEDA_OPERATOR_AUTHENTICATION = 'keda-operator-aws';

/**
 * A stateless platform service: the workload (see `PlatformWorkload`), a PodDisruptionBudget, and
 * an autoscaler that owns the replica count. A service scaled on CPU alone gets a native
 * `autoscaling/v2` HorizontalPodAutoscaler; a service with a per-pod request rate target gets a
 * KEDA ScaledObject (KEDA creates and owns the HPA) that also reads the ALB's
 * `RequestCountPerTarget` for the service's target group from CloudWatch.
 */
export class PlatformService extends Construct {
  public readonly workload: PlatformWorkload;
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;
  /** The HorizontalPodAutoscaler or the KEDA ScaledObject. */
  public readonly autoscaler: ApiObject;

  constructor(scope: Construct, id: string, props: PlatformServiceProps) {
    super(scope, id);
    validateAutoscaling(this, props);

    this.workload = new PlatformWorkload(this, 'Workload', {
      ...containerWorkloadProps(props),
      spread: SpreadPolicy.PREFERRED,
      secretMounts: props.secretMounts,
    });
    const labels = { ...this.workload.selector, [PART_OF_LABEL]: PART_OF };

    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: props.name, labels },
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromString(SERVICE_MAX_UNAVAILABLE),
        selector: { matchLabels: { ...this.workload.selector } },
      },
    });

    // validateAutoscaling made sure a request rate target comes with its metric.
    const requestsPerSecondPerPod = props.autoscaling.requestsPerSecondPerPod;
    this.autoscaler =
      requestsPerSecondPerPod !== undefined && props.requestsMetric !== undefined
        ? this.scaledObject(props, requestsPerSecondPerPod, props.requestsMetric, labels)
        : this.horizontalPodAutoscaler(props, labels);
  }

  private horizontalPodAutoscaler(props: PlatformServiceProps, labels: Record<string, string>): ApiObject {
    const { autoscaling } = props;
    return new kplus.k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
      metadata: { name: props.name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.cpuTargetPercent } },
          },
        ],
        behavior: behavior(autoscaling.scaleUp, autoscaling.scaleDown),
      },
    });
  }

  private scaledObject(
    props: PlatformServiceProps,
    requestsPerSecondPerPod: number,
    metric: RequestsMetricSource,
    labels: Record<string, string>,
  ): ApiObject {
    const { autoscaling } = props;
    const hpaBehavior = behavior(autoscaling.scaleUp, autoscaling.scaleDown);
    return new ApiObject(this, 'Autoscaler', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: props.name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
        minReplicaCount: autoscaling.minReplicas,
        maxReplicaCount: autoscaling.maxReplicas,
        advanced: {
          horizontalPodAutoscalerConfig: {
            name: props.name,
            ...(hpaBehavior === undefined ? {} : { behavior: hpaBehavior }),
          },
        },
        // KEDA trigger metadata values are strings.
        triggers: [
          { type: 'cpu', metricType: 'Utilization', metadata: { value: String(autoscaling.cpuTargetPercent) } },
          {
            type: 'aws-cloudwatch',
            // The metric is already per target, and with IP targets one target is one pod: the HPA
            // compares it to the target as is (Value) instead of dividing it by the pod count again.
            metricType: 'Value',
            authenticationRef: { name: KEDA_OPERATOR_AUTHENTICATION },
            metadata: {
              namespace: 'AWS/ApplicationELB',
              metricName: 'RequestCountPerTarget',
              dimensionName: 'LoadBalancer;TargetGroup',
              dimensionValue: `${metric.loadBalancerFullName};${metric.targetGroupFullName}`,
              metricStat: 'Sum',
              metricStatPeriod: String(REQUEST_METRIC_PERIOD_SECONDS),
              targetMetricValue: String(requestsPerSecondPerPod * REQUEST_METRIC_PERIOD_SECONDS),
              awsRegion: metric.region,
            },
          },
        ],
      },
    });
  }
}

/** The HPA `behavior`, exactly as given; Kubernetes' defaults apply to a direction left out. */
function behavior(scaleUp: ScalingRules | undefined, scaleDown: ScalingRules | undefined) {
  if (scaleUp === undefined && scaleDown === undefined) return undefined;
  const rules = (spec: ScalingRules) => ({
    stabilizationWindowSeconds: spec.stabilizationWindowSeconds,
    policies: spec.policies.map((policy) => ({ type: policy.type, value: policy.value, periodSeconds: policy.periodSeconds })),
  });
  return {
    ...(scaleUp === undefined ? {} : { scaleUp: rules(scaleUp) }),
    ...(scaleDown === undefined ? {} : { scaleDown: rules(scaleDown) }),
  };
}

function validateAutoscaling(scope: IConstruct, props: PlatformServiceProps): void {
  const { autoscaling } = props;
  validateInteger(scope, 'autoscaling.minReplicas', autoscaling.minReplicas, 1);
  validateInteger(scope, 'autoscaling.maxReplicas', autoscaling.maxReplicas, 1);
  if (autoscaling.minReplicas > autoscaling.maxReplicas) {
    throw new ValidationError(
      `autoscaling.minReplicas (${autoscaling.minReplicas}) must not exceed autoscaling.maxReplicas (${autoscaling.maxReplicas})`,
      scope,
    );
  }
  validateInteger(scope, 'autoscaling.cpuTargetPercent', autoscaling.cpuTargetPercent, 1, 100);
  for (const [direction, rules] of [
    ['scaleUp', autoscaling.scaleUp],
    ['scaleDown', autoscaling.scaleDown],
  ] as const) {
    if (rules === undefined) continue;
    validateInteger(scope, `autoscaling.${direction}.stabilizationWindowSeconds`, rules.stabilizationWindowSeconds, 0, 3600);
    if (rules.policies.length === 0) {
      throw new ValidationError(`autoscaling.${direction}.policies must hold at least one policy`, scope);
    }
    rules.policies.forEach((policy, i) => {
      validateInteger(scope, `autoscaling.${direction}.policies[${i}].value`, policy.value, 1);
      validateInteger(scope, `autoscaling.${direction}.policies[${i}].periodSeconds`, policy.periodSeconds, 1, 1800);
    });
  }
  if (autoscaling.requestsPerSecondPerPod !== undefined) {
    if (!(autoscaling.requestsPerSecondPerPod > 0) || !Number.isFinite(autoscaling.requestsPerSecondPerPod)) {
      throw new ValidationError(
        `autoscaling.requestsPerSecondPerPod must be a positive number, got ${autoscaling.requestsPerSecondPerPod}`,
        scope,
      );
    }
    if (props.requestsMetric === undefined) {
      throw new ValidationError(
        `${props.name} scales on requestsPerSecondPerPod but has no requestsMetric (the ALB and target group whose RequestCountPerTarget KEDA reads)`,
        scope,
      );
    }
  }
}
