import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';

/** Namespace and service account of the Karpenter controller. */
export const KARPENTER_NAMESPACE = 'kube-system';
export const KARPENTER_SERVICE_ACCOUNT = 'karpenter';
/** Tag key whose value, the cluster name, marks the subnets Karpenter launches nodes in. */
export const KARPENTER_DISCOVERY_TAG = 'karpenter.sh/discovery';
/** The EC2NodeClass every NodePool of the platform uses. */
export const NODE_CLASS_NAME = 'platform';

/** One Karpenter NodePool: the nodes of one platform pool (or of one zone of it). */
export interface KarpenterNodePoolSpec {
  /** NodePool name: lower-case letters, digits and `-`. */
  readonly name: string;
  /** Labels every node of the pool carries (the platform's pool label). */
  readonly labels: Readonly<Record<string, string>>;
  /** Instance types the pool may launch. */
  readonly instanceTypes: readonly string[];
  /** Zones the pool may launch in. */
  readonly zones: readonly string[];
  /** Taints of the pool's nodes. @default - none */
  readonly taints?: readonly { readonly key: string; readonly value: string; readonly effect: 'NoSchedule' | 'NoExecute' }[];
  /** The most vCPUs the pool's Karpenter nodes may hold together. */
  readonly cpuLimit: number;
  /** The most memory the pool's Karpenter nodes may hold together, in GiB. */
  readonly memoryLimitGiB: number;
  /**
   * Whether Karpenter may replace underused nodes (moving their pods), or only remove empty ones.
   * Pools of stateful pods (ClickHouse) take `false`.
   * @default true
   */
  readonly consolidateUnderutilized?: boolean;
}

export interface KarpenterProps {
  readonly cluster: eks.Cluster;
  /** The cluster's name, as a literal (it is part of tag selectors and conditions). */
  readonly clusterName: string;
  /** Karpenter Helm chart version (oci://public.ecr.aws/karpenter/karpenter), e.g. '1.14.1'. */
  readonly version: string;
  /** Pod Identity role of the controller (namespace `KARPENTER_NAMESPACE`, account `KARPENTER_SERVICE_ACCOUNT`). */
  readonly controllerRole: iam.Role;
  /** The nodes' role; the managed node groups' role, so the access entry EKS made for it admits them. */
  readonly nodeRole: iam.IRole;
  /**
   * Tags that select the subnets the nodes are launched in (`subnetSelectorTerms`); whoever owns the
   * VPC tags them. Tags rather than ids: subnet ids are tokens of another stack.
   */
  readonly subnetTags: Readonly<Record<string, string>>;
  /** Encrypts the nodes' root volumes. */
  readonly volumeEncryptionKey: kms.IKey;
  /** Root volume size of the nodes, in GiB. */
  readonly rootVolumeSizeGiB: number;
  /** Node labels the controller's pods select. */
  readonly controllerNodeSelector: Readonly<Record<string, string>>;
  readonly nodePools: readonly KarpenterNodePoolSpec[];
}

/**
 * Karpenter for an EKS cluster: the controller (Helm chart, Pod Identity role), its interruption
 * queue fed by EC2 and AWS Health events (Spot interruption, rebalance, instance state changes,
 * scheduled maintenance) with a dead-letter queue for the events it refused, one EC2NodeClass
 * (AL2023, IMDSv2 with hop limit 1, encrypted gp3 root volume) and a NodePool per pool with CPU and
 * memory limits.
 */
export class Karpenter extends Construct {
  public readonly interruptionQueue: sqs.Queue;
  /** The events the rules could not deliver to the interruption queue. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly chart: eks.HelmChart;
  public readonly nodePools: Record<string, eks.KubernetesManifest> = {};

  constructor(scope: Construct, id: string, props: KarpenterProps) {
    super(scope, id);
    validate(this, props);
    const stack = Stack.of(this);
    const cluster = props.cluster;

    // Karpenter's documented retention: an interruption notice is useless after a few minutes.
    const noticeLifetime = Duration.minutes(5);
    const encryption = sqs.QueueEncryption.SQS_MANAGED;
    this.interruptionQueue = new sqs.Queue(this, 'InterruptionQueue', { retentionPeriod: noticeLifetime, encryption, enforceSSL: true });
    // An undelivered notice is an interruption Karpenter never saw, and a sign that the queue refused
    // EventBridge (its policy, its encryption) or throttled it: kept for SQS's longest, 14 days, to
    // be found and explained, not to be acted on.
    this.deadLetterQueue = new sqs.Queue(this, 'InterruptionDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the dead-letter queue of the interruption rules' targets (EventBridge's, which cdk-nag does not see).",
    });
    Validations.of(this.interruptionQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'Interruption notices are acted on within their two-minute warning or are stale; a dead-letter queue would keep only stale notices.',
    });
    const rules: Record<string, events.EventPattern> = {
      ScheduledChange: { source: ['aws.health'], detailType: ['AWS Health Event'] },
      SpotInterruption: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
      Rebalance: { source: ['aws.ec2'], detailType: ['EC2 Instance Rebalance Recommendation'] },
      InstanceStateChange: { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'] },
    };
    // Retrying past the notice's lifetime would deliver it stale; it goes to the dead-letter queue then.
    const target = new targets.SqsQueue(this.interruptionQueue, { deadLetterQueue: this.deadLetterQueue, maxEventAge: noticeLifetime });
    for (const [ruleId, eventPattern] of Object.entries(rules)) {
      new events.Rule(this, `${ruleId}Rule`, { eventPattern, targets: [target] });
    }

    const role = props.controllerRole;
    this.interruptionQueue.grantConsumeMessages(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeCluster',
        actions: ['eks:DescribeCluster'],
        resources: [cluster.clusterArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PassNodeRole',
        actions: ['iam:PassRole'],
        resources: [props.nodeRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );
    const regionalResource = (service: string, resource: string) => stack.formatArn({ service, resource, resourceName: '*' });
    // What launching a node creates or uses; AMIs and snapshots are owned by other accounts (no account in the ARN).
    const launchResources = [
      ...['instance', 'fleet', 'launch-template', 'volume', 'network-interface', 'spot-instances-request', 'subnet', 'security-group'].map(
        (resource) => regionalResource('ec2', resource),
      ),
      stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' }),
      stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' }),
    ];
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LaunchNodes',
        actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate', 'ec2:CreateTags'],
        resources: launchResources,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RemoveOwnNodes',
        actions: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
        resources: [regionalResource('ec2', 'instance'), regionalResource('ec2', 'launch-template')],
        // Karpenter tags every node it launches with the cluster's name and its NodePool.
        conditions: {
          StringEquals: { 'aws:ResourceTag/eks:eks-cluster-name': cluster.clusterName },
          StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeCapacity',
        actions: [
          'ec2:DescribeAvailabilityZones',
          'ec2:DescribeImages',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceTypeOfferings',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplates',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSpotPriceHistory',
          'ec2:DescribeSubnets',
          'ec2:DescribeCapacityReservations',
          'pricing:GetProducts',
        ],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAmiParameters',
        actions: ['ssm:GetParameter'],
        resources: [stack.formatArn({ service: 'ssm', account: '', resource: 'parameter', resourceName: 'aws/service/*' })],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ManageNodeInstanceProfiles',
        actions: [
          'iam:CreateInstanceProfile',
          'iam:TagInstanceProfile',
          'iam:AddRoleToInstanceProfile',
          'iam:RemoveRoleFromInstanceProfile',
          'iam:DeleteInstanceProfile',
          'iam:GetInstanceProfile',
          'iam:ListInstanceProfiles',
        ],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'instance-profile', resourceName: '*' })],
      }),
    );
    // Volumes encrypted with a customer managed key: EC2 creates a grant for each, as the caller.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptNodeVolumes',
        actions: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt', 'kms:DescribeKey'],
        resources: [props.volumeEncryptionKey.keyArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'GrantVolumeKeyToEc2',
        actions: ['kms:CreateGrant'],
        resources: [props.volumeEncryptionKey.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
      }),
    );
    acknowledgeWildcardResource(
      role,
      '*',
      'EC2 Describe* calls and pricing:GetProducts support no resource-level permissions; the statement holds only those read-only actions.',
    );
    for (const resource of launchResources) {
      acknowledgeWildcardResource(
        role,
        resource,
        "Karpenter launches and tags nodes whose ids are not known in advance, in this account and region only; terminating is limited to the cluster's own instances by tag.",
      );
    }
    acknowledgeWildcardResource(
      role,
      stack.formatArn({ service: 'ssm', account: '', resource: 'parameter', resourceName: 'aws/service/*' }),
      'The public SSM parameters under aws/service/ name the current EKS-optimized AMIs; read-only.',
    );
    acknowledgeWildcardResource(
      role,
      stack.formatArn({ service: 'iam', region: '', resource: 'instance-profile', resourceName: '*' }),
      "Karpenter creates the nodes' instance profile for the node role, under a generated name.",
    );

    this.chart = cluster.addHelmChart('Karpenter', {
      chart: 'karpenter',
      repository: 'oci://public.ecr.aws/karpenter/karpenter',
      version: props.version,
      namespace: KARPENTER_NAMESPACE,
      release: 'karpenter',
      wait: true,
      values: {
        serviceAccount: { name: KARPENTER_SERVICE_ACCOUNT },
        nodeSelector: props.controllerNodeSelector,
        settings: { clusterName: cluster.clusterName, interruptionQueue: this.interruptionQueue.queueName },
        // Pods cannot reach IMDS (hop limit 1): the controller is told its region.
        controller: { env: [{ name: 'AWS_REGION', value: stack.region }] },
      },
    });

    const nodeClass = cluster.addManifest('NodeClass', {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name: NODE_CLASS_NAME },
      spec: {
        role: props.nodeRole.roleName,
        amiSelectorTerms: [{ alias: 'al2023@latest' }],
        subnetSelectorTerms: [{ tags: { ...props.subnetTags } }],
        // The cluster security group, which EKS tags with the cluster's name.
        securityGroupSelectorTerms: [{ tags: { 'aws:eks:cluster-name': props.clusterName } }],
        metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
        blockDeviceMappings: [
          {
            deviceName: '/dev/xvda',
            ebs: {
              volumeSize: `${props.rootVolumeSizeGiB}Gi`,
              volumeType: 'gp3',
              encrypted: true,
              kmsKeyID: props.volumeEncryptionKey.keyArn,
              deleteOnTermination: true,
            },
          },
        ],
      },
    });
    nodeClass.node.addDependency(this.chart);

    for (const pool of props.nodePools) {
      const manifest = cluster.addManifest(`NodePool${pool.name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}`, {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: pool.name },
        spec: {
          template: {
            metadata: { labels: { ...pool.labels } },
            spec: {
              nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_CLASS_NAME },
              requirements: [
                { key: 'node.kubernetes.io/instance-type', operator: 'In', values: [...pool.instanceTypes] },
                { key: 'topology.kubernetes.io/zone', operator: 'In', values: [...pool.zones] },
                { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
              ],
              ...(pool.taints && pool.taints.length > 0 ? { taints: pool.taints.map((t) => ({ ...t })) } : {}),
              // [ours] nodes are replaced at least monthly, so they pick up patched AMIs.
              expireAfter: '720h',
            },
          },
          limits: { cpu: String(pool.cpuLimit), memory: `${pool.memoryLimitGiB}Gi` },
          disruption: {
            consolidationPolicy: (pool.consolidateUnderutilized ?? true) ? 'WhenEmptyOrUnderutilized' : 'WhenEmpty',
            consolidateAfter: '5m',
          },
        },
      });
      manifest.node.addDependency(nodeClass);
      this.nodePools[pool.name] = manifest;
    }
  }
}

function validate(scope: Construct, props: KarpenterProps): void {
  const names = props.nodePools.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new ValidationError(`nodePools names must be unique, got ${names.join(', ')}`, scope);
  for (const pool of props.nodePools) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(pool.name)) {
      throw new ValidationError(`nodePools name must be lower-case letters, digits and -, got ${pool.name}`, scope);
    }
    if (!(pool.cpuLimit > 0) || !(pool.memoryLimitGiB > 0)) {
      throw new ValidationError(
        `nodePools ${pool.name}: cpuLimit and memoryLimitGiB must be positive, got ${pool.cpuLimit} and ${pool.memoryLimitGiB}`,
        scope,
      );
    }
    if (pool.instanceTypes.length === 0) throw new ValidationError(`nodePools ${pool.name}: instanceTypes must not be empty`, scope);
    if (pool.zones.length === 0) throw new ValidationError(`nodePools ${pool.name}: zones must not be empty`, scope);
  }
  if (Object.keys(props.subnetTags).length === 0) throw new ValidationError('subnetTags must name at least one tag', scope);
}
