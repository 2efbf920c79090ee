import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, test } from 'vitest';
import { ArtifactBucket } from '../../../constructs/artifacts';
import { FeatureKeyspace } from '../../../constructs/feature-store';
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
});
