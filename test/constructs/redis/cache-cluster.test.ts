import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { acknowledgeNist } from '../../../constructs/private/nag';
import { CacheCluster, type CacheClusterProps, GlobalDatastore, type GlobalDatastoreProps } from '../../../constructs/redis';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { testApp } from '../../support/synth';

function build(overrides: Partial<CacheClusterProps> = {}, region = 'us-east-1', withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Cache', region);
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const cache = new CacheCluster(stack, 'Cache', {
    replicationGroupId: 'mlp-tier2-cache-use1',
    engineVersion: '8.0',
    nodeType: 'cache.r7g.2xlarge',
    shards: 10,
    replicasPerShard: 1,
    encryptionKey: key,
    vpc,
    clientCidrs: ['10.64.0.0/18'],
    snapshotRetentionDays: 1,
    applicationUserId: 'mlp-tier2-app',
    ...overrides,
  });
  if (withGates) {
    acknowledgeNist(
      cache.replicationGroup,
      'ElastiCacheRedisClusterAutomaticBackup',
      'The data stack acknowledges the snapshot retention with the tier reason; this test covers the cache alone.',
    );
    addQualityGates(app);
  }
  return { app, stack, key, cache };
}

function global(cache: CacheCluster, overrides: Partial<GlobalDatastoreProps> = {}) {
  return new GlobalDatastore(cache, 'Global', {
    primary: cache,
    idSuffix: 'mlp-tier2-cache',
    secondaryRegions: ['us-west-2'],
    nodeType: 'cache.r7g.2xlarge',
    engineVersion: '8.0',
    ...overrides,
  });
}

describe('CacheCluster as a primary', () => {
  const { stack, key, cache } = build();
  global(cache);
  const template = Template.fromStack(stack);
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };

  test('is a Valkey cluster with the given shards and replicas, Multi-AZ with automatic failover', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      EngineVersion: '8.0',
      ClusterMode: 'enabled',
      CacheNodeType: 'cache.r7g.2xlarge',
      NumNodeGroups: 10,
      ReplicasPerNodeGroup: 1,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      SnapshotRetentionLimit: 1,
    });
  });

  test('is encrypted at rest with the given key and requires TLS', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AtRestEncryptionEnabled: true,
      KmsKeyId: keyArn,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
    });
  });

  test('admits only IAM-authenticated RBAC users, with no administrative commands', () => {
    template.hasResourceProperties('AWS::ElastiCache::User', {
      UserId: 'mlp-tier2-app',
      UserName: 'mlp-tier2-app',
      AuthenticationMode: { Type: 'iam' },
      AccessString: Match.stringLikeRegexp('-@admin -@dangerous'),
    });
    template.resourceCountIs('AWS::ElastiCache::User', 1);
    template.hasResourceProperties('AWS::ElastiCache::UserGroup', { Engine: 'valkey', UserIds: ['mlp-tier2-app'] });
  });

  test('is retained on delete, and the global datastore too', () => {
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResource('AWS::ElastiCache::GlobalReplicationGroup', { DeletionPolicy: 'Retain' });
  });

  test('the global datastore holds the node type and version, with the group as its primary member', () => {
    template.hasResourceProperties('AWS::ElastiCache::GlobalReplicationGroup', {
      GlobalReplicationGroupIdSuffix: 'mlp-tier2-cache',
      CacheNodeType: 'cache.r7g.2xlarge',
      EngineVersion: '8.0',
      AutomaticFailoverEnabled: true,
      Members: [{ ReplicationGroupRegion: 'us-east-1', Role: 'PRIMARY', ReplicationGroupId: Match.anyValue() }],
    });
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const gated = build({}, 'us-east-1', true);
    global(gated.cache);
    expect(() => gated.app.synth()).not.toThrow();
  });
});

describe('CacheCluster as a global datastore member', () => {
  const { stack, cache } = build({ globalDatastoreId: 'ldgnf-mlp-tier2-cache' }, 'us-west-2');
  const template = Template.fromStack(stack);

  test('joins the global datastore and leaves out what members inherit', () => {
    const [group] = Object.values(template.findResources('AWS::ElastiCache::ReplicationGroup'));
    expect(group?.Properties).toMatchObject({
      GlobalReplicationGroupId: 'ldgnf-mlp-tier2-cache',
      TransitEncryptionEnabled: true,
      KmsKeyId: expect.anything(),
    });
    for (const inherited of [
      'Engine',
      'EngineVersion',
      'AtRestEncryptionEnabled',
      'CacheNodeType',
      'NumNodeGroups',
      'CacheParameterGroupName',
    ]) {
      expect(group?.Properties).not.toHaveProperty(inherited);
    }
    expect(cache.isGlobalMember).toBe(true);
  });

  test('cannot be the primary of another global datastore', () => {
    expect(() => global(cache)).toThrow('primary must be a standalone group');
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({ globalDatastoreId: 'ldgnf-mlp-tier2-cache' }, 'us-west-2', true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid cache props fail with a clear ValidationError', () => {
  test.each<[string, Partial<CacheClusterProps>, string]>([
    ['0 shards', { shards: 0 }, 'shards must be an integer from 1 to 500, got 0'],
    ['501 shards', { shards: 501 }, 'shards must be an integer from 1 to 500, got 501'],
    ['6 replicas', { replicasPerShard: 6 }, "replicasPerShard must be an integer from 1 to 5 (ElastiCache's limit"],
    ['0 replicas', { replicasPerShard: 0 }, 'Multi-AZ failover needs at least 1), got 0'],
    ['a bad node type', { nodeType: 'r7g.large' }, 'nodeType must look like cache.r7g.xlarge, got r7g.large'],
    ['a bad id', { replicationGroupId: 'Cache_1' }, 'replicationGroupId "Cache_1" is invalid'],
    ['no clients', { clientCidrs: [] }, 'clientCidrs must name at least one client CIDR block'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
    try {
      build(overrides);
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
      expect((error as Error).message).toContain('Cache/Cache');
    }
  });

  test.each<[string, Partial<GlobalDatastoreProps>, string]>([
    [
      'three secondary regions',
      { secondaryRegions: ['us-west-2', 'eu-west-1', 'eu-central-1'] },
      "secondaryRegions must list 1 to 2 regions (ElastiCache's limit), got 3",
    ],
    ['the primary region as a secondary', { secondaryRegions: ['us-east-1'] }, "lists us-east-1, the primary's own region"],
    ['a region twice', { secondaryRegions: ['us-west-2', 'us-west-2'] }, 'lists a region twice'],
    ['a burstable node type', { nodeType: 'cache.t4g.medium' }, 'is burstable (T family)'],
  ])('a global datastore with %s', (_what, overrides, message) => {
    const { cache } = build();
    expect(() => global(cache, overrides)).toThrow(message);
  });
});

describe('CacheCluster.grantConnect', () => {
  test('grants elasticache:Connect on the replication group and the application user', () => {
    const { stack, cache } = build();
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    const grant = cache.grantConnect(role);
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'elasticache:Connect',
            Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheApplicationUser'), 'Arn'] }]),
          }),
        ],
      },
    });
  });
});
