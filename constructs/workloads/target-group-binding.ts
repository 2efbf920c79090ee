import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

export interface TargetGroupBindingProps {
  /** Object name. */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** ARN of an IP target group (may be a token). */
  readonly targetGroupArn: string;
  /** Service whose endpoints (pod IPs) are registered. */
  readonly serviceName: string;
  readonly servicePort: number;
  /** Security group of the load balancer, allowed to reach the pods on `containerPort` (may be a token). */
  readonly loadBalancerSecurityGroupId: string;
  /** Port the pods listen on. */
  readonly containerPort: number;
}

/**
 * An AWS Load Balancer Controller `TargetGroupBinding` (elbv2.k8s.aws/v1beta1): the controller
 * keeps the target group's IP targets equal to the Service's ready endpoints, and opens the pods'
 * port to the load balancer's security group.
 */
export class TargetGroupBinding extends Construct {
  public static readonly API_VERSION = 'elbv2.k8s.aws/v1beta1';
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: TargetGroupBindingProps) {
    super(scope, id);
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: TargetGroupBinding.API_VERSION,
      kind: 'TargetGroupBinding',
      metadata: { name: props.name, labels: { ...props.labels } },
      spec: {
        serviceRef: { name: props.serviceName, port: props.servicePort },
        targetGroupARN: props.targetGroupArn,
        // One target per pod, so the ALB's RequestCountPerTarget is the per-pod request count.
        targetType: 'ip',
        networking: {
          ingress: [
            {
              from: [{ securityGroup: { groupID: props.loadBalancerSecurityGroupId } }],
              ports: [{ protocol: 'TCP', port: props.containerPort }],
            },
          ],
        },
      },
    });
  }
}
