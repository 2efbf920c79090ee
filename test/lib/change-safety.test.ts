import { describe, expect, test } from 'vitest';
import { type ChangeFinding, checkChangeSafety, formatChangeSafetyReport, type StackTemplates } from '../../lib/change-safety';
import { LayoutAssembly } from '../support/assembly';
import { transitionMatrix } from '../support/transitions';

const REPLICA = {
  Type: 'AWS::RDS::DBInstance',
  Properties: {
    DBInstanceIdentifier: 'mlp-tier1-pg-usw2',
    SourceDBInstanceIdentifier: 'arn:aws:rds:us-east-1:111122223333:db:mlp-tier1-pg-use1',
    SourceRegion: 'us-east-1',
    DBInstanceClass: 'db.m7g.2xlarge',
    DeletionProtection: true,
  },
  DeletionPolicy: 'Retain',
  UpdateReplacePolicy: 'Retain',
};

function stack(resources: Record<string, unknown>): StackTemplates {
  return { 'Mlp-tier1-usw2-data': { Resources: resources as never } };
}

const summary = (findings: readonly ChangeFinding[]) => findings.map((f) => [f.kind, f.logicalId, f.error, f.properties]);

describe('change-safety rules', () => {
  test('removing SourceDBInstanceIdentifier alone is a promotion in place, allowed', () => {
    const { SourceDBInstanceIdentifier: _removed, ...promoted } = REPLICA.Properties;
    const report = checkChangeSafety(stack({ Db: REPLICA }), stack({ Db: { ...REPLICA, Properties: promoted } }));
    expect(summary(report.findings)).toEqual([['promotion', 'Db', false, ['SourceDBInstanceIdentifier']]]);
    expect(report.errors).toEqual([]);
  });

  test('a promotion that also changes SourceRegion is a replacement, an error naming both properties', () => {
    const { SourceDBInstanceIdentifier: _removed, ...promoted } = REPLICA.Properties;
    const report = checkChangeSafety(
      stack({ Db: REPLICA }),
      stack({ Db: { ...REPLICA, Properties: { ...promoted, SourceRegion: 'eu-west-1' } } }),
    );
    expect(summary(report.errors)).toEqual([['replacement', 'Db', true, ['SourceDBInstanceIdentifier', 'SourceRegion']]]);
    expect(report.errors[0]?.message).toBe(
      'Mlp-tier1-usw2-data Db (AWS::RDS::DBInstance): would be replaced, losing its data, because SourceDBInstanceIdentifier, SourceRegion changed',
    );
  });

  test('pointing a replica at another source replaces it', () => {
    const repointed = {
      ...REPLICA,
      Properties: { ...REPLICA.Properties, SourceDBInstanceIdentifier: 'arn:aws:rds:us-east-1:111122223333:db:other' },
    };
    expect(summary(checkChangeSafety(stack({ Db: REPLICA }), stack({ Db: repointed })).errors)).toEqual([
      ['replacement', 'Db', true, ['SourceDBInstanceIdentifier']],
    ]);
  });

  test('renaming a stateful construct (a new logical id) orphans the old resource and creates a second primary', () => {
    const primary = { ...REPLICA, Properties: { DBInstanceIdentifier: 'mlp-tier1-pg-use1', Engine: 'postgres', DeletionProtection: true } };
    const report = checkChangeSafety(
      stack({ MetadataInstance: primary, Other: REPLICA }),
      stack({ DatabaseInstance: primary, Other: REPLICA }),
    );
    expect(summary(report.errors)).toEqual([
      ['duplicate-primary', 'DatabaseInstance', true, []],
      ['orphaning', 'MetadataInstance', true, []],
    ]);
    expect(formatChangeSafetyReport(report)).toContain(
      'ERROR orphaning            Mlp-tier1-usw2-data MetadataInstance (AWS::RDS::DBInstance)',
    );
  });

  test('a retained log group with a retention may leave; one that keeps events forever may not', () => {
    const logs = (retention?: number) => ({
      Type: 'AWS::Logs::LogGroup',
      Properties: retention === undefined ? {} : { RetentionInDays: retention },
      DeletionPolicy: 'Retain',
    });
    expect(summary(checkChangeSafety(stack({ Logs: logs(365) }), stack({})).findings)).toEqual([
      ['log-group-left-to-expire', 'Logs', false, []],
    ]);
    expect(summary(checkChangeSafety(stack({ Logs: logs() }), stack({})).errors)).toEqual([['orphaning', 'Logs', true, []]]);
  });

  test('removing a resource that is not retained destroys it', () => {
    const bucket = { Type: 'AWS::S3::Bucket', Properties: {}, DeletionPolicy: 'Delete' };
    expect(summary(checkChangeSafety(stack({ Bucket: bucket }), stack({})).errors)).toEqual([['destruction', 'Bucket', true, []]]);
  });

  test('a replicated keyspace whose replication specification changes is replaced', () => {
    const keyspace = (regions: string[]) => ({
      Type: 'AWS::Cassandra::Keyspace',
      Properties: { KeyspaceName: 'k', ReplicationSpecification: { ReplicationStrategy: 'MULTI_REGION', RegionList: regions } },
      DeletionPolicy: 'Retain',
    });
    const report = checkChangeSafety(
      stack({ Ks: keyspace(['us-east-1', 'us-west-2']) }),
      stack({ Ks: keyspace(['us-east-1', 'us-west-2', 'eu-west-1']) }),
    );
    expect(summary(report.errors)).toEqual([['replacement', 'Ks', true, ['ReplicationSpecification']]]);
  });

  test('an in-region read replica (its source is in the same template) may go; a new one may come', () => {
    const inRegion = {
      Type: 'AWS::RDS::DBInstance',
      Properties: { SourceDBInstanceIdentifier: { 'Fn::Join': ['', ['arn:aws:rds:us-west-2:111122223333:db:', { Ref: 'Db' }]] } },
      DeletionPolicy: 'Delete',
    };
    const removed = checkChangeSafety(stack({ Db: REPLICA, ReadReplica: inRegion }), stack({ Db: REPLICA }));
    expect(summary(removed.findings)).toEqual([['derived-copy-removed', 'ReadReplica', false, []]]);
    expect(checkChangeSafety(stack({ Db: REPLICA }), stack({ Db: REPLICA, ReadReplica: inRegion })).findings).toEqual([]);
  });

  test('resources of a retired database generation may leave, and only those', () => {
    const tagged = (id: string) => ({ ...REPLICA, Properties: { ...REPLICA.Properties, Tags: [{ Key: 'mlp:database', Value: id }] } });
    const before = stack({ Old: tagged('mlp-tier1-pg-usw2'), Current: tagged('mlp-tier1-pg-usw2-g2') });
    expect(
      summary(
        checkChangeSafety(before, stack({ Current: tagged('mlp-tier1-pg-usw2-g2') }), { retiredDatabases: ['mlp-tier1-pg-usw2'] }).findings,
      ),
    ).toEqual([['retired', 'Old', false, []]]);
    expect(
      summary(checkChangeSafety(before, stack({ Old: tagged('mlp-tier1-pg-usw2') }), { retiredDatabases: ['mlp-tier1-pg-usw2'] }).errors),
    ).toEqual([['orphaning', 'Current', true, []]]);
  });

  describe('an Aurora global database', () => {
    const GLOBAL = {
      Type: 'AWS::RDS::GlobalCluster',
      Properties: {
        GlobalClusterIdentifier: 'mlp-tier2-pg-global',
        Engine: 'aurora-postgresql',
        EngineVersion: '17.9',
        StorageEncrypted: true,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    };
    const CLUSTER = {
      Type: 'AWS::RDS::DBCluster',
      Properties: { DBClusterIdentifier: 'mlp-tier2-pg-usw2', GlobalClusterIdentifier: 'mlp-tier2-pg-global', Engine: 'aurora-postgresql' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    };
    const reader = (id: string) => ({
      Type: 'AWS::RDS::DBInstance',
      Properties: { DBInstanceIdentifier: id, DBClusterIdentifier: { Ref: 'Cluster' }, Engine: 'aurora-postgresql' },
    });

    test('a cluster that leaves its global database, or moves to another, is refused', () => {
      const { GlobalClusterIdentifier: _, ...detached } = CLUSTER.Properties;
      expect(
        summary(checkChangeSafety(stack({ Cluster: CLUSTER }), stack({ Cluster: { ...CLUSTER, Properties: detached } })).errors),
      ).toEqual([['detached-from-global', 'Cluster', true, ['GlobalClusterIdentifier']]]);
      const moved = { ...CLUSTER, Properties: { ...CLUSTER.Properties, GlobalClusterIdentifier: 'other' } };
      expect(summary(checkChangeSafety(stack({ Cluster: CLUSTER }), stack({ Cluster: moved })).errors)).toEqual([
        ['detached-from-global', 'Cluster', true, ['GlobalClusterIdentifier']],
      ]);
    });

    test('replacing or removing the global database is refused', () => {
      const replaced = { ...GLOBAL, Properties: { ...GLOBAL.Properties, GlobalClusterIdentifier: 'mlp-tier2-pg-global2' } };
      expect(summary(checkChangeSafety(stack({ Global: GLOBAL }), stack({ Global: replaced })).errors)).toEqual([
        ['replacement', 'Global', true, ['GlobalClusterIdentifier']],
      ]);
      expect(summary(checkChangeSafety(stack({ Global: GLOBAL }), stack({})).errors)).toEqual([['orphaning', 'Global', true, []]]);
    });

    test('an Aurora instance may come or go: it holds no data, the cluster volume does', () => {
      const before = stack({ Cluster: CLUSTER, Writer: reader('w') });
      expect(checkChangeSafety(before, stack({ Cluster: CLUSTER, Writer: reader('w'), Reader: reader('r') })).findings).toEqual([]);
      expect(summary(checkChangeSafety(stack({ Cluster: CLUSTER, Writer: reader('w'), Reader: reader('r') }), before).findings)).toEqual([
        ['derived-copy-removed', 'Reader', false, []],
      ]);
    });
  });

  test('a stack left out of the app is reported, not an error; stateless changes are not reported', () => {
    const topic = { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'a' } };
    const report = checkChangeSafety(
      { ...stack({ Topic: topic }), 'Mlp-tier1-euw1-data': { Resources: {} } },
      stack({ Topic: { ...topic, Properties: { DisplayName: 'b' } } }),
    );
    expect(summary(report.findings)).toEqual([['stack-left-out', '*', false, []]]);
  });
});

const { transitions } = transitionMatrix();

describe.each(transitions)('transition $id', ({ from, to }) => {
  const before = LayoutAssembly.of(from.id);
  const after = LayoutAssembly.of(to.id);
  const templates = (assembly: LayoutAssembly) => Object.fromEntries(assembly.stackNames.map((name) => [name, assembly.template(name)]));

  test('replaces, destroys or orphans no stateful resource and creates no second primary', () => {
    const retiredDatabases = to.context?.retiredDatabases?.split(',') ?? [];
    const report = checkChangeSafety(templates(before), templates(after), { retiredDatabases });
    expect(report.errors.map((e) => e.message)).toEqual([]);
  });
});

describe('the check fails on a destructive change to a real layout', () => {
  test('renaming the database construct of tier1 (on RDS) names the stack and the logical id', () => {
    const assembly = LayoutAssembly.of('tier1-rds@home');
    const before = Object.fromEntries(assembly.stackNames.map((name) => [name, assembly.template(name)]));
    const data = before['Mlp-tier1-use1-data'] as { Resources: Record<string, unknown> };
    const [logicalId, database] = Object.entries(data.Resources).find(([id]) => id.startsWith('MetadataInstance')) as [string, unknown];
    const { [logicalId]: _renamed, ...rest } = data.Resources;
    const after = {
      ...before,
      'Mlp-tier1-use1-data': { ...data, Resources: { ...rest, DatabaseInstanceRenamed: database } },
    } as StackTemplates;
    const report = checkChangeSafety(before, after);
    expect(report.errors.map((e) => [e.stack, e.logicalId, e.kind])).toEqual([
      ['Mlp-tier1-use1-data', 'DatabaseInstanceRenamed', 'duplicate-primary'],
      ['Mlp-tier1-use1-data', logicalId, 'orphaning'],
    ]);
  });

  test('switching a deployed tier to the other database engine is refused: it would orphan the database and start an empty one', () => {
    const templates = (id: string) => {
      const assembly = LayoutAssembly.of(id);
      return Object.fromEntries(assembly.stackNames.map((name) => [name, assembly.template(name)]));
    };
    const kinds = (report: ReturnType<typeof checkChangeSafety>) => [...new Set(report.errors.map((e) => `${e.kind} ${e.type}`))].sort();
    // tier1 as deployed on RDS PostgreSQL, then synthesized on its preset's Aurora global database (and back).
    expect(kinds(checkChangeSafety(templates('tier1-rds@home'), templates('tier1@home')))).toContain('orphaning AWS::RDS::DBInstance');
    expect(kinds(checkChangeSafety(templates('tier1@home'), templates('tier1-rds@home')))).toEqual(
      expect.arrayContaining(['orphaning AWS::RDS::DBCluster', 'orphaning AWS::RDS::GlobalCluster']),
    );
  });
});
