import { describe, expect, test } from 'vitest';
import { PRIMARY_WATCH, WRITE_LEASE } from '../../runbooks/definitions/catalogue';
import { awaitAutomaticStart } from '../../runbooks/local/automatic-start';
import { STEPS } from '../../runbooks/steps';
import { automaticStartRefusal } from '../../runbooks/steps/region-failover/preflight';
import { HOME, STATE_TABLE, TARGET, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const schedule = { state: {}, execution: { id: 'schedule', startTime: '' } } as never;

/** tier1 as deployed: the primary's gate open and its lease renewed by its gate keeper's pass. */
async function deployed(): Promise<World> {
  const world = new World();
  world.heartbeats(30, 1);
  world.aws.tables.get(`${HOME}:${STATE_TABLE}`)?.set('gate', {
    pk: { S: 'gate' },
    open: { BOOL: true },
    epoch: { N: '0' },
    updatedAt: { S: world.now().toISOString() },
  });
  await keeperPass(world);
  return world;
}

const keeperPass = (world: World) => STEPS.RefreshGate(schedule, world.deps(HOME, 'RefreshGate'));

describe('automatic start of an unplanned failover (tier1 starts failovers automatically)', () => {
  test('the primary lost: the successor’s watchdog, its alarms and the rule start RegionFailover there, which succeeds', async () => {
    const world = await deployed();
    const fault = world.now().getTime();
    world.aws.unreachable.add(HOME);
    world.db.unreachable.add(HOME);
    const started = await awaitAutomaticStart(world, { live: (region) => region !== HOME, maxSeconds: 300 });
    expect(started).toMatchObject({
      region: TARGET,
      ruleName: 'mlp-tier1-usw2-automatic-failover',
      stateMachineArn: `arn:aws:states:${TARGET}:111122223333:stateMachine:${FAILOVER}`,
      input: { mode: 'unplanned', targetRegion: TARGET, startedBy: 'automatic' },
    });
    // Not before the lease could be stale, and within two renewals, a watchdog pass and an alarm period of it.
    const seconds = ((started?.alarmedAt.getTime() ?? 0) - fault) / 1000;
    expect(seconds).toBeGreaterThan(PRIMARY_WATCH.staleLeaseSeconds);
    expect(seconds).toBeLessThanOrEqual(PRIMARY_WATCH.staleLeaseSeconds + 2 * PRIMARY_WATCH.intervalSeconds);
    const result = await world.run(FAILOVER, started?.input);
    expect(result.status, result.cause).toBe('SUCCEEDED');
  });

  test('a primary that keeps renewing its lease never triggers it, and only the successor publishes anything but 0', async () => {
    const world = await deployed();
    let next = world.now().getTime() + WRITE_LEASE.renewalSeconds * 1000;
    const started = await awaitAutomaticStart(world, {
      live: () => true,
      between: async () => {
        if (world.now().getTime() < next) return;
        next += WRITE_LEASE.renewalSeconds * 1000;
        await keeperPass(world);
      },
      maxSeconds: 180,
    });
    expect(started).toBeUndefined();
    const published = world.aws.metrics.filter((m) => m.namespace === 'MLP/DR' && m.name?.startsWith('Primary'));
    expect(new Set(published.map((m) => m.region))).toEqual(new Set([HOME, TARGET]));
    expect(published.filter((m) => m.value !== 0)).toEqual([]);
  });

  test('the primary’s API lost but its lease still renewed (a partial outage): the lease alarm alone does not start anything', async () => {
    const world = await deployed();
    // The write-gate endpoint does not answer (its load balancer is down), the gate keeper still renews.
    const deps = world.deps(TARGET, 'WatchPrimary');
    const blind = { ...deps, probe: async () => undefined };
    for (let i = 0; i < 6; i++) {
      world.aws.advance(PRIMARY_WATCH.intervalSeconds);
      if (i % 2 === 1) await keeperPass(world);
      const view = await STEPS.WatchPrimary(schedule, blind);
      expect(view).toMatchObject({ holder: HOME, successor: TARGET, stale: false, gateAnswers: false });
    }
    expect(await automaticStartRefusal(blind)).toMatch(/us-east-1's lease is stale in 0 of 3 state tables, not a majority/);
  });
});

describe('Preflight refuses an automatic start whose evidence no longer holds, and changes nothing', () => {
  test('in a tier that does not start failovers automatically', async () => {
    const world = await deployed();
    const deps = world.deps(TARGET, 'Preflight');
    expect(await automaticStartRefusal({ ...deps, env: { ...deps.env, automaticStart: false } })).toMatch(
      /the tier does not start failovers automatically/,
    );
  });

  test('when the primary renewed its lease since the alarm: the execution fails at Preflight, before any lock or promotion', async () => {
    const world = await deployed();
    const before = world.aws.calls.length;
    const result = await world.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET, startedBy: 'automatic' });
    expect(result.status).toBe('FAILED');
    expect(result.cause).toMatch(
      /automatic start refused: us-east-1's lease is stale in 0 of 3 state tables, not a majority; nothing was changed/,
    );
    expect(
      world.aws.calls
        .slice(before)
        .filter((c) => ['PutItem', 'PromoteReadReplica', 'FailoverGlobalCluster'].includes(c.command) && !c.error),
    ).toEqual([]);
  });

  test.each([
    [{ mode: 'planned', targetRegion: TARGET, startedBy: 'automatic' }, /an automatic start is an unplanned failover without an override/],
    [
      { mode: 'unplanned', targetRegion: TARGET, startedBy: 'automatic', override: { reason: 'accept the loss of data' } },
      /an automatic start is an unplanned failover without an override/,
    ],
    [{ mode: 'unplanned', targetRegion: TARGET, startedBy: 'robot' }, /startedBy must be operator or automatic, got "robot"/],
  ])('bad input %j is refused', async (input, message) => {
    const world = await deployed();
    const result = await world.run(FAILOVER, input);
    expect(result.status).toBe('FAILED');
    expect(result.cause).toMatch(message);
  });
});
