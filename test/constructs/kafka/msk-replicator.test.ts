import { Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { MskCluster, MskReplicator, type MskReplicatorProps } from '../../../constructs/kafka';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc, testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const SOURCE_ARN = 'arn:aws:kafka:us-east-1:111122223333:cluster/mlp-tier2-kafka-use1/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-2';
const SOURCE = { clusterArn: SOURCE_ARN, subnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'] };

function build(overrides: Partial<MskReplicatorProps> = {}, region = 'us-west-2', withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Secondary', region, '10.65.0.0/16');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const target = new MskCluster(stack, 'Kafka', {
    clusterName: 'mlp-tier2-kafka-usw2',
    kafkaVersion: '3.8.x',
    brokers: 3,
    brokerInstanceType: 'kafka.m7g.xlarge',
    storageGiB: 1000,
    maxStorageGiB: 4000,
    defaultReplicationFactor: 3,
    minInsyncReplicas: 2,
    retentionHours: 168,
    topics: [],
    encryptionKey: key,
    vpc,
    clientCidrs: ['10.65.0.0/18'],
  });
  const replicator = new MskReplicator(stack, 'Replicator', {
    logEncryptionKey: testLogsKey(stack),
    replicatorName: 'mlp-tier2-use1-to-usw2',
    source: SOURCE,
    target,
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, target, replicator };
}

describe('MskReplicator', () => {
  const { stack, target, replicator } = build();
  const template = Template.fromStack(stack);
  const targetArn = { 'Fn::GetAtt': [stack.getLogicalId(target.cluster), 'Arn'] };

  test('is one replicator from the primary cluster into this region’s cluster', () => {
    template.resourceCountIs('AWS::MSK::Replicator', 1);
    template.hasResourceProperties('AWS::MSK::Replicator', {
      ReplicatorName: 'mlp-tier2-use1-to-usw2',
      KafkaClusters: [
        { AmazonMskCluster: { MskClusterArn: SOURCE_ARN }, VpcConfig: { SubnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'] } },
        {
          AmazonMskCluster: { MskClusterArn: targetArn },
          VpcConfig: {
            SubnetIds: stack.resolve(target.clientSubnetIds),
            SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(replicator.securityGroup?.node.defaultChild as never), 'GroupId'] }],
          },
        },
      ],
    });
  });

  test('copies every topic under its own name, with configs, ACLs and new topics, from the earliest record', () => {
    template.hasResourceProperties('AWS::MSK::Replicator', {
      ReplicationInfoList: [
        Match.objectLike({
          SourceKafkaClusterArn: SOURCE_ARN,
          TargetKafkaClusterArn: targetArn,
          TopicReplication: {
            TopicsToReplicate: ['.*'],
            TopicsToExclude: ['.*[\\-\\.]internal', '.*\\.replica', '__.*'],
            CopyTopicConfigurations: true,
            CopyAccessControlListsForTopics: true,
            DetectAndCopyNewTopics: true,
            TopicNameConfiguration: { Type: 'IDENTICAL' },
            StartingPosition: { Type: 'EARLIEST' },
          },
        }),
      ],
    });
  });

  test('synchronises consumer group offsets for every group', () => {
    template.hasResourceProperties('AWS::MSK::Replicator', {
      ReplicationInfoList: [
        Match.objectLike({
          ConsumerGroupReplication: {
            ConsumerGroupsToReplicate: ['.*'],
            SynchroniseConsumerGroupOffsets: true,
            DetectAndCopyNewConsumerGroups: true,
          },
        }),
      ],
    });
  });

  test('the service execution role is assumed by MSK of this account only', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'kafka.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          },
        ],
      },
    });
  });

  test('the role reaches only the two clusters, their topics and their groups', () => {
    const policy = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(replicator.role.node.defaultChild as never) }] },
    });
    const statements = Object.values(policy)[0]?.Properties.PolicyDocument.Statement as { Sid: string; Resource: unknown }[];
    const resources = statements.flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));
    // The target is named by its cluster name with any uuid: a literal, unique in the account and region.
    const target = 'arn:aws:kafka:us-west-2:111122223333:cluster/mlp-tier2-kafka-usw2/*';
    const prefixes = [SOURCE_ARN, ...['cluster', 'topic', 'group'].map((type) => target.replace(':cluster/', `:${type}/`))];
    for (const resource of resources) {
      expect(typeof resource).toBe('string');
      const ok =
        prefixes.some((prefix) => (resource as string).startsWith(prefix)) ||
        (resource as string).startsWith(SOURCE_ARN.replace(':cluster/', ':topic/')) ||
        (resource as string).startsWith(SOURCE_ARN.replace(':cluster/', ':group/'));
      expect(ok, resource as string).toBe(true);
    }
    expect(resources).toContain(SOURCE_ARN);
    expect(resources).toContain(target);
    expect(resources).toContain(`${target.replace(':cluster/', ':topic/')}/*`);
    expect(resources).toContain(`${SOURCE_ARN.replace(':cluster/', ':topic/')}/*`);
    expect(resources).toContain(`${SOURCE_ARN.replace(':cluster/', ':topic/')}/mskr-offset-syncs.*`);
    expect(statements.find((statement) => statement.Sid === 'ReadSourceTopics')).toMatchObject({
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:ReadData'],
    });
    // Nothing written to the source's data topics.
    const writes = statements.filter((statement) => JSON.stringify(statement).includes('kafka-cluster:WriteData"'));
    for (const statement of writes)
      expect(JSON.stringify(statement.Resource)).not.toContain(`${SOURCE_ARN.replace(':cluster/', ':topic/')}/*"`);
  });

  test('the replicator’s ENIs reach the target brokers on 9098, and the brokers admit them', () => {
    const group = { 'Fn::GetAtt': [stack.getLogicalId(replicator.securityGroup?.node.defaultChild as never), 'GroupId'] };
    const brokers = { 'Fn::GetAtt': [stack.getLogicalId(target.securityGroup.node.defaultChild as never), 'GroupId'] };
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: group,
      DestinationSecurityGroupId: brokers,
      FromPort: 9098,
      ToPort: 9098,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: brokers,
      SourceSecurityGroupId: group,
      FromPort: 9098,
      ToPort: 9098,
    });
  });

  test('logs to a retained log group', () => {
    template.hasResourceProperties('AWS::MSK::Replicator', {
      LogDelivery: {
        ReplicatorLogDelivery: {
          CloudWatchLogs: { Enabled: true, LogGroup: { Ref: stack.getLogicalId(replicator.logGroup.node.defaultChild as never) } },
        },
      },
    });
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, 'us-west-2', true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('MskReplicator with a source ARN read at deploy time', () => {
  const arn = Token.asString({ 'Fn::GetAtt': ['SourceLookup', 'Parameter.Value'] });
  const { stack, replicator } = build({ source: { ...SOURCE, clusterArn: arn, region: 'us-east-1' } });

  test('derives the source topic ARNs from the token with Fn::Split', () => {
    const document = JSON.stringify(
      stack.resolve((replicator.role.node.tryFindChild('DefaultPolicy') as never as { document: unknown }).document),
    );
    expect(document).toContain(
      '{"Fn::Select":[0,{"Fn::Split":[":cluster/",{"Fn::GetAtt":["SourceLookup","Parameter.Value"]}]}]},":topic/"',
    );
  });
});

describe('invalid replicator props fail with a clear ValidationError', () => {
  test.each<[string, Partial<MskReplicatorProps>, string, string?]>([
    ['a source in its own region', {}, "the source cluster is in us-east-1, the replicator's own region", 'us-east-1'],
    [
      'a tokenized source declared in its own region',
      { source: { ...SOURCE, clusterArn: Token.asString({ Ref: 'X' }), region: 'us-west-2' } },
      "the source cluster is in us-west-2, the replicator's own region",
    ],
    [
      'a source region that contradicts its ARN',
      { source: { ...SOURCE, region: 'eu-west-1' } },
      'source.region is eu-west-1 but source.clusterArn is in us-east-1',
    ],
    [
      'a malformed source ARN',
      { source: { ...SOURCE, clusterArn: 'arn:aws:kafka:us-east-1:111122223333:topic/x' } },
      'source.clusterArn must be an MSK cluster ARN',
    ],
    [
      'a target in another region',
      { target: { clusterArn: SOURCE_ARN, subnetIds: ['subnet-1a', 'subnet-1b'], securityGroupIds: ['sg-1'] } },
      "the target cluster is in us-east-1; MSK Replicator must be created in its target's region, us-west-2 here",
    ],
    ['one source subnet', { source: { ...SOURCE, subnetIds: ['subnet-0a'] } }, 'source.subnetIds must list at least 2 subnets'],
    ['a bad name', { replicatorName: 'use1_to_usw2' }, "replicatorName 'use1_to_usw2' is invalid"],
    ['a bad topic regex', { topicsToReplicate: ['job-('] }, "topicsToReplicate has 'job-(', which is not a regular expression"],
  ])('%s', (_what, overrides, message, region) => {
    expect(() => build(overrides, region)).toThrow(message);
  });
});
