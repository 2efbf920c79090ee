import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { AccessLogsBucket, ArtifactBucket, type ArtifactLifecycleProps } from '../../../constructs/artifacts';
import { testApp } from '../../support/synth';

const LIFECYCLE: ArtifactLifecycleProps = {
  warmAfterDays: 7,
  coldAfterDays: 30,
  archiveAfterDays: 90,
  archivePrefix: 'runs/',
  noncurrentVersionExpirationDays: 90,
};

function build(lifecycle = LIFECYCLE) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key');
  const logs = new AccessLogsBucket(stack, 'Logs');
  new ArtifactBucket(stack, 'Artifacts', {
    bucketName: 'mlp-test-artifacts',
    encryptionKey: key,
    accessLogsBucket: logs.bucket,
    lifecycle,
  });
  return { stack, key };
}

describe('ArtifactBucket', () => {
  // GIVEN / WHEN
  const { stack, key } = build();
  const template = Template.fromStack(stack);

  test('is versioned, KMS-encrypted with a bucket key, private and logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'mlp-test-artifacts',
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'mlp-test-artifacts/' },
    });
  });

  test('denies any request without TLS 1.2', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('tiers at 7 and 30 days, archives run outputs at 90, expires old versions at 90', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'mlp-test-artifacts',
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Id: 'tiering',
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 7 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 30 },
            ],
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
          }),
          Match.objectLike({
            Id: 'archive-run-outputs',
            Prefix: 'runs/',
            Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 90 }],
          }),
        ],
      },
    });
  });

  test('both buckets are retained on delete and replacement', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(2);
    for (const bucket of Object.values(buckets)) {
      expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test.each([
    [{ ...LIFECYCLE, coldAfterDays: 7 }, 'lifecycle days must increase: 0 < warmAfterDays (7) < coldAfterDays (7) < archiveAfterDays (90)'],
    [
      { ...LIFECYCLE, warmAfterDays: 0 },
      'lifecycle days must increase: 0 < warmAfterDays (0) < coldAfterDays (30) < archiveAfterDays (90)',
    ],
    [{ ...LIFECYCLE, noncurrentVersionExpirationDays: 0 }, 'noncurrentVersionExpirationDays must be at least 1, got 0'],
  ])('rejects invalid lifecycle %j', (lifecycle, message) => {
    expect(() => build(lifecycle)).toThrow(message);
  });
});
