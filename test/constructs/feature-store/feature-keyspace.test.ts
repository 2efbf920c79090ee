import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { FeatureKeyspace, type FeatureKeyspaceProps } from '../../../constructs/feature-store';
import { addQualityGates } from '../../../lib/quality-gates';
import { testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

function build(overrides: Partial<FeatureKeyspaceProps> = {}, withGates = false) {
  const app = testApp();
  const stack = new Stack(app, 'Features', { env: { account: '111122223333', region: 'us-east-1' } });
  const keyspace = new FeatureKeyspace(stack, 'FeatureStore', {
    logEncryptionKey: testLogsKey(stack),
    keyspaceName: 'mlp_tier3_features',
    regions: REGIONS,
    tables: [
      { name: 'batch_features', ttlSeconds: 604_800 },
      { name: 'streaming_features', ttlSeconds: 86_400 },
    ],
    capacity: { mode: 'PAY_PER_REQUEST' },
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, keyspace };
}

describe('FeatureKeyspace', () => {
  const { stack } = build();
  const template = Template.fromStack(stack);

  test('creates the keyspace single-Region, a specification that never changes, and extends it to every listed region', () => {
    template.hasResourceProperties('AWS::Cassandra::Keyspace', {
      KeyspaceName: 'mlp_tier3_features',
      ReplicationSpecification: { ReplicationStrategy: 'SINGLE_REGION' },
      ClientSideTimestampsEnabled: true,
    });
    const [regions] = Object.values(template.findResources('Custom::KeyspaceRegions'));
    expect(regions?.Properties).toMatchObject({ KeyspaceName: 'mlp_tier3_features', Regions: REGIONS });
    // Regions are added once every table exists: Keyspaces replicates all of them with the keyspace.
    const tableIds = Object.keys(template.findResources('AWS::Cassandra::Table'));
    expect(regions?.DependsOn).toEqual(expect.arrayContaining(tableIds));
  });

  test('the region handler may change only this keyspace and its tables, in its regions', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const cassandra = statements.find((st) => Array.isArray(st.Action) && st.Action.includes('cassandra:AlterMultiRegionResource'));
    const resources = JSON.stringify(cassandra?.Resource);
    for (const region of REGIONS) expect(resources).toContain(`:cassandra:${region}:111122223333:/keyspace/mlp_tier3_features/`);
    expect(resources).not.toMatch(/keyspace\/\*/);
  });

  test('each table is keyed by entity, clustered by feature group, with its own TTL and PITR', () => {
    const tables = Object.values(template.findResources('AWS::Cassandra::Table'));
    expect(tables.map((t) => [t.Properties.TableName, t.Properties.DefaultTimeToLive])).toEqual([
      ['batch_features', 604_800],
      ['streaming_features', 86_400],
    ]);
    for (const table of tables) {
      expect(table).toMatchObject({
        Properties: {
          PartitionKeyColumns: [{ ColumnName: 'entity_id', ColumnType: 'text' }],
          ClusteringKeyColumns: [{ Column: { ColumnName: 'feature_group', ColumnType: 'text' }, OrderBy: 'ASC' }],
          RegularColumns: expect.arrayContaining([
            { ColumnName: 'features', ColumnType: 'blob' },
            { ColumnName: 'event_time', ColumnType: 'timestamp' },
          ]),
          PointInTimeRecoveryEnabled: true,
          ClientSideTimestampsEnabled: true,
          EncryptionSpecification: { EncryptionType: 'AWS_OWNED_KMS_KEY' },
          BillingMode: { Mode: 'ON_DEMAND' },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  test('provisioned tables auto scale reads and writes; a Region added later takes the same settings', () => {
    const { stack: provisioned } = build({
      capacity: {
        mode: 'PROVISIONED',
        minReadCapacityUnits: 40_000,
        maxReadCapacityUnits: 160_000,
        minWriteCapacityUnits: 10_000,
        maxWriteCapacityUnits: 40_000,
        targetUtilizationPercent: 70,
      },
    });
    const [table] = Object.values(Template.fromStack(provisioned).findResources('AWS::Cassandra::Table'));
    const read = {
      MinimumUnits: 40_000,
      MaximumUnits: 160_000,
      ScalingPolicy: { TargetTrackingScalingPolicyConfiguration: { TargetValue: 70 } },
    };
    expect(table?.Properties).toMatchObject({
      BillingMode: { Mode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 40_000, WriteCapacityUnits: 10_000 } },
      AutoScalingSpecifications: {
        ReadCapacityAutoScaling: read,
        WriteCapacityAutoScaling: { MinimumUnits: 10_000, MaximumUnits: 40_000 },
      },
    });
    expect(table?.Properties).not.toHaveProperty('ReplicaSpecifications');
  });

  test('passes the quality gates', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid feature store props fail with a clear ValidationError', () => {
  test.each<[string, Partial<FeatureKeyspaceProps>, string]>([
    ['one region', { regions: ['us-east-1'] }, 'regions must list at least 2 regions'],
    ['a region twice', { regions: ['us-east-1', 'us-west-2', 'us-west-2'] }, 'regions lists a region twice'],
    [
      "regions without the stack's own",
      { regions: ['us-west-2', 'eu-west-1'] },
      'regions must include us-east-1, the region the keyspace is created in',
    ],
    ['a hyphenated keyspace', { keyspaceName: 'mlp-features' }, 'keyspaceName "mlp-features" is invalid'],
    ['no tables', { tables: [] }, 'tables must list at least one feature table'],
    [
      'a zero TTL',
      { tables: [{ name: 'features', ttlSeconds: 0 }] },
      'table features: ttlSeconds must be an integer from 1 to 630720000, got 0',
    ],
    [
      'a table twice',
      {
        tables: [
          { name: 'features', ttlSeconds: 60 },
          { name: 'features', ttlSeconds: 60 },
        ],
      },
      'table features is listed twice',
    ],
    [
      'a ceiling below the floor',
      {
        capacity: {
          mode: 'PROVISIONED',
          minReadCapacityUnits: 100,
          maxReadCapacityUnits: 10,
          minWriteCapacityUnits: 1,
          maxWriteCapacityUnits: 1,
          targetUtilizationPercent: 70,
        },
      },
      'provisioned read capacity must have 1 <= min <= max, got min 100, max 10',
    ],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
