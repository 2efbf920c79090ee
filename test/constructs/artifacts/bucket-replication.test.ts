import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { BucketReplication, type ReplicationDestination } from '../../../constructs/artifacts';
import { testLogsKey } from '../../support/fixtures';
import { replicationSentBy } from '../../support/replication';
import { testApp } from '../../support/synth';

const DESTINATIONS: ReplicationDestination[] = [
  { bucketName: 'dest-usw2', region: 'us-west-2', kmsKeyAlias: 'alias/data' },
  { bucketName: 'dest-euw1', region: 'eu-west-1', kmsKeyAlias: 'alias/data' },
];

function build(destinations = DESTINATIONS, region = 'us-east-1') {
  const stack = new Stack(testApp(), 'Test', { env: { account: '111122223333', region } });
  const replication = new BucketReplication(stack, 'Replication', {
    logEncryptionKey: testLogsKey(stack),
    sourceBucketName: 'source',
    sourceKmsKeyAlias: 'alias/data',
    destinations,
  });
  return { stack, replication };
}

describe('BucketReplication', () => {
  const { stack } = build();
  const template = Template.fromStack(stack);
  const sent = replicationSentBy(template.toJSON().Resources);
  const configuration = { Rules: sent.rules };

  test('writes the configuration of the source bucket', () => {
    expect(sent.bucket).toBe('source');
  });

  test('one enabled rule per destination, in priority order', () => {
    expect(configuration.Rules.map((r) => [r.ID, r.Priority, r.Status, r.Destination.Bucket])).toEqual([
      ['to-us-west-2', 0, 'Enabled', 'arn:aws:s3:::dest-usw2'],
      ['to-eu-west-1', 1, 'Enabled', 'arn:aws:s3:::dest-euw1'],
    ]);
  });

  test('Replication Time Control (15 min) and metrics are on for every rule', () => {
    for (const rule of configuration.Rules) {
      expect(rule.Destination.ReplicationTime).toEqual({ Status: 'Enabled', Time: { Minutes: 15 } });
      expect(rule.Destination.Metrics).toEqual({ Status: 'Enabled', EventThreshold: { Minutes: 15 } });
    }
  });

  test('delete markers, KMS objects and replica modifications replicate, so failback sees every change', () => {
    for (const rule of configuration.Rules) {
      expect(rule.DeleteMarkerReplication).toEqual({ Status: 'Enabled' });
      expect(rule.SourceSelectionCriteria).toEqual({
        SseKmsEncryptedObjects: { Status: 'Enabled' },
        ReplicaModifications: { Status: 'Enabled' },
      });
      expect(rule.Filter).toEqual({ Prefix: '' });
    }
  });

  test("replicas are encrypted with the destination region's aliased key", () => {
    expect(configuration.Rules.map((r) => r.Destination.EncryptionConfiguration.ReplicaKmsKeyID)).toEqual([
      'arn:aws:kms:us-west-2:111122223333:alias/data',
      'arn:aws:kms:eu-west-1:111122223333:alias/data',
    ]);
  });

  test('the replication role may only use the aliased data keys, through S3', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual({
      Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: 'arn:aws:kms:us-west-2:111122223333:key/*',
      Condition: {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/data' },
        StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' },
      },
    });
    const replicate = statements.filter((s) => JSON.stringify(s.Action).includes('s3:ReplicateObject'));
    expect(replicate.flatMap((s) => [s.Resource].flat()).sort()).toEqual(['arn:aws:s3:::dest-euw1/*', 'arn:aws:s3:::dest-usw2/*']);
    expect(statements.filter((s) => s.Resource === '*')).toEqual([]);
  });

  test('the provider function holds no AWS managed policy', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test.each([
    [[], 'destinations must name at least one bucket to replicate to'],
    [
      [{ bucketName: 'b', region: 'us-east-1', kmsKeyAlias: 'alias/a' }],
      'a destination is in us-east-1, the source region; cross-region replication needs another region',
    ],
    [[DESTINATIONS[0], { ...DESTINATIONS[0], region: 'eu-west-1' }], 'destinations name the same bucket twice: dest-usw2, dest-usw2'],
  ] as [ReplicationDestination[], string][])('rejects %j', (destinations, message) => {
    expect(() => build(destinations)).toThrow(message);
  });
});
