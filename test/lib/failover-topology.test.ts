import { describe, expect, test } from 'vitest';
import { findSupportedRegion } from '../../lib/config';
import { type CfnTemplate, LayoutAssembly } from '../support/assembly';
import { TEST_ACCOUNT } from '../support/layouts';
import { engineOf, transitionMatrix } from '../support/transitions';

const { layouts } = transitionMatrix();
const code = (region: string) => findSupportedRegion(region)?.code as string;
type Resources = CfnTemplate['Resources'];

/** RDS instances of a data stack, by physical identifier. */
function databases(
  assembly: LayoutAssembly,
  tier: string,
  region: string,
): Record<string, { logicalId: string; resource: Resources[string] }> {
  const resources = assembly.resourcesOfType(`Mlp-${tier}-${code(region)}-data`, 'AWS::RDS::DBInstance');
  return Object.fromEntries(
    Object.entries(resources).map(([logicalId, resource]) => [
      resource.Properties?.DBInstanceIdentifier as string,
      { logicalId, resource },
    ]),
  );
}

const arnOf = (region: string, id: string) => `arn:aws:rds:${region}:${TEST_ACCOUNT}:db:${id}`;

/** The failover cycles of the matrix: base id, home region and target. */
const allCycles = layouts
  .filter((l) => l.id.includes('@failed-over-'))
  .map((failedOver) => {
    const base = failedOver.id.split('@')[0] as string;
    return {
      base,
      tier: failedOver.tier,
      regions: failedOver.regions as string[],
      target: failedOver.context?.primaryRegion as string,
      aurora: engineOf(failedOver) === 'aurora-postgresql-global',
    };
  });
const cycles = allCycles.filter((c) => !c.aurora);

describe.each(allCycles.filter((c) => c.aurora))('$base: Aurora managed failover to $target', ({ base, tier, regions, target }) => {
  const atHome = LayoutAssembly.of(`${base}@home`);
  const failedOver = LayoutAssembly.of(`${base}@failed-over-${code(target)}`);
  const rdsResources = (assembly: LayoutAssembly, region: string) =>
    Object.fromEntries(
      Object.entries(assembly.template(`Mlp-${tier}-${code(region)}-data`).Resources).filter(([, r]) => r.Type.startsWith('AWS::RDS::')),
    );

  test.each(regions)('no database resource of %s changes: Aurora moves the writer, no template names it', (region) => {
    const before = rdsResources(atHome, region);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    expect(rdsResources(failedOver, region)).toEqual(before);
  });

  test('only the backup selection follows the primary', () => {
    const selected = (assembly: LayoutAssembly) =>
      regions.filter((region) =>
        JSON.stringify(assembly.resourcesOfType(`Mlp-${tier}-${code(region)}-data`, 'AWS::Backup::BackupSelection')).includes(':cluster:'),
      );
    expect(selected(atHome)).toEqual([regions[0]]);
    expect(selected(failedOver)).toEqual([target]);
  });
});

describe.each(cycles)('$base: failover to $target and back', ({ base, tier, regions, target }) => {
  const home = regions[0] as string;
  const at = (state: string) => LayoutAssembly.of(`${base}@${state}-${code(target)}`);
  const atHome = LayoutAssembly.of(`${base}@home`);
  const targetId = `mlp-${tier}-pg-${code(target)}`;
  const homeId = `mlp-${tier}-pg-${code(home)}`;

  test("the promoted database's template does not change at all: the runbook promotes it through the API", () => {
    const before = databases(atHome, tier, target)[targetId];
    const after = databases(at('failed-over'), tier, target)[targetId];
    expect(after?.logicalId).toBe(before?.logicalId);
    expect(after?.resource).toEqual(before?.resource);
    expect(after?.resource.Properties).toMatchObject({ SourceDBInstanceIdentifier: arnOf(home, homeId), SourceRegion: home });
  });

  test('read scaling moves beside the promoted database; the old primary stays, protected and retained', () => {
    const failedOver = at('failed-over');
    const inTarget = Object.keys(databases(failedOver, tier, target));
    const inHome = databases(failedOver, tier, home);
    expect(inTarget.filter((id) => id !== targetId).every((id) => id.startsWith(`${targetId}-`))).toBe(true);
    expect(Object.keys(inHome)).toEqual([homeId]);
    expect(inHome[homeId]?.resource).toEqual(databases(atHome, tier, home)[homeId]?.resource);
  });

  test("re-protection builds a new replica of the new primary's ARN in its region, beside the retained old primary", () => {
    const reprotected = databases(at('reprotected'), tier, home);
    expect(reprotected[homeId]?.resource).toEqual(databases(atHome, tier, home)[homeId]?.resource);
    expect(reprotected[`${homeId}-g2`]?.resource.Properties).toMatchObject({
      SourceDBInstanceIdentifier: arnOf(target, targetId),
      SourceRegion: target,
      DeletionProtection: true,
    });
    expect(reprotected[`${homeId}-g2`]?.logicalId).toMatch(/^MetadataG2/);
    for (const other of regions.filter((r) => r !== home && r !== target)) {
      expect(databases(at('reprotected'), tier, other)[`mlp-${tier}-pg-${code(other)}-g2`]?.resource.Properties).toMatchObject({
        SourceDBInstanceIdentifier: arnOf(target, targetId),
      });
    }
  });

  test('failback leaves every instance of the re-protected layout as it was', () => {
    for (const region of regions) {
      const before = databases(at('reprotected'), tier, region);
      const after = databases(at('failed-back'), tier, region);
      for (const [id, { resource }] of Object.entries(before)) {
        if (resource.DeletionPolicy === 'Delete') continue; // in-region read replicas follow the primary
        expect(after[id]?.resource, id).toEqual(resource);
      }
    }
  });

  test('the failover chain of the write hosts starts at the primary', () => {
    const firstLink = (assembly: LayoutAssembly) =>
      Object.values(assembly.resourcesOfType(`Mlp-${tier}-global`, 'AWS::Route53::RecordSet'))
        .filter((r) => r.Properties?.Failover === 'PRIMARY' && String(r.Properties?.Name).startsWith('tracking.ml-platform'))
        .map((r) => r.Properties?.ResourceRecords);
    expect(firstLink(atHome)).toEqual([[`api.${code(home)}.ml-platform.example.com`]]);
    expect(firstLink(at('failed-over'))).toEqual([[`api.${code(target)}.ml-platform.example.com`]]);
    expect(firstLink(at('failed-back'))).toEqual([[`api.${code(home)}.ml-platform.example.com`]]);
  });
});

describe.each(layouts.filter((l) => engineOf(l) === 'rds-postgresql'))('layout $id', ({ id, tier, regions, context }) => {
  const assembly = LayoutAssembly.of(id);
  const dataStacks = assembly.stackNames.filter((name) => name.endsWith('-data'));
  const primary = context?.primaryRegion ?? (regions?.[0] as string);

  test('every cross-region replica keeps automated backups, so a promoted one has point-in-time recovery at once', () => {
    const replicas = dataStacks.flatMap((stack) =>
      Object.entries(assembly.resourcesOfType(stack, 'AWS::RDS::DBInstance')).filter(([, r]) => r.Properties?.SourceRegion !== undefined),
    );
    expect(replicas.length).toBeGreaterThan(0);
    for (const [logicalId, replica] of replicas) expect(replica.Properties?.BackupRetentionPeriod, logicalId).toBeGreaterThanOrEqual(1);
  });

  test('in-region read replicas and the pooler stand beside the primary only', () => {
    const withReadScaling = dataStacks.filter(
      (stack) =>
        Object.values(assembly.resourcesOfType(stack, 'AWS::RDS::DBInstance')).some((r) => r.DeletionPolicy === 'Delete') ||
        Object.keys(assembly.resourcesOfType(stack, 'AWS::RDS::DBProxy')).length > 0,
    );
    const expected = tier === 'dev' ? [] : [`Mlp-${tier}-${code(primary)}-data`];
    expect(withReadScaling).toEqual(expected);
  });

  test('the keyspace and the global datastore stay in the home region whatever the primary', () => {
    const owners = (type: string) => dataStacks.filter((stack) => Object.keys(assembly.resourcesOfType(stack, type)).length > 0);
    expect(owners('AWS::Cassandra::Keyspace')).toEqual([dataStacks[0]]);
    expect(owners('AWS::ElastiCache::GlobalReplicationGroup')).toEqual([dataStacks[0]]);
  });
});
