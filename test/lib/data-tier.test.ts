import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig, runbookParameterName } from '../../lib/config';
import { DataStack, NetworkStack } from '../../lib/stacks';
import { type CfnTemplate, LayoutAssembly } from '../support/assembly';
import { LAYOUTS, layoutContext, TEST_ACCOUNT } from '../support/layouts';
import { testApp } from '../support/synth';

type Resource = CfnTemplate['Resources'][string];

/** The logical id a `Ref` or `Fn::GetAtt` points at, if the value is one. */
function referencedId(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0] as string;
  return undefined;
}

function only(resources: Record<string, Resource>, what: string): [string, Resource] {
  const entries = Object.entries(resources);
  if (entries.length !== 1) throw new Error(`expected exactly one ${what}, found ${entries.length}`);
  return entries[0] as [string, Resource];
}

describe.each(LAYOUTS)('data tier of layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const tier = config.tier;
  const primary = config.primaryRegion;
  const home = config.regions[0];
  if (!home) throw new Error('no home region');
  const secondaries = config.regions.filter((r) => !r.isPrimary);
  const data = (code: string) => `Mlp-${tier.name}-${code}-data`;
  const arnOf = (g: { region: string; instanceIdentifier: string }) => `arn:aws:rds:${g.region}:${TEST_ACCOUNT}:db:${g.instanceIdentifier}`;
  const instanceNamed = (code: string, id: string) =>
    only(
      Object.fromEntries(
        Object.entries(assembly.resourcesOfType(data(code), 'AWS::RDS::DBInstance')).filter(
          ([, r]) => r.Properties?.DBInstanceIdentifier === id,
        ),
      ),
      `instance ${id}`,
    );

  describe.runIf(config.databaseEngine === 'rds-postgresql')('PostgreSQL on RDS', () => {
    test.each(config.regions.map((r) => [r.name, r]))(
      "%s holds its lineage's current and retained instances, and nothing else",
      (_name, region) => {
        const lineage = config.databases[region.name];
        const wanted = [lineage?.current, ...(lineage?.retained ?? [])].map((g) => g?.instanceIdentifier);
        const held = Object.values(assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBInstance'))
          .filter((r) => r.DeletionPolicy !== 'Delete')
          .map((r) => r.Properties?.DBInstanceIdentifier);
        expect(held.sort()).toEqual(wanted.sort());
      },
    );

    test.each(
      Object.values(config.databases)
        .flatMap((d) => [d.current, ...d.retained])
        .filter((g) => !g.createdFrom)
        .map((g) => [g.instanceIdentifier, g]),
    )('%s, created as the primary, is Multi-AZ with the tier size, 35-day PITR, IAM auth and deletion protection', (_id, g) => {
      const [, instance] = instanceNamed(g.regionCode, g.instanceIdentifier);
      expect(instance.Properties).toMatchObject({
        DBInstanceClass: `db.${tier.postgres.instanceClass}`,
        AllocatedStorage: String(tier.postgres.allocatedStorageGiB),
        MaxAllocatedStorage: tier.postgres.maxAllocatedStorageGiB,
        StorageType: 'gp3',
        MultiAZ: true,
        BackupRetentionPeriod: 35,
        StorageEncrypted: true,
        EnableIAMDatabaseAuthentication: true,
        DeletionProtection: true,
        ManageMasterUserPassword: true,
        EngineVersion: tier.postgres.engineMajorVersion,
      });
      expect(instance.DeletionPolicy).toBe('Retain');
    });

    test.each(
      Object.values(config.databases)
        .flatMap((d) => [d.current, ...d.retained])
        .filter((g) => g.createdFrom)
        .map((g) => [g.instanceIdentifier, g]),
    )('%s replicates the ARN it was created from, re-keyed with a key of its own region, with backups', (_id, g) => {
      const template = assembly.template(data(g.regionCode));
      const [, replica] = instanceNamed(g.regionCode, g.instanceIdentifier);
      expect(replica.Properties).toMatchObject({
        SourceDBInstanceIdentifier: arnOf(g.createdFrom as { region: string; instanceIdentifier: string }),
        SourceRegion: g.createdFrom?.region,
        DBInstanceClass: `db.${tier.postgres.instanceClass}`,
        MultiAZ: tier.postgres.crossRegionReplicaMultiAz,
        BackupRetentionPeriod: 35,
        DeletionProtection: true,
      });
      // The key is a KMS key defined in this very stack, so it lives in this region.
      const keyId = referencedId(replica.Properties?.KmsKeyId);
      expect(keyId && template.Resources[keyId]?.Type).toBe('AWS::KMS::Key');
      expect(replica.DeletionPolicy).toBe('Retain');
    });

    test("the in-region read replicas match the tier, replicate the primary's current instance, tagged by the traffic they serve", () => {
      const [primaryId] = instanceNamed(primary.code, config.databases[primary.name]?.current.instanceIdentifier as string);
      const replicas = Object.values(assembly.resourcesOfType(data(primary.code), 'AWS::RDS::DBInstance')).filter(
        (r) => r.DeletionPolicy === 'Delete',
      );
      const roles = replicas.map(
        (r) => (r.Properties?.Tags as { Key: string; Value: string }[] | undefined)?.find((t) => t.Key === 'mlp:replica-role')?.Value,
      );
      expect(roles.sort()).toEqual([...tier.postgres.readReplicaRoles].sort());
      for (const replica of replicas) expect(JSON.stringify(replica.Properties?.SourceDBInstanceIdentifier)).toContain(primaryId);
    });

    test('RDS Proxy fronts the primary exactly when the tier asks for a pooler', () => {
      const proxies = assembly.resourcesOfType(data(primary.code), 'AWS::RDS::DBProxy');
      expect(Object.keys(proxies)).toHaveLength(tier.postgres.connectionPooler ? 1 : 0);
      for (const proxy of Object.values(proxies)) {
        expect(proxy.Properties).toMatchObject({ RequireTLS: true, DefaultAuthScheme: 'IAM_AUTH', EngineFamily: 'POSTGRESQL' });
      }
    });

    test('the other data stacks deploy after the primary region’s', () => {
      for (const region of secondaries) {
        expect(assembly.artifact(data(region.code)).dependencies).toContain(data(primary.code));
      }
    });

    test('every instance enforces TLS through its parameter group', () => {
      for (const region of config.regions) {
        const groups = assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBParameterGroup');
        expect(Object.keys(groups).length).toBeGreaterThan(0);
        for (const group of Object.values(groups)) {
          expect(group.Properties?.Parameters).toMatchObject({
            'rds.force_ssl': '1',
            max_connections: String(tier.postgres.maxConnections),
          });
        }
      }
    });
  });

  describe.runIf(config.databaseEngine === 'aurora-postgresql-global')('PostgreSQL on an Aurora global database', () => {
    const { aurora } = tier.database;
    const globalId = `mlp-${tier.name}-pg-global`;
    const clusterOf = (code: string) => only(assembly.resourcesOfType(data(code), 'AWS::RDS::DBCluster'), `cluster in ${code}`);

    test('the home region creates the global database from engine and version only, encrypted, protected and retained', () => {
      const [, global] = only(assembly.resourcesOfType(data(home.code), 'AWS::RDS::GlobalCluster'), 'global cluster');
      expect(global.Properties).toEqual({
        GlobalClusterIdentifier: globalId,
        Engine: 'aurora-postgresql',
        EngineVersion: aurora.engineVersion,
        StorageEncrypted: true,
        DeletionProtection: true,
      });
      expect(global.DeletionPolicy).toBe('Retain');
      for (const region of config.regions.filter((r) => !r.isHome)) {
        expect(Object.keys(assembly.resourcesOfType(data(region.code), 'AWS::RDS::GlobalCluster'))).toEqual([]);
      }
    });

    test.each(config.regions.map((r) => [r.name, r]))(
      '%s holds one member cluster: encrypted with its own key, IAM auth, 35-day PITR, protected and retained',
      (_name, region) => {
        const template = assembly.template(data(region.code));
        const [, cluster] = clusterOf(region.code);
        expect(cluster.Properties).toMatchObject({
          DBClusterIdentifier: `mlp-${tier.name}-pg-${region.code}`,
          GlobalClusterIdentifier: globalId,
          Engine: 'aurora-postgresql',
          EngineVersion: aurora.engineVersion,
          StorageEncrypted: true,
          EnableIAMDatabaseAuthentication: true,
          BackupRetentionPeriod: tier.postgres.backupRetentionDays,
          DeletionProtection: true,
        });
        expect(cluster.Properties).not.toHaveProperty('ManageMasterUserPassword');
        expect(cluster.DeletionPolicy).toBe('Retain');
        const keyId = referencedId(cluster.Properties?.KmsKeyId);
        expect(keyId && template.Resources[keyId]?.Type).toBe('AWS::KMS::Key');
        // Only the cluster that created the global database has a master user; RDS rejects one on a secondary.
        expect(cluster.Properties?.MasterUsername !== undefined).toBe(region.isHome);
        expect(cluster.Properties?.MasterUserPassword !== undefined).toBe(region.isHome);
      },
    );

    test.each(config.regions.map((r) => [r.name, r]))(
      "%s runs a writer pair in two zones and the seeds' read roles behind custom endpoints, memory-optimized",
      (_name, region) => {
        const [clusterId] = clusterOf(region.code);
        const instances = Object.entries(assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBInstance'));
        for (const [, instance] of instances) {
          expect(instance.Properties).toMatchObject({ DBInstanceClass: `db.${aurora.instanceClass}`, Engine: 'aurora-postgresql' });
          expect(referencedId(instance.Properties?.DBClusterIdentifier)).toBe(clusterId);
        }
        const pair = instances.filter(([, i]) => i.Properties?.PromotionTier === 0);
        expect(pair).toHaveLength(2);
        expect(new Set(pair.map(([, i]) => i.Properties?.AvailabilityZone)).size).toBe(2);
        const roleOf = (i: Resource) =>
          ((i.Properties?.Tags ?? []) as { Key: string; Value: string }[]).find((t) => t.Key === 'mlp:instance-role')?.Value;
        const readers = instances.filter(([, i]) => roleOf(i) !== 'writer');
        expect(readers.map(([, i]) => roleOf(i)).sort()).toEqual([...tier.postgres.readReplicaRoles].sort());
        const endpoints = Object.values(assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBClusterEndpoint'));
        expect(endpoints.map((e) => e.Properties?.DBClusterEndpointIdentifier).sort()).toEqual(
          [...new Set(tier.postgres.readReplicaRoles)].map((role) => `mlp-${tier.name}-pg-${region.code}-${role}`).sort(),
        );
        for (const endpoint of endpoints) {
          const role = String(endpoint.Properties?.DBClusterEndpointIdentifier).split(`${region.code}-`)[1];
          const members = ((endpoint.Properties?.StaticMembers ?? []) as unknown[]).map(referencedId);
          expect(members.sort()).toEqual(
            readers
              .filter(([, i]) => roleOf(i) === role)
              .map(([id]) => id)
              .sort(),
          );
        }
      },
    );

    test('every cluster enforces TLS, and every instance has the tier’s connections', () => {
      for (const region of config.regions) {
        const [, clusterGroup] = only(assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBClusterParameterGroup'), 'cluster group');
        expect(clusterGroup.Properties).toMatchObject({ Family: `aurora-postgresql${aurora.engineVersion.split('.')[0]}` });
        expect(clusterGroup.Properties?.Parameters).toMatchObject({ 'rds.force_ssl': '1', ssl_min_protocol_version: 'TLSv1.2' });
        const [, instanceGroup] = only(assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBParameterGroup'), 'instance group');
        expect(instanceGroup.Properties?.Parameters).toMatchObject({ max_connections: String(tier.postgres.maxConnections) });
      }
    });

    test('RDS Proxy fronts every region’s cluster exactly when the tier asks for a pooler', () => {
      for (const region of config.regions) {
        const proxies = assembly.resourcesOfType(data(region.code), 'AWS::RDS::DBProxy');
        expect(Object.keys(proxies)).toHaveLength(tier.postgres.connectionPooler ? 1 : 0);
      }
    });

    test.each(config.regions.map((r) => [r.name, r]))(
      '%s publishes the global writer endpoint, read from DescribeGlobalClusters with that call allowed on that global database only',
      (_name, region) => {
        const template = assembly.template(data(region.code));
        const [readerId, reader] = only(
          assembly.resourcesOfType(data(region.code), 'Custom::GlobalWriterEndpoint'),
          'writer endpoint reader',
        );
        const call = JSON.parse(String(reader.Properties?.Create));
        expect(call).toMatchObject({
          service: 'RDS',
          action: 'describeGlobalClusters',
          parameters: { GlobalClusterIdentifier: globalId },
          outputPaths: ['GlobalClusters.0.Endpoint'],
        });
        // Created after the region's cluster: in the home region the global database has a member by then.
        expect(reader.DependsOn).toContain(clusterOf(region.code)[0]);
        const policies = Object.values(template.Resources).filter(
          (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.PolicyDocument).includes('rds:DescribeGlobalClusters'),
        );
        expect(policies.map((p) => (p.Properties?.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement)).toEqual([
          [
            {
              Action: 'rds:DescribeGlobalClusters',
              Effect: 'Allow',
              Resource: `arn:aws:rds::${TEST_ACCOUNT}:global-cluster:${globalId}`,
            },
          ],
        ]);
        const [, parameter] = only(
          Object.fromEntries(
            Object.entries(assembly.resourcesOfType(data(region.code), 'AWS::SSM::Parameter')).filter(
              ([, p]) => p.Properties?.Name === runbookParameterName(tier.name, 'postgres', 'writer-endpoint'),
            ),
          ),
          'writer-endpoint parameter',
        );
        expect(parameter.Properties?.Value).toEqual({
          'Fn::Join': ['', [{ 'Fn::GetAtt': [readerId, 'GlobalClusters.0.Endpoint'] }, ':5432']],
        });
      },
    );

    test('the primary region’s cluster is in its backup plan', () => {
      const selections = Object.values(assembly.resourcesOfType(data(primary.code), 'AWS::Backup::BackupSelection'));
      expect(JSON.stringify(selections)).toContain(`:cluster:mlp-${tier.name}-pg-${primary.code}`);
    });
  });

  describe('cache', () => {
    const members = config.regions.filter((r) => !r.isHome).slice(0, 2);
    const regionalOnly = config.regions.filter((r) => !r.isHome).slice(2);

    test('the home region creates the global datastore around its own group; its primary member is the primary region’s', () => {
      const [groupId, group] = only(assembly.resourcesOfType(data(home.code), 'AWS::ElastiCache::ReplicationGroup'), 'replication group');
      const [, global] = only(assembly.resourcesOfType(data(home.code), 'AWS::ElastiCache::GlobalReplicationGroup'), 'global datastore');
      const datastorePrimary = primary.isHome || members.includes(primary) ? primary : home;
      expect(global.Properties).toMatchObject({
        GlobalReplicationGroupIdSuffix: `mlp-${tier.name}-cache`,
        CacheNodeType: tier.redis.nodeType,
        Members: [
          {
            ReplicationGroupId: datastorePrimary.isHome ? { Ref: groupId } : `mlp-${tier.name}-cache-${datastorePrimary.code}`,
            ReplicationGroupRegion: datastorePrimary.name,
            Role: 'PRIMARY',
          },
        ],
      });
      expect(global.DependsOn).toContain(groupId);
      expect(group.Properties).toMatchObject({
        Engine: 'valkey',
        CacheNodeType: tier.redis.nodeType,
        NumNodeGroups: tier.redis.shards,
        ReplicasPerNodeGroup: tier.redis.replicasPerShard,
        MultiAZEnabled: true,
        AutomaticFailoverEnabled: true,
        AtRestEncryptionEnabled: true,
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
      });
      for (const region of config.regions.filter((r) => !r.isHome)) {
        expect(assembly.resourcesOfType(data(region.code), 'AWS::ElastiCache::GlobalReplicationGroup')).toEqual({});
      }
    });

    test('the global datastore has one member per other region, up to ElastiCache’s two, whatever the primary', () => {
      const joined = config.regions.filter((region) =>
        Object.values(assembly.resourcesOfType(data(region.code), 'AWS::ElastiCache::ReplicationGroup')).some(
          (group) => group.Properties?.GlobalReplicationGroupId !== undefined,
        ),
      );
      expect(joined.map((r) => r.name)).toEqual(members.map((r) => r.name));
    });

    test.each(members.map((s) => [s.name, s]))(
      '%s joins as a member without the properties CloudFormation forbids on members',
      (_name, region) => {
        const [, group] = only(assembly.resourcesOfType(data(region.code), 'AWS::ElastiCache::ReplicationGroup'), 'replication group');
        for (const forbidden of ['Engine', 'EngineVersion', 'AtRestEncryptionEnabled', 'CacheNodeType', 'NumNodeGroups']) {
          expect(group.Properties).not.toHaveProperty(forbidden);
        }
        expect(group.Properties).toMatchObject({
          TransitEncryptionEnabled: true,
          ReplicasPerNodeGroup: tier.redis.replicasPerShard,
          KmsKeyId: expect.anything(),
        });
        expect(group.Properties?.GlobalReplicationGroupId).toMatchObject({ 'Fn::GetAtt': [expect.any(String), 'Parameter.Value'] });
      },
    );

    test.each(regionalOnly.map((s) => [s.name, s]))('%s, beyond the two members, runs a regional cache', (_name, region) => {
      const [, group] = only(assembly.resourcesOfType(data(region.code), 'AWS::ElastiCache::ReplicationGroup'), 'replication group');
      expect(group.Properties).toMatchObject({ Engine: 'valkey', AtRestEncryptionEnabled: true, TransitEncryptionEnabled: true });
      expect(group.Properties).not.toHaveProperty('GlobalReplicationGroupId');
    });

    test('every cache authenticates IAM users through a Valkey RBAC group', () => {
      for (const region of config.regions) {
        const stack = data(region.code);
        const [, group] = only(assembly.resourcesOfType(stack, 'AWS::ElastiCache::ReplicationGroup'), 'replication group');
        const userGroupId = referencedId((group.Properties?.UserGroupIds as unknown[] | undefined)?.[0]);
        expect(userGroupId && assembly.template(stack).Resources[userGroupId]?.Type).toBe('AWS::ElastiCache::UserGroup');
        assembly.assertions(stack).hasResourceProperties('AWS::ElastiCache::User', {
          AuthenticationMode: { Type: 'iam' },
          Engine: 'valkey',
        });
      }
    });
  });

  describe('feature store', () => {
    test('one keyspace, owned by the home region whatever the primary, extended to every region', () => {
      const [, keyspace] = only(assembly.resourcesOfType(data(home.code), 'AWS::Cassandra::Keyspace'), 'keyspace');
      expect(keyspace.Properties?.ReplicationSpecification).toEqual({ ReplicationStrategy: 'SINGLE_REGION' });
      const [, regions] = only(assembly.resourcesOfType(data(home.code), 'Custom::KeyspaceRegions'), 'keyspace regions');
      expect(regions.Properties?.Regions).toEqual(config.regions.map((r) => r.name));
      for (const region of config.regions.filter((r) => !r.isHome)) {
        expect(assembly.resourcesOfType(data(region.code), 'AWS::Cassandra::Keyspace')).toEqual({});
      }
    });

    test('each feature table has its TTL, PITR and client-side timestamps', () => {
      const tables = Object.values(assembly.resourcesOfType(data(home.code), 'AWS::Cassandra::Table'));
      expect(tables.map((t) => [t.Properties?.TableName, t.Properties?.DefaultTimeToLive])).toEqual(
        tier.featureStore.tables.map((t) => [t.name, t.ttlSeconds]),
      );
      for (const table of tables) {
        expect(table.Properties).toMatchObject({
          PointInTimeRecoveryEnabled: true,
          ClientSideTimestampsEnabled: true,
          PartitionKeyColumns: [{ ColumnName: 'entity_id', ColumnType: 'text' }],
          EncryptionSpecification: { EncryptionType: 'AWS_OWNED_KMS_KEY' },
          BillingMode: { Mode: tier.featureStore.capacity.mode === 'PAY_PER_REQUEST' ? 'ON_DEMAND' : 'PROVISIONED' },
        });
      }
    });
  });

  describe('backups', () => {
    test.each(config.regions.map((r, i) => [r.name, r, config.regions[(i + 1) % config.regions.length]]))(
      '%s backs up to an encrypted vault, copying daily and weekly points to the next region',
      (_name, region, next) => {
        const stack = data(region.code);
        const [, vault] = only(assembly.resourcesOfType(stack, 'AWS::Backup::BackupVault'), 'vault');
        expect(vault.Properties).toMatchObject({ BackupVaultName: `mlp-${tier.name}-backup`, EncryptionKeyArn: expect.anything() });
        expect(vault.Properties).not.toHaveProperty('LockConfiguration');
        const [, plan] = only(assembly.resourcesOfType(stack, 'AWS::Backup::BackupPlan'), 'plan');
        const rules = (plan.Properties?.BackupPlan as { BackupPlanRule: Record<string, unknown>[] } | undefined)?.BackupPlanRule ?? [];
        const byName = Object.fromEntries(rules.map((r) => [r.RuleName, r]));
        expect(Object.keys(byName).sort()).toEqual(['daily', 'hourly', 'weekly']);
        expect(byName.hourly).toMatchObject({ Lifecycle: { DeleteAfterDays: 7 } });
        expect(byName.hourly).not.toHaveProperty('CopyActions');
        expect(byName.daily).toMatchObject({ Lifecycle: { DeleteAfterDays: 30 } });
        expect(byName.weekly).toMatchObject({ Lifecycle: { DeleteAfterDays: 365 } });
        for (const rule of [byName.daily, byName.weekly]) {
          const copy = (rule?.CopyActions as { DestinationBackupVaultArn: unknown }[] | undefined)?.[0];
          expect(JSON.stringify(copy?.DestinationBackupVaultArn)).toContain(
            `:backup:${next?.name}:${TEST_ACCOUNT}:backup-vault:mlp-${tier.name}-backup`,
          );
        }
      },
    );
  });

  test('every region publishes the runbook parameters of its stores', () => {
    for (const region of config.regions) {
      const names = Object.values(assembly.resourcesOfType(data(region.code), 'AWS::SSM::Parameter')).map((p) => p.Properties?.Name);
      for (const [component, key] of [
        ['postgres', 'engine'],
        ['postgres', 'role'],
        ['postgres', 'endpoint'],
        ['topology', 'primary-region'],
        ['redis', 'replication-group-id'],
        ['redis', 'global-datastore-id'],
        ['feature-store', 'keyspace'],
        ['backup', 'vault-name'],
      ] as const) {
        expect(names).toContain(runbookParameterName(tier.name, component, key as never));
      }
      const values = Object.fromEntries(
        Object.values(assembly.resourcesOfType(data(region.code), 'AWS::SSM::Parameter')).map((p) => [
          p.Properties?.Name,
          p.Properties?.Value,
        ]),
      );
      const parameter = (component: 'postgres' | 'topology', key: string) =>
        values[runbookParameterName(tier.name, component, key as never)];
      expect(parameter('postgres', 'engine')).toBe(config.databaseEngine);
      expect(parameter('topology', 'primary-region')).toBe(primary.name);
      if (config.databaseEngine === 'rds-postgresql') {
        const lineage = config.databases[region.name];
        expect(parameter('postgres', 'instance-id')).toBe(lineage?.current.instanceIdentifier);
        expect(parameter('postgres', 'role')).toBe(lineage?.current.role);
        expect(parameter('postgres', 'generation')).toBe(String(lineage?.current.generation));
        expect(names).toContain(runbookParameterName(tier.name, 'postgres', 'source-arn'));
        expect(names.includes(runbookParameterName(tier.name, 'postgres', 'proxy-endpoint'))).toBe(
          region.isPrimary && tier.postgres.connectionPooler,
        );
      } else {
        expect(parameter('postgres', 'cluster-id')).toBe(`mlp-${tier.name}-pg-${region.code}`);
        expect(parameter('postgres', 'global-cluster-id')).toBe(`mlp-${tier.name}-pg-global`);
        expect(parameter('postgres', 'role')).toBe(region.isPrimary ? 'primary' : 'replica');
        expect(names.includes(runbookParameterName(tier.name, 'postgres', 'proxy-endpoint'))).toBe(tier.postgres.connectionPooler);
      }
    }
  });
});

describe('-c backupVaultLock', () => {
  test('locks the vault in the mode asked for', () => {
    // Only the stacks the data stack needs, not the whole platform: this checks config -> stack wiring.
    const app = testApp();
    const { config } = resolvePlatformConfig({ tier: 'dev', account: TEST_ACCOUNT, backupVaultLock: 'governance' });
    const region = config.regions[0];
    if (!region) throw new Error('no primary');
    const network = new NetworkStack(app, { config, region });
    const data = new DataStack(app, { config, region, vpc: network.vpc });
    Template.fromStack(data).hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 365 },
    });
  });
});
