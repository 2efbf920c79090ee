import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, test } from 'vitest';
import { ArtifactBucket } from '../../../constructs/artifacts';
import { FeatureKeyspace } from '../../../constructs/feature-store';
import { MskCluster } from '../../../constructs/kafka';
import { testApp } from '../../support/synth';

function build() {
  const stack = new Stack(testApp(), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  return { stack, role };
}

describe('grants on stores named by another stack', () => {
  test('ArtifactBucket.fromBucketName grants listing, object read and write under the keys, and the key', () => {
    const { stack, role } = build();
    const bucket = ArtifactBucket.fromBucketName(stack, 'Bucket', 'mlp-test-artifacts', 'arn:aws:kms:us-east-1:111122223333:key/k');
    const grant = bucket.grantReadWriteObjects(role, { keys: 'backups/*', withDelete: true });
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: 's3:ListBucket' }),
          Match.objectLike({
            Action: ['s3:DeleteObject', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
            Resource: 'arn:aws:s3:::mlp-test-artifacts/backups/*',
          }),
          Match.objectLike({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: 'arn:aws:kms:us-east-1:111122223333:key/k' }),
        ],
      },
    });
  });

  test('FeatureKeyspace.fromKeyspaceName grants reading every table of the keyspace in its region', () => {
    const { stack, role } = build();
    const grant = FeatureKeyspace.fromKeyspaceName(stack, 'mlp_test_features').grantReadData(role);
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'cassandra:Select',
            Resource: 'arn:aws:cassandra:us-east-1:111122223333:/keyspace/mlp_test_features/table/*',
          }),
        ],
      },
    });
  });

  test('MskCluster.fromClusterName grants a client its topics and groups on the named cluster, whatever its uuid', () => {
    const { stack, role } = build();
    const kafka = MskCluster.fromClusterName(stack, 'mlp-test-kafka-use1');
    expect(kafka.clusterArn).toBe('arn:aws:kafka:us-east-1:111122223333:cluster/mlp-test-kafka-use1/*');
    const grant = kafka.grantClient(role, { topics: ['llm-spans'], write: true, read: false, groups: ['collector*'] });
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.map((statement) => statement.toStatementJson().Action)).toEqual([
      ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
    ]);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
            Resource: 'arn:aws:kafka:us-east-1:111122223333:topic/mlp-test-kafka-use1/*/llm-spans',
          }),
        ]),
      },
    });
  });

  test('MskCluster.fromClusterName lets MirrorMaker 2 write copies into the named cluster, and only read the source', () => {
    const { stack, role } = build();
    const source = 'arn:aws:kafka:us-west-2:111122223333:cluster/mlp-test-kafka-usw2/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-2';
    const grant = MskCluster.fromClusterName(stack, 'mlp-test-kafka-use1').grantMirrorMaker2From(role, source);
    expect(grant.success).toBe(true);
    const writes = grant.principalStatements
      .map((statement) => statement.toStatementJson() as { Action: string | string[]; Resource: string | string[] })
      .filter((statement) => [statement.Action].flat().some((action) => /WriteData|CreateTopic|Alter/.test(action)));
    expect(writes.length).toBeGreaterThan(0);
    for (const statement of writes) {
      for (const resource of [statement.Resource].flat()) expect(resource).toContain(':us-east-1:');
    }
  });
});
