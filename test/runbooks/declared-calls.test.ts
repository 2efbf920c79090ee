import { expect, test } from 'vitest';
import { STEP_SPECS } from '../../runbooks/definitions/catalogue';
import { declaredActionsOf } from '../../runbooks/local/simulated-platform';
import { STEPS, type StepName } from '../../runbooks/steps';
import { heartbeatWriter } from '../../runbooks/steps/heartbeat';
import { surveyTier } from '../../runbooks/steps/watchdog';
import { HOME, HOME_DB, TARGET, TARGET_DB, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const schedule = { state: {}, execution: { id: 'schedule', startTime: '' } } as never;

/**
 * Least privilege, both ways: the rehearsal refuses a call its step did not declare (FakeAws), and
 * every call a step declares is made by at least one of these rehearsals. A grant no rehearsal uses
 * is either dead (remove it) or untested (add the scenario that needs it).
 */
test('every declared call of every step is made by some rehearsal', async () => {
  const used = new Set<string>();
  const collect = (w: World) => {
    for (const { caller, action } of w.aws.authorizations) used.add(`${caller} ${action}`);
  };

  // A planned switchover, then the failback home (its re-protection check and its planned child).
  const planned = new World();
  planned.heartbeats(20);
  expect((await planned.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  planned.reprotectHome();
  planned.heartbeats(20, 0, TARGET_DB);
  expect((await planned.run('mlp-tier1-failback', { formerPrimary: HOME }, {}, HOME)).status).toBe('SUCCEEDED');
  collect(planned);

  // A region loss, with a lock left by an execution that died.
  const unplanned = new World();
  unplanned.heartbeats(20, 1);
  unplanned.aws.unreachable.add(HOME);
  unplanned.db.unreachable.add(HOME);
  unplanned.aws.tables.get(`${TARGET}:mlp-tier1-dr-state`)?.set('lock', {
    pk: { S: 'lock' },
    owner: { S: `arn:aws:states:${TARGET}:111122223333:execution:${FAILOVER}:died` },
    epoch: { N: '1' },
    since: { S: 'x' },
  });
  expect((await unplanned.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  // The old primary comes back: its gate keeper closes its gate and fences its database.
  unplanned.aws.unreachable.delete(HOME);
  unplanned.db.unreachable.delete(HOME);
  unplanned.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.set('gate', {
    pk: { S: 'gate' },
    open: { BOOL: true },
    epoch: { N: '0' },
    updatedAt: { S: '2026-01-01T00:00:00.000Z' },
  });
  await STEPS.RefreshGate(schedule, unplanned.deps(HOME, 'RefreshGate'));
  await heartbeatWriter(async () => undefined)(schedule, unplanned.deps(TARGET, 'WriteHeartbeats'));
  // The watchdog of the new primary's successor (the old primary, back): it reads every lease and publishes.
  await STEPS.WatchPrimary(schedule, unplanned.deps(HOME, 'WatchPrimary'));
  // Its once-an-invocation survey: every region's write gate, its own Batch queues.
  await surveyTier(schedule, unplanned.deps(HOME, 'WatchPrimary'));
  // Route 53's write-gate check of the new primary.
  expect((await STEPS.ServeWriteGate({} as never, unplanned.deps(TARGET, 'ServeWriteGate'))).statusCode).toBe(200);
  collect(unplanned);

  // A region whose database is lost but whose control plane answers: the unplanned fence reaches its cache.
  const partial = new World();
  partial.heartbeats(20, 1);
  partial.db.unreachable.add(HOME);
  expect((await partial.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  collect(partial);

  // The daily preflight of the secondary: read-only, its readiness published.
  const preflight = new World();
  preflight.heartbeats(10);
  expect((await preflight.run(FAILOVER, { mode: 'preflight', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  collect(preflight);

  // An AZ failover in the primary.
  const az = new World();
  expect((await az.run('mlp-tier1-az-failover', {}, {}, HOME)).status).toBe('SUCCEEDED');
  collect(az);
  expect(HOME_DB).toBeDefined();

  const declared = [...(Object.keys(STEP_SPECS) as StepName[]), 'DatabaseAgent' as const].flatMap((fn) =>
    [...declaredActionsOf(fn, 'tier1')].map((action) => `${fn} ${action}`),
  );
  expect(declared.filter((pair) => !used.has(pair))).toEqual([]);
});
