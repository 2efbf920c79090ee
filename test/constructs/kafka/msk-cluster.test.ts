import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { type KafkaTopicSpec, MskCluster, type MskClusterProps } from '../../../constructs/kafka';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { testApp } from '../../support/synth';

/** Seed 003's job-tasks topic: 100 partitions, RF 3, min ISR 2, 7 days. */
const JOB_TASKS: KafkaTopicSpec = { name: 'job-tasks', partitions: 100, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: 168 };

function build(overrides: Partial<MskClusterProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Kafka');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const kafka = new MskCluster(stack, 'Kafka', {
    clusterName: 'mlp-tier2-kafka-use1',
    kafkaVersion: '3.8.x',
    brokers: 6,
    brokerInstanceType: 'kafka.m7g.xlarge',
    storageGiB: 1000,
    maxStorageGiB: 4000,
    defaultReplicationFactor: 3,
    minInsyncReplicas: 2,
    retentionHours: 168,
    topics: [JOB_TASKS],
    encryptionKey: key,
    vpc,
    clientCidrs: ['10.64.0.0/18'],
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, key, kafka };
}

describe('MskCluster', () => {
  const { stack, key, kafka } = build();
  const template = Template.fromStack(stack);
  const clusterId = stack.getLogicalId(kafka.cluster);
  const clusterArn = { 'Fn::GetAtt': [clusterId, 'Arn'] };

  test('spreads the brokers evenly over three AZs, one client subnet each', () => {
    const [cluster] = Object.values(template.findResources('AWS::MSK::Cluster'));
    expect(cluster?.Properties.NumberOfBrokerNodes).toBe(6);
    expect(cluster?.Properties.NumberOfBrokerNodes % 3).toBe(0);
    const info = cluster?.Properties.BrokerNodeGroupInfo;
    expect(info.ClientSubnets).toHaveLength(3);
    expect(info).toMatchObject({
      InstanceType: 'kafka.m7g.xlarge',
      BrokerAZDistribution: 'DEFAULT',
      StorageInfo: { EBSStorageInfo: { VolumeSize: 1000 } },
    });
    // The isolated data subnets of the platform VPC.
    const dataSubnets = stack.resolve(kafka.vpc.isolatedSubnets.map((subnet) => subnet.subnetId));
    expect(info.ClientSubnets).toEqual(dataSubnets);
  });

  test('encrypts in transit (TLS only, inside the cluster too) and at rest with the given key', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] } },
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      },
    });
  });

  test('admits IAM-authenticated clients only', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
    });
    const [cluster] = Object.values(template.findResources('AWS::MSK::Cluster'));
    expect(cluster?.Properties.ClientAuthentication.Sasl.Scram).toBeUndefined();
    expect(cluster?.Properties.ClientAuthentication.Tls).toBeUndefined();
  });

  test('opens the IAM/TLS port 9098 to the client CIDRs only, and nothing outbound', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [{ CidrIp: '10.64.0.0/18', FromPort: 9098, ToPort: 9098, IpProtocol: 'tcp' }],
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
  });

  test('the configuration replicates 3 ways, needs 2 in-sync replicas, keeps 168 h and never auto-creates topics', () => {
    const [configuration] = Object.values(template.findResources('AWS::MSK::Configuration'));
    const properties = Object.fromEntries(
      String(configuration?.Properties.ServerProperties)
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    );
    expect(properties).toEqual({
      'auto.create.topics.enable': 'false',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'num.partitions': '6',
      'log.retention.hours': '168',
      'unclean.leader.election.enable': 'false',
    });
    template.hasResourceProperties('AWS::MSK::Cluster', {
      ConfigurationInfo: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Configuration'), 'Arn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('Configuration'), 'LatestRevision.Revision'] },
      },
    });
  });

  test('grows broker storage from 1000 to 4000 GiB at 60 % utilization, never shrinking it', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'kafka',
      ScalableDimension: 'kafka:broker-storage:VolumeSize',
      ResourceId: clusterArn,
      MinCapacity: 1000,
      MaxCapacity: 4000,
      RoleARN:
        'arn:aws:iam::111122223333:role/aws-service-role/kafka.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_KafkaCluster',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'KafkaBrokerStorageUtilization' },
        TargetValue: 60,
        DisableScaleIn: true,
      },
    });
  });

  test('sends broker logs to a retained log group and monitors per topic and partition', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      LoggingInfo: {
        BrokerLogs: {
          CloudWatchLogs: { Enabled: true, LogGroup: { Ref: stack.getLogicalId(kafka.brokerLogs.node.defaultChild as iam.CfnRole) } },
        },
      },
      EnhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
    });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: { RetentionInDays: 365 } });
  });

  test('is retained on delete and on replacement', () => {
    template.hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('reads the SASL/IAM bootstrap brokers with a call scoped to this cluster', () => {
    const [lookup] = Object.values(template.findResources('Custom::MskBootstrapBrokers'));
    const create = stack.resolve(lookup?.Properties.Create);
    expect(JSON.stringify(create)).toContain('"action\\":\\"getBootstrapBrokers\\"');
    expect(stack.resolve(kafka.bootstrapBrokersSaslIam)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'BootstrapBrokerStringSaslIam'] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'kafka:GetBootstrapBrokers', Effect: 'Allow', Resource: clusterArn }] },
    });
  });

  test('has no cluster policy and no multi-VPC connectivity unless it is a replication source', () => {
    template.resourceCountIs('AWS::MSK::ClusterPolicy', 0);
    const [cluster] = Object.values(template.findResources('AWS::MSK::Cluster'));
    expect(cluster?.Properties.BrokerNodeGroupInfo.ConnectivityInfo).toBeUndefined();
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('MskCluster as a cross-region replication source', () => {
  const { stack, kafka } = build({ replicationSource: true });
  const template = Template.fromStack(stack);
  const clusterArn = { 'Fn::GetAtt': [stack.getLogicalId(kafka.cluster), 'Arn'] };

  test('turns on multi-VPC connectivity for IAM clients', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      BrokerNodeGroupInfo: { ConnectivityInfo: { VpcConnectivity: { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } } } },
    });
  });

  test("lets this account's MSK Replicator connect, and nothing else", () => {
    template.hasResourceProperties('AWS::MSK::ClusterPolicy', {
      ClusterArn: clusterArn,
      Policy: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'kafka.amazonaws.com' },
            Action: ['kafka:CreateVpcConnection', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
            Resource: clusterArn,
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          },
        ],
      },
    });
  });

  test('passes the quality gates', () => {
    const { app } = build({ replicationSource: true }, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('MskCluster.grantClient', () => {
  const { stack, kafka } = build();
  const role = new iam.Role(stack, 'Worker', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  kafka.grantClient(role, { topics: ['job-tasks'], groups: ['job-workers'], write: true });
  const template = Template.fromStack(stack);
  const clusterId = stack.getLogicalId(kafka.cluster);
  const split = { 'Fn::Split': [':cluster/', { 'Fn::GetAtt': [clusterId, 'Arn'] }] };
  const arnOf = (type: string, name: string) => ({
    'Fn::Join': ['', [{ 'Fn::Select': [0, split] }, `:${type}/`, { 'Fn::Select': [1, split] }, `/${name}`]],
  });

  test('grants connect, produce and consume on the named topic and group only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [clusterId, 'Arn'] },
          },
          {
            Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:WriteData'],
            Effect: 'Allow',
            Resource: arnOf('topic', 'job-tasks'),
          },
          {
            Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
            Effect: 'Allow',
            Resource: arnOf('group', 'job-workers'),
          },
        ],
      },
    });
  });

  test('a read-only client gets no write action', () => {
    const other = build();
    const reader = new iam.Role(other.stack, 'Reader', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    other.kafka.grantClient(reader, { topics: ['job-tasks'] });
    const document = JSON.stringify(Template.fromStack(other.stack).findResources('AWS::IAM::Policy'));
    expect(document).toContain('kafka-cluster:ReadData');
    expect(document).not.toContain('kafka-cluster:WriteData');
  });

  test('wildcard topics pass the gates, acknowledged on the grantee', () => {
    const gated = build({}, true);
    const admin = new iam.Role(gated.stack, 'Admin', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    gated.kafka.grantClient(admin, { topics: ['*'], groups: ['mlp-*'], read: true });
    expect(() => gated.app.synth()).not.toThrow();
  });
});

describe('invalid cluster props fail with a clear ValidationError', () => {
  test.each<[string, Partial<MskClusterProps>, string]>([
    ['4 brokers', { brokers: 4 }, 'brokers must be a positive multiple of 3 (the same number in each AZ), got 4'],
    ['0 brokers', { brokers: 0 }, 'brokers must be a positive multiple of 3'],
    [
      'a topic RF above the broker count',
      { brokers: 3, topics: [{ ...JOB_TASKS, replicationFactor: 4, minInsyncReplicas: 2 }] },
      "topic 'job-tasks' has replication factor 4; it must be an integer from 1 to the 3 brokers",
    ],
    [
      'a min ISR equal to the RF',
      { topics: [{ ...JOB_TASKS, minInsyncReplicas: 3 }] },
      "topic 'job-tasks' has min.insync.replicas 3; it must be at least 1 and below the replication factor 3",
    ],
    ['a min ISR of 0', { topics: [{ ...JOB_TASKS, minInsyncReplicas: 0 }] }, 'has min.insync.replicas 0'],
    ['a cluster min ISR equal to the default RF', { minInsyncReplicas: 3 }, 'the cluster default has min.insync.replicas 3'],
    [
      'retention under an hour',
      { retentionHours: 0 },
      'the cluster default has retention 0 h; it must be a whole number of hours, at least 1',
    ],
    ['a topic retention under an hour', { topics: [{ ...JOB_TASKS, retentionHours: 0 }] }, "topic 'job-tasks' has retention 0 h"],
    ['max storage below storage', { maxStorageGiB: 500 }, 'maxStorageGiB (500) is below storageGiB (1000)'],
    ['a topic name with a space', { topics: [{ ...JOB_TASKS, name: 'job tasks' }] }, "topic name 'job tasks' is not a Kafka topic name"],
    ['a topic listed twice', { topics: [JOB_TASKS, JOB_TASKS] }, "topic 'job-tasks' is listed twice"],
    ['a bad instance type', { brokerInstanceType: 'm7g.xlarge' }, 'brokerInstanceType must look like kafka.m7g.xlarge, got m7g.xlarge'],
    ['a bad cluster name', { clusterName: '1-kafka' }, "clusterName '1-kafka' is invalid"],
    ['no clients', { clientCidrs: [] }, 'clientCidrs must name at least one client CIDR block'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
    try {
      build(overrides);
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
      expect((error as Error).message).toContain('Kafka/Kafka');
    }
  });
});
