import { describe, expect, test } from 'vitest';
import { declaredActionsOf } from '../../runbooks/local/simulated-platform';
import { STEPS, type StepName } from '../../runbooks/steps';
import { heartbeatWriter } from '../../runbooks/steps/heartbeat';
import { HOME, TARGET, World } from './world';

/**
 * RegionFailover on an Aurora global database (the gated tier2 layout, Aurora by default): the synthesized
 * definition and the real steps, against the simulated RDS global database, under the strict
 * rehearsal (every call authorized against the synthesized roles).
 */
const FAILOVER = 'mlp-tier2-region-failover';
const HOME_CLUSTER = 'mlp-tier2-pg-use1';
const TARGET_CLUSTER = 'mlp-tier2-pg-usw2';
const GLOBAL = 'mlp-tier2-pg-global';
const aurora = () => new World({ layoutId: 'tier2' });
const writerOf = (w: World) => w.aws.globalClusters.get(GLOBAL)?.members.find((m) => m.isWriter)?.region;
const schedule = { state: {}, execution: { id: 'schedule', startTime: '' } } as never;
/** The home region lost: neither its AWS endpoints nor its database answer. */
function loseHome(w: World): void {
  w.aws.unreachable.add(HOME);
  w.db.unreachable.add(HOME);
}
/** The lost home region answers again, its gate as open as when it was cut off. */
function homeComesBack(w: World): void {
  w.aws.unreachable.delete(HOME);
  w.db.unreachable.delete(HOME);
  w.aws.tables.get(`${HOME}:mlp-tier2-dr-state`)?.set('gate', {
    pk: { S: 'gate' },
    open: { BOOL: true },
    epoch: { N: '0' },
    updatedAt: { S: '2026-01-01T00:00:00.000Z' },
  });
  w.aws.advance(60);
}
const calls = (w: World, command: string) => w.aws.calls.filter((c) => c.command === command && !c.error);

describe('RegionFailover on an Aurora global database', () => {
  test('planned: a managed switchover to the target cluster, after the fence; nothing lost; the gate opens on the new writer', async () => {
    const w = aurora();
    w.heartbeats(30);
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(calls(w, 'SwitchoverGlobalCluster').map((c) => c.input)).toEqual([
      { GlobalClusterIdentifier: GLOBAL, TargetDbClusterIdentifier: `arn:aws:rds:${TARGET}:111122223333:cluster:${TARGET_CLUSTER}` },
    ]);
    expect(calls(w, 'FailoverGlobalCluster')).toEqual([]);
    expect(calls(w, 'PromoteReadReplica')).toEqual([]);
    const order = w.order('SwitchoverGlobalCluster', 'PutMetricData');
    expect(order.indexOf(`PutMetricData@${HOME}`)).toBeLessThan(order.indexOf(`SwitchoverGlobalCluster@${TARGET}`));
    expect(order.lastIndexOf(`PutMetricData@${TARGET}`)).toBeGreaterThan(order.indexOf(`SwitchoverGlobalCluster@${TARGET}`));
    expect(writerOf(w)).toBe(TARGET);
    expect(w.gate(TARGET)).toBe(true);
    expect(w.gate(HOME)).toBe(false);
    const output = result.output as { report: { rpo: { lostWrites: number } } };
    expect(output.report.rpo.lostWrites).toBe(0);
    // The old writer is a connected secondary of the new one: read-only.
    expect(() => w.db.write(HOME_CLUSTER, 'platform', 999, w.now().toISOString())).toThrow(/read-only|not permitted/);
  });

  test('unplanned, the home region lost: FailoverGlobalCluster with AllowDataLoss from the target region; the old writer rejoins as a secondary once back', async () => {
    const w = aurora();
    w.heartbeats(30, 1);
    loseHome(w);
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(calls(w, 'FailoverGlobalCluster').map((c) => [c.region, c.input])).toEqual([
      [
        TARGET,
        {
          GlobalClusterIdentifier: GLOBAL,
          TargetDbClusterIdentifier: `arn:aws:rds:${TARGET}:111122223333:cluster:${TARGET_CLUSTER}`,
          AllowDataLoss: true,
        },
      ],
    ]);
    expect(writerOf(w)).toBe(TARGET);
    expect(w.gate(TARGET)).toBe(true);
    // Home comes back with its gate open as it was cut off: Aurora rejoins its cluster as a secondary, and its gate
    // keeper, superseded, closes the gate with no fence to make (the cluster is read-only now).
    homeComesBack(w);
    const refreshed = (await STEPS.RefreshGate(schedule, w.deps(HOME, 'RefreshGate'))) as { open: boolean; fenced?: string };
    expect(refreshed.open).toBe(false);
    expect(refreshed.fenced).toMatch(/^mlp-tier2-pg-use1 is a secondary of mlp-tier2-pg-global again \(read-only\)/);
    expect(
      w.aws.globalClusters
        .get(GLOBAL)
        ?.members.map((m) => [m.region, m.isWriter])
        .sort(),
    ).toEqual([
      [HOME, false],
      [TARGET, true],
    ]);
    expect(w.aws.clusterSnapshots.map((s) => s.id)).toEqual([expect.stringMatching(/^rds:unplanned-global-failover-mlp-tier2-pg-use1-/)]);
  });

  test('lag beyond the RPO is refused with nothing changed, and goes on with an override', async () => {
    const w = aurora();
    w.heartbeats(200, 90);
    loseHome(w);
    const refused = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(refused.status).toBe('FAILED');
    expect(refused.cause).toMatch(/exceeds the RPO objective/);
    expect(calls(w, 'FailoverGlobalCluster')).toEqual([]);
    const accepted = await w.run(FAILOVER, {
      mode: 'unplanned',
      targetRegion: TARGET,
      override: { reason: 'home region lost for hours; accept the loss' },
    });
    expect(accepted.status, accepted.cause).toBe('SUCCEEDED');
    expect(writerOf(w)).toBe(TARGET);
  });

  test('the scheduled functions find the region’s cluster: the heartbeat writer writes through the writer cluster', async () => {
    const w = aurora();
    const written = await heartbeatWriter(async () => undefined)(schedule, w.deps(HOME, 'WriteHeartbeats'));
    expect(written).toEqual({ written: 55 });
  });
});

describe('Failback on an Aurora global database', () => {
  test('waits until Aurora has rebuilt the rejoined former primary, then switches the writer home (a switchover, planned)', async () => {
    const w = aurora();
    w.heartbeats(30, 1);
    loseHome(w);
    expect((await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
    homeComesBack(w);
    await STEPS.RefreshGate(schedule, w.deps(HOME, 'RefreshGate'));
    // Rejoined, but its volume is being rebuilt: not yet a copy to switch over to.
    const early = (await STEPS.CheckReprotection(
      { state: { input: { formerPrimary: HOME } }, execution: { id: 'x', startTime: '' } } as never,
      w.deps(HOME, 'CheckReprotection'),
    ).catch((error: Error) => error)) as Error;
    expect(early.message).toMatch(/rebuilding the volume of mlp-tier2-pg-use1/);
    w.aws.advance(1800);
    w.heartbeats(20, 0, TARGET_CLUSTER);
    const result = await w.run('mlp-tier2-failback', { formerPrimary: HOME }, {}, HOME);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(writerOf(w)).toBe(HOME);
    expect(calls(w, 'SwitchoverGlobalCluster').map((c) => c.region)).toEqual([HOME]);
    expect(w.gate(HOME)).toBe(true);
    expect(w.gate(TARGET)).toBe(false);
  });
});

describe('AzFailover on an Aurora global database', () => {
  test('fails the primary cluster over to the other instance of its writer pair, in another zone', async () => {
    const w = aurora();
    const result = await w.run('mlp-tier2-az-failover', {}, {}, HOME);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(calls(w, 'FailoverDBCluster').map((c) => c.input)).toEqual([
      { DBClusterIdentifier: HOME_CLUSTER, TargetDBInstanceIdentifier: `${HOME_CLUSTER}-2` },
    ]);
    expect(w.aws.dbClusters.get(`${HOME}:${HOME_CLUSTER}`)?.instances?.find((i) => i.writer)?.id).toBe(`${HOME_CLUSTER}-2`);
  });

  test('is refused in a secondary region: its cluster has no writer to fail over from', async () => {
    const w = aurora();
    const result = await w.run('mlp-tier2-az-failover', {}, {}, TARGET);
    expect(result.status).toBe('FAILED');
    expect(result.cause).toMatch(/no writer here: it is a secondary of the global database/);
    expect(calls(w, 'FailoverDBCluster')).toEqual([]);
  });
});

/**
 * Least privilege both ways on Aurora, for the functions this engine drives so far: RegionFailover's
 * Failback's and AzFailover's steps, the scheduled gate keeper and heartbeat writer, and the
 * database agent.
 */
test('every Aurora call the region failover’s functions declare is made by some rehearsal', async () => {
  const used = new Set<string>();
  const collect = (w: World) => {
    for (const { caller, action } of w.aws.authorizations) used.add(`${caller} ${action}`);
  };
  const planned = aurora();
  planned.heartbeats(20);
  expect((await planned.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  collect(planned);
  const unplanned = aurora();
  unplanned.heartbeats(20, 1);
  loseHome(unplanned);
  expect((await unplanned.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  homeComesBack(unplanned);
  await STEPS.RefreshGate(schedule, unplanned.deps(HOME, 'RefreshGate'));
  await heartbeatWriter(async () => undefined)(schedule, unplanned.deps(TARGET, 'WriteHeartbeats'));
  // The failback home, once Aurora has rebuilt the former primary's volume.
  unplanned.aws.advance(1800);
  unplanned.heartbeats(20, 0, TARGET_CLUSTER);
  expect((await unplanned.run('mlp-tier2-failback', { formerPrimary: HOME }, {}, HOME)).status).toBe('SUCCEEDED');
  collect(unplanned);
  const az = aurora();
  expect((await az.run('mlp-tier2-az-failover', {}, {}, HOME)).status).toBe('SUCCEEDED');
  collect(az);

  const tasks = Object.values(planned.machines[TARGET]?.[FAILOVER]?.tasks ?? {});
  const regionFailover = [...new Set(tasks.flatMap((t) => (t.step ? [t.step] : [])))];
  expect(regionFailover).toContain('PromotePostgres');
  const stepsOf = (machine: string) =>
    Object.values(planned.machines[HOME]?.[machine]?.tasks ?? {}).flatMap((t) => (t.step ? [t.step] : []));
  const functions = [
    ...regionFailover,
    ...stepsOf('mlp-tier2-failback'),
    ...stepsOf('mlp-tier2-az-failover'),
    'RefreshGate' as StepName,
    'WriteHeartbeats' as StepName,
    'DatabaseAgent' as const,
  ];
  const declared = functions.flatMap((fn) =>
    [...declaredActionsOf(fn, 'tier2', 'aurora-postgresql-global')].filter((a) => a.startsWith('rds:')).map((a) => `${fn} ${a}`),
  );
  expect(declared.length).toBeGreaterThan(0);
  expect(declared.filter((pair) => !used.has(pair))).toEqual([]);
  // No RDS instance call is granted to them on Aurora.
  expect(declared.filter((pair) => /DBInstances|PromoteReadReplica|RebootDBInstance/.test(pair))).toEqual([]);
});
