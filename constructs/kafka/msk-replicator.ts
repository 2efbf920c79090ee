import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import { acknowledgeKafkaWildcards, clusterArnRegion, KAFKA_IAM_PORT, kafkaResourceArn, regexToIamPattern } from './access';
import { MskCluster } from './msk-cluster';

const REPLICATOR_NAME = /^[A-Za-z0-9-]{1,128}$/;

/**
 * Topics MSK Replicator never copies, as its console proposes: Kafka Connect and replicator
 * internals (`*-internal`, `*.internal`), replica topics and everything starting with `__`.
 */
export const REPLICATOR_EXCLUDED_TOPICS: readonly string[] = ['.*[\\-\\.]internal', '.*\\.replica', '__.*'];

/** Topics the replicator creates for itself on both clusters (heartbeats, offset syncs, checkpoints). */
const INTERNAL_TOPICS = ['*__amazon_msk_replicator_*', 'mskr-offset-syncs.*', '*.checkpoints.internal'];

/** A cluster in another region, known by the values its stack published. */
export interface ReplicationSourceCluster {
  /** Cluster ARN; a token (read from the primary region at deploy time) is allowed. */
  readonly clusterArn: string;
  /** Client subnets of the cluster, in its region (at least two). */
  readonly subnetIds: readonly string[];
  /**
   * Security groups for the replicator's connection to the source; cross-region replication
   * connects over multi-VPC private connectivity and needs none.
   * @default - none
   */
  readonly securityGroupIds?: readonly string[];
  /**
   * Region of the source, checked against this stack's. Needed when `clusterArn` is a token.
   * @default - parsed from `clusterArn` when it is a literal
   */
  readonly region?: string;
}

/** A cluster in this region that the replicator writes to, given by its attributes. */
export interface ReplicationTargetCluster {
  readonly clusterArn: string;
  readonly subnetIds: readonly string[];
  /** Security groups for the replicator's ENIs; they must reach the brokers on port 9098. */
  readonly securityGroupIds: readonly string[];
}

export interface MskReplicatorProps {
  /** Name of the replicator: 1-128 letters, digits and hyphens. */
  readonly replicatorName: string;
  /** The cluster copied from, in another region; it must be a replication source (multi-VPC connectivity and a cluster policy). */
  readonly source: ReplicationSourceCluster;
  /** The cluster in this stack's region that receives the copies. */
  readonly target: MskCluster | ReplicationTargetCluster;
  /**
   * Regexes of the topics to copy.
   * @default ['.*']
   */
  readonly topicsToReplicate?: readonly string[];
  /**
   * Regexes of the consumer groups whose offsets are copied.
   * @default ['.*']
   */
  readonly consumerGroupsToReplicate?: readonly string[];
  /**
   * Compression of the records written to the target.
   * @default 'LZ4'
   */
  readonly targetCompressionType?: 'NONE' | 'GZIP' | 'SNAPPY' | 'LZ4' | 'ZSTD';
  /**
   * Retention of the replicator's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the replicator's log group; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * MSK Replicator in the target region, copying the source cluster's topics into this region's cluster
 * under identical names, with their configurations, ACLs, new topics as they appear and consumer
 * group offsets: after a failover, consumers resume on the secondary with the same topic and group
 * names from (nearly) where they left off. It starts from the earliest retained records.
 *
 * The service execution role holds only the documented per-feature permissions, on the two
 * clusters' own ARNs and topics.
 */
export class MskReplicator extends Construct {
  public readonly replicator: msk.CfnReplicator;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** The replicator's ENIs in the target VPC (created when `target` is an `MskCluster`). */
  public readonly securityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: MskReplicatorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validate(this, props, stack.region);

    const topics = props.topicsToReplicate ?? ['.*'];
    const groups = props.consumerGroupsToReplicate ?? ['.*'];
    const sourceArn = props.source.clusterArn;
    let target: ReplicationTargetCluster;
    if (props.target instanceof MskCluster) {
      const cluster = props.target;
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: cluster.vpc,
        description: `MSK Replicator ${props.replicatorName} to the brokers of ${cluster.clusterName}`,
        allowAllOutbound: false,
      });
      this.securityGroup.addEgressRule(cluster.securityGroup, ec2.Port.tcp(KAFKA_IAM_PORT), 'Kafka SASL/IAM to the target brokers');
      // The rule lives with the replicator, so the cluster's stack never refers to the replicator's.
      new ec2.CfnSecurityGroupIngress(this, 'BrokerIngress', {
        groupId: cluster.securityGroup.securityGroupId,
        sourceSecurityGroupId: this.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: KAFKA_IAM_PORT,
        toPort: KAFKA_IAM_PORT,
        description: `Kafka SASL/IAM from MSK Replicator ${props.replicatorName}`,
      });
      target = {
        clusterArn: cluster.clusterArn,
        subnetIds: cluster.clientSubnetIds,
        securityGroupIds: [this.securityGroup.securityGroupId],
      };
    } else {
      target = props.target;
    }

    this.role = new iam.Role(this, 'ServiceExecutionRole', {
      assumedBy: new iam.ServicePrincipal('kafka.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `MSK Replicator ${props.replicatorName}: reads the source cluster, writes the target cluster`,
    });
    // An MskCluster is named by its name with any uuid, a literal: the name is unique in the account
    // and region, and the policy then holds no reference to the cluster's stack.
    const targetPolicyArn =
      props.target instanceof MskCluster
        ? stack.formatArn({ service: 'kafka', resource: 'cluster', resourceName: `${props.target.clusterName}/*` })
        : target.clusterArn;
    const statements = replicatorStatements(this, sourceArn, targetPolicyArn, topics.map(regexToIamPattern), groups.map(regexToIamPattern));
    for (const statement of statements) this.role.addToPolicy(statement);
    acknowledgeKafkaWildcards(
      this.role,
      statements,
      "MSK Replicator's documented topic and group patterns (its own internal topics and the replicated topic patterns), inside the source and target clusters only.",
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.replicator = new msk.CfnReplicator(this, 'Resource', {
      replicatorName: props.replicatorName,
      description: `Copies ${topics.join(', ')} from the source cluster, identical names, offsets synchronised`,
      serviceExecutionRoleArn: this.role.roleArn,
      kafkaClusters: [
        {
          amazonMskCluster: { mskClusterArn: sourceArn },
          vpcConfig: {
            subnetIds: [...props.source.subnetIds],
            ...(props.source.securityGroupIds === undefined ? {} : { securityGroupIds: [...props.source.securityGroupIds] }),
          },
        },
        {
          amazonMskCluster: { mskClusterArn: target.clusterArn },
          vpcConfig: { subnetIds: [...target.subnetIds], securityGroupIds: [...target.securityGroupIds] },
        },
      ],
      replicationInfoList: [
        {
          sourceKafkaClusterArn: sourceArn,
          targetKafkaClusterArn: target.clusterArn,
          targetCompressionType: props.targetCompressionType ?? 'LZ4',
          topicReplication: {
            topicsToReplicate: [...topics],
            topicsToExclude: [...REPLICATOR_EXCLUDED_TOPICS],
            copyTopicConfigurations: true,
            copyAccessControlListsForTopics: true,
            detectAndCopyNewTopics: true,
            // Failover needs the same names on both sides: clients switch bootstrap servers, not topics.
            topicNameConfiguration: { type: 'IDENTICAL' },
            startingPosition: { type: 'EARLIEST' },
          },
          consumerGroupReplication: {
            consumerGroupsToReplicate: [...groups],
            synchroniseConsumerGroupOffsets: true,
            detectAndCopyNewConsumerGroups: true,
          },
        },
      ],
      logDelivery: { replicatorLogDelivery: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } } },
    });
    // The role's policy must exist before MSK assumes the role to connect.
    this.replicator.node.addDependency(this.role);
  }
}

/**
 * The service execution role's permissions, per the MSK developer guide's least-privilege
 * reference: topic replication, topic configuration and ACL copying, consumer group offset sync,
 * with identical topic names.
 */
function replicatorStatements(
  scope: Construct,
  sourceArn: string,
  targetArn: string,
  topicPatterns: readonly string[],
  groupPatterns: readonly string[],
): iam.PolicyStatement[] {
  const topicsOf = (cluster: string, names: readonly string[]) => names.map((name) => kafkaResourceArn(scope, cluster, 'topic', name));
  const groupsOf = (cluster: string, names: readonly string[]) => names.map((name) => kafkaResourceArn(scope, cluster, 'group', name));
  const internalTopicActions = [
    'kafka-cluster:CreateTopic',
    'kafka-cluster:ReadData',
    'kafka-cluster:WriteData',
    'kafka-cluster:DescribeTopic',
    'kafka-cluster:DescribeTopicDynamicConfiguration',
    'kafka-cluster:AlterTopic',
    'kafka-cluster:AlterTopicDynamicConfiguration',
  ];
  return [
    new iam.PolicyStatement({
      sid: 'ConnectToBothClusters',
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
      resources: [sourceArn, targetArn],
    }),
    new iam.PolicyStatement({ sid: 'CopyAclsToTarget', actions: ['kafka-cluster:AlterCluster'], resources: [targetArn] }),
    new iam.PolicyStatement({
      sid: 'ReplicatorInternalTopics',
      actions: internalTopicActions,
      resources: [...topicsOf(sourceArn, INTERNAL_TOPICS), ...topicsOf(targetArn, INTERNAL_TOPICS)],
    }),
    new iam.PolicyStatement({
      sid: 'ReadSourceTopics',
      actions: ['kafka-cluster:ReadData', 'kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration'],
      resources: topicsOf(sourceArn, topicPatterns),
    }),
    new iam.PolicyStatement({
      sid: 'WriteTargetTopics',
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:WriteData',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
        'kafka-cluster:AlterTopic',
        'kafka-cluster:AlterTopicDynamicConfiguration',
      ],
      resources: topicsOf(targetArn, topicPatterns),
    }),
    new iam.PolicyStatement({
      sid: 'ReadSourceGroups',
      actions: ['kafka-cluster:DescribeGroup'],
      resources: groupsOf(sourceArn, groupPatterns),
    }),
    new iam.PolicyStatement({
      sid: 'CommitTargetGroupOffsets',
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resources: [...groupsOf(targetArn, groupPatterns), ...groupsOf(targetArn, ['*__amazon_msk_replicator_*'])],
    }),
  ];
}

function validate(scope: Construct, props: MskReplicatorProps, stackRegion: string): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  if (!REPLICATOR_NAME.test(props.replicatorName)) {
    fail(`replicatorName '${props.replicatorName}' is invalid: use 1-128 letters, digits and hyphens`);
  }
  const literalRegion = Token.isUnresolved(props.source.clusterArn)
    ? undefined
    : clusterArnRegion(scope, 'source.clusterArn', props.source.clusterArn);
  const sourceRegion = props.source.region ?? literalRegion;
  if (literalRegion !== undefined && props.source.region !== undefined && literalRegion !== props.source.region) {
    fail(`source.region is ${props.source.region} but source.clusterArn is in ${literalRegion}`);
  }
  if (sourceRegion !== undefined && !Token.isUnresolved(sourceRegion) && !Token.isUnresolved(stackRegion) && sourceRegion === stackRegion) {
    fail(
      `the source cluster is in ${sourceRegion}, the replicator's own region; a replicator pulls from a cluster in another region into its own`,
    );
  }
  if (!(props.target instanceof MskCluster) && !Token.isUnresolved(props.target.clusterArn) && !Token.isUnresolved(stackRegion)) {
    const targetRegion = clusterArnRegion(scope, 'target.clusterArn', props.target.clusterArn);
    if (targetRegion !== stackRegion) {
      fail(`the target cluster is in ${targetRegion}; MSK Replicator must be created in its target's region, ${stackRegion} here`);
    }
  }
  // A list read at deploy time (`Fn.split` without a length) is one token: its length is unknown here.
  if (!props.source.subnetIds.some((subnetId) => Token.isUnresolved(subnetId)) && props.source.subnetIds.length < 2) {
    fail(`source.subnetIds must list at least 2 subnets of the source cluster, got ${props.source.subnetIds.length}`);
  }
  for (const [what, patterns] of [
    ['topicsToReplicate', props.topicsToReplicate],
    ['consumerGroupsToReplicate', props.consumerGroupsToReplicate],
  ] as const) {
    if (patterns === undefined) continue;
    if (patterns.length === 0) fail(`${what} must list at least one regex`);
    for (const pattern of patterns) {
      try {
        new RegExp(pattern);
      } catch {
        fail(`${what} has '${pattern}', which is not a regular expression`);
      }
    }
  }
}
