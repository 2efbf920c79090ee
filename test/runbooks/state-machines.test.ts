import { describe, expect, test } from 'vitest';
import { RUNBOOK_OUTLINES } from '../../runbooks/definitions/documents';
import { STEPS } from '../../runbooks/steps';
import { HOME, HOME_DB, TARGET, TARGET_DB, WITNESS, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const world = () => new World();
/** Desired size of the target's general node group (6 as synthesized for tier1; a failover grows it by half). */
const generalNodes = (w: World) =>
  [...w.aws.nodegroups.entries()].find(([key]) => key.startsWith(`${TARGET}:mlp-tier1-usw2:`) && key.includes('NodegroupGeneral'))?.[1]
    .desired;

describe('RegionFailover through aws-local-stepfunctions, the synthesized definition and the real steps', () => {
  test('planned: fences the old primary before promoting, opens the gate only after every promotion, loses nothing', async () => {
    // GIVEN
    const w = world();
    w.heartbeats(30);
    // WHEN
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    // THEN
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const order = w.order('PutItem', 'PromoteReadReplica', 'FailoverGlobalReplicationGroup', 'UpdateJobQueue', 'PutMetricData');
    const fence = order.indexOf(`PutMetricData@${HOME}`);
    const promote = order.indexOf(`PromoteReadReplica@${TARGET}`);
    const cache = order.indexOf(`FailoverGlobalReplicationGroup@${TARGET}`);
    const open = order.lastIndexOf(`PutMetricData@${TARGET}`);
    expect(fence).toBeGreaterThanOrEqual(0);
    expect(fence).toBeLessThan(promote);
    expect(fence).toBeLessThan(cache);
    expect(open).toBeGreaterThan(promote);
    expect(open).toBeGreaterThan(cache);
    expect(w.gate(TARGET)).toBe(true);
    expect(w.gate(HOME)).toBe(false);
    expect(w.aws.instances.get(`${TARGET}:${TARGET_DB}`)?.source).toBeUndefined();
    expect(w.aws.globalDatastores.get(w.globalDatastoreId)?.members.find((m) => m.region === TARGET)?.role).toBe('PRIMARY');
    expect(w.aws.queues.get(`${HOME}:mlp-tier1-priority-high`)).toBe('DISABLED');
    expect(w.aws.queues.get(`${TARGET}:mlp-tier1-priority-high`)).toBe('ENABLED');
    expect(generalNodes(w)).toBe(9);
    // The old primary took no write after the fence.
    expect(() => w.db.write(HOME_DB, 'platform', 999, w.now().toISOString())).toThrow(/not permitted to log in/);
    const output = result.output as {
      verify: { rpo: { lostWrites: number } };
      report: { rpo: { lostWrites: number }; nextDeploy: string };
    };
    expect(output.verify.rpo.lostWrites).toBe(0);
    expect(output.report.nextDeploy).toContain('-c primaryRegion=us-west-2');
    expect([...w.aws.objects.keys()].filter((k) => k.includes('dr-reports/mlp-tier1-region-failover/'))).toHaveLength(2);
    // The lock is released for the next execution.
    expect(w.aws.tables.get(`${TARGET}:mlp-tier1-dr-state`)?.has('lock')).toBe(false);
  });

  test('unplanned: completes while every API and database of the old region fails, and records what it could not fence', async () => {
    const w = world();
    w.heartbeats(30, 2);
    w.aws.unreachable.add(HOME);
    w.db.unreachable.add(HOME);
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const output = result.output as {
      fence: { fenced: boolean; attempts: { ok: boolean; region: string }[] };
      verify: { rpo: { lostSeconds: number } };
    };
    expect(output.fence.fenced).toBe(false);
    expect(output.fence.attempts.every((a) => !a.ok && a.region === HOME)).toBe(true);
    expect(w.gate(TARGET)).toBe(true);
    // The cache was detached from the datastore, not failed over (its primary is gone).
    expect(w.aws.globalDatastores.get(w.globalDatastoreId)?.members.map((m) => m.region)).toEqual([HOME]);
    expect(output.verify.rpo.lostSeconds).toBeGreaterThan(0);
    // Nothing reached us-east-1 successfully, and no Route 53 control-plane call was made anywhere.
    expect(w.aws.calls.filter((c) => c.region === HOME && !c.error)).toEqual([]);
    expect(w.aws.calls.filter((c) => c.service === 'route53')).toEqual([]);
  });

  test('unplanned with lag beyond the RPO is refused without an override, and proceeds with one', async () => {
    const w = world();
    w.heartbeats(200, 90);
    w.aws.unreachable.add(HOME);
    w.db.unreachable.add(HOME);
    const refused = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toBe('PreflightFailed');
    expect(w.order('PromoteReadReplica')).toEqual([]);
    const accepted = await w.run(FAILOVER, {
      mode: 'unplanned',
      targetRegion: TARGET,
      override: { reason: 'region lost; accepting 90 s of data loss' },
    });
    expect(accepted.status, accepted.cause).toBe('SUCCEEDED');
  });

  test('a second execution started while one runs is refused and changes nothing', async () => {
    const w = world();
    w.heartbeats(10);
    const holder = 'arn:aws:states:us-west-2:111122223333:execution:mlp-tier1-region-failover:first';
    w.aws.runningExecutions.add(holder);
    w.aws.tables.set(
      `${TARGET}:mlp-tier1-dr-state`,
      new Map([['lock', { pk: { S: 'lock' }, owner: { S: holder }, epoch: { N: '1' }, since: { S: 'x' } }]]),
    );
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('LockHeld');
    expect(w.order('PromoteReadReplica', 'FailoverGlobalReplicationGroup', 'PutMetricData')).toEqual([]);
  });

  test('a promotion that never finishes aborts with the gate closed, and alerts', async () => {
    const w = world();
    w.heartbeats(10);
    w.aws.stuckPromotions.add(TARGET_DB);
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(result.status).toBe('FAILED');
    expect(w.gate(TARGET)).not.toBe(true);
    expect(w.aws.metrics.filter((m) => m.region === TARGET && m.value === 1)).toEqual([]);
    expect(w.aws.notifications.some((n) => n.subject?.includes('failed'))).toBe(true);
    // The budget is the state machine's: 30 retries 30 s apart after a 30 s wait.
    expect(w.aws.clock).toBeGreaterThanOrEqual(30 * 30);
  });

  test('throttled AWS calls are retried with backoff and the failover completes', async () => {
    const w = world();
    w.heartbeats(10);
    w.aws.throttle('DescribeDBInstances', 3);
    w.aws.throttle('PromoteReadReplica', 2);
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.calls.filter((c) => c.error === 'ThrottlingException')).toHaveLength(5);
  });

  /** What the preflight's report published, as (metric, region, value). */
  const readiness = (w: World) =>
    w.aws.calls
      .filter((c) => c.command === 'PutMetricData' && !c.error)
      .flatMap((c) => {
        const input = c.input as {
          Namespace: string;
          MetricData: { MetricName: string; Value: number; Dimensions: { Value: string }[] }[];
        };
        return input.MetricData.map((d) => [c.caller, input.Namespace, d.MetricName, d.Dimensions.map((x) => x.Value).join('/'), d.Value]);
      });

  test('preflight mode reads, reports go or no-go, and changes nothing but its own readiness metric', async () => {
    const w = world();
    w.heartbeats(10);
    const result = await w.run(FAILOVER, { mode: 'preflight', targetRegion: TARGET });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { plan: { go: boolean } }).plan.go).toBe(true);
    const changes = ['PromoteReadReplica', 'PutItem', 'UpdateItem', 'FailoverGlobalReplicationGroup', 'UpdateJobQueue'];
    expect(w.order(...changes)).toEqual([]);
    expect(readiness(w)).toEqual([['Report', 'MLP/DR', 'PreflightReady', `tier1/${TARGET}`, 1]]);
  });

  test('a preflight that finds the target not ready publishes 0, which its region’s not-ready alarm reads', async () => {
    const w = world(); // no heartbeat written: the lag cannot be told
    const result = await w.run(FAILOVER, { mode: 'preflight', targetRegion: TARGET });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { plan: { go: boolean; reasons: string[] } }).plan).toMatchObject({
      go: false,
      reasons: [expect.stringMatching(/^no heartbeat could be read on/)],
    });
    expect(readiness(w)).toEqual([['Report', 'MLP/DR', 'PreflightReady', `tier1/${TARGET}`, 0]]);
  });

  test.each([
    ['mode', { mode: 'sideways', targetRegion: TARGET }, 'mode must be one of preflight, planned, unplanned, got "sideways"'],
    ['region', { mode: 'planned', targetRegion: 'eu-west-1' }, 'targetRegion must be one of us-east-1, us-west-2, got "eu-west-1"'],
    [
      'running region',
      { mode: 'planned', targetRegion: HOME },
      'start the runbook in the region that becomes the primary (us-east-1), not in us-west-2',
    ],
    ['override', { mode: 'unplanned', targetRegion: TARGET, override: { reason: 'ok' } }, 'override must be { "reason":'],
  ])('bad input (%s) fails with one clear error and changes nothing', async (_what, input, message) => {
    const w = world();
    w.heartbeats(5);
    const result = await w.run(FAILOVER, input);
    expect(result.status).toBe('FAILED');
    expect(result.cause).toContain(message);
    expect(w.order('PromoteReadReplica', 'PutItem', 'UpdateItem', 'PutMetricData')).toEqual([]);
  });
});

describe('re-running after a crash at each step converges', () => {
  // Every state of the failover's outline (the report's state is named by outcome).
  // WaitOutWriteLease runs in unplanned mode only: tier-lock.test.ts crashes there.
  const steps = RUNBOOK_OUTLINES['region-failover'].steps.filter((step) => step !== 'Report' && step !== 'WaitOutWriteLease');
  test.each(steps)('crash at %s, then a new execution', async (crashAt) => {
    const w = world();
    w.heartbeats(20);
    const first = await w.run(
      FAILOVER,
      { mode: 'planned', targetRegion: TARGET },
      { beforeTask: (state) => (state === crashAt ? 'crash' : undefined) },
    );
    expect(first.status).toBe('ABORTED');
    const second = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(second.status, second.cause).toBe('SUCCEEDED');
    expect(w.gate(TARGET)).toBe(true);
    expect(w.gate(HOME)).not.toBe(true);
    expect(w.aws.instances.get(`${TARGET}:${TARGET_DB}`)).toMatchObject({ status: 'available', source: undefined });
    expect(w.order('PromoteReadReplica')).toHaveLength(1);
    // Scaled once: +50 % of 4 is 6, never 9.
    expect(generalNodes(w)).toBe(9);
  });
});

describe('AzFailover and Failback', () => {
  test('AzFailover fails the database over to its standby and tests the cache failover, waiting for each', async () => {
    const w = world();
    const result = await w.run('mlp-tier1-az-failover', {});
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.order('RebootDBInstance', 'TestFailover')).toEqual([`RebootDBInstance@${TARGET}`, `TestFailover@${TARGET}`]);
    expect(w.aws.instances.get(`${TARGET}:${TARGET_DB}`)?.zone).toBe('us-west-2b');
  });

  test('Failback: after re-protection catches up, a planned switchover brings the primary home with no loss', async () => {
    // GIVEN us-west-2 took over, and us-east-1 was re-protected by a deploy and caught up
    const w = world();
    w.heartbeats(20);
    expect((await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
    const rebuilt = w.reprotectHome();
    expect(w.aws.instances.get(`${HOME}:${rebuilt}`)?.source).toBe(`arn:aws:rds:${TARGET}:111122223333:db:${TARGET_DB}`);
    expect(w.aws.parameters.get(`${HOME}:/mlp/tier1/postgres/instance-id`)).toBe(rebuilt);
    w.heartbeats(20, 0, TARGET_DB);
    // WHEN the failback runs in us-east-1
    const result = await w.run('mlp-tier1-failback', { formerPrimary: HOME }, {}, HOME);
    // THEN
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.instances.get(`${HOME}:${rebuilt}`)?.source).toBeUndefined();
    expect(w.gate(HOME)).toBe(true);
    expect(w.gate(TARGET)).toBe(false);
    expect(() => w.db.write(TARGET_DB, 'platform', 999, w.now().toISOString())).toThrow(/not permitted to log in/);
    const switchover = (result.output as { switchover: { status: string } }).switchover;
    expect(switchover.status).toBe('SUCCEEDED');
  });

  test('Failback refuses to switch over before the region is re-protected', async () => {
    const w = world();
    const result = await w.run('mlp-tier1-failback', { formerPrimary: TARGET });
    expect(result.status).toBe('FAILED');
    expect(w.order('PromoteReadReplica')).toEqual([]);
  });
});

describe('RefreshGate, the gate keeper run every minute', () => {
  const refresh = (w: World, region: string) =>
    STEPS.RefreshGate({ state: {}, execution: { id: 'schedule', startTime: '' } } as never, w.deps(region, 'RefreshGate'));
  const openGate = (w: World) => ({ pk: { S: 'gate' }, open: { BOOL: true }, epoch: { N: '0' }, updatedAt: { S: w.now().toISOString() } });
  /**
   * After a planned switchover to the target, the old home as an unplanned failover leaves it: its gate still
   * recorded open, from before, and its database writable again (a client pinned to it could still write there).
   */
  const formerPrimaryBack = async (w: World) => {
    w.heartbeats(30);
    await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.set('gate', {
      pk: { S: 'gate' },
      open: { BOOL: true },
      epoch: { N: '0' },
      updatedAt: { S: '2026-12-01T11:00:00.000Z' },
    });
    await w.db.unfence({ region: HOME, instanceIdentifier: HOME_DB, host: '', port: 0 });
  };

  test('a former primary that comes back closes the gate another region opened after it', async () => {
    const w = world();
    await formerPrimaryBack(w);
    expect(await refresh(w, HOME)).toEqual({
      open: false,
      supersededBy: TARGET,
      fenced: `${HOME_DB} fenced (application roles NOLOGIN), 0 session(s) ended; cache user mlp-tier1-app in ${HOME} fenced: no login, no command: ${TARGET} took the primary`,
    });
    expect(w.gate(HOME)).toBe(false);
    expect(w.aws.cacheUsers.get(`${HOME}:mlp-tier1-app`)?.accessString).toBe('off ~* &* -@all');
    expect(w.aws.metrics.filter((m) => m.region === HOME && m.name === 'WriteGateOpen').at(-1)?.value).toBe(0);
    expect(() => w.db.write(HOME_DB, 'platform', 999, w.now().toISOString())).toThrow(/not permitted to log in/);
    expect(w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.has('fence')).toBe(false);
    // The newer gate stays open, and the next minute owes nothing.
    expect(await refresh(w, TARGET)).toMatchObject({ open: true, lease: { held: true } });
    expect(await refresh(w, HOME)).toEqual({ open: false });
  });

  test('a fence that cannot land yet is owed, and retried every minute until it does', async () => {
    const w = world();
    await formerPrimaryBack(w);
    w.db.unreachable.add(HOME);
    await expect(refresh(w, HOME)).rejects.toThrow();
    expect(w.gate(HOME)).toBe(false); // the gate closes first: routing stops whatever the database does
    expect(w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.get('fence')?.instanceIdentifier).toEqual({ S: HOME_DB });
    w.db.unreachable.delete(HOME);
    expect(await refresh(w, HOME)).toMatchObject({
      open: false,
      fenced: expect.stringContaining(`${HOME_DB} fenced (application roles NOLOGIN)`),
    });
    expect(w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.has('fence')).toBe(false);
  });

  test('an owed fence of a database retired since is dropped', async () => {
    const w = world();
    w.aws.tables.set(
      `${HOME}:mlp-tier1-dr-state`,
      new Map([['fence', { pk: { S: 'fence' }, instanceIdentifier: { S: 'mlp-tier1-pg-use1-gone' }, supersededBy: { S: TARGET } }]]),
    );
    expect(await refresh(w, HOME)).toMatchObject({ fenced: 'mlp-tier1-pg-use1-gone no longer exists' });
    expect(w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.has('fence')).toBe(false);
  });

  test('with two regions and the witness, keeps its gate open when the other region does not answer: its own table and the witness’s make a majority', async () => {
    const w = world();
    w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.set('gate', openGate(w));
    w.aws.unreachable.add(TARGET);
    expect(await refresh(w, HOME)).toEqual({ open: true, lease: { renewed: [HOME, WITNESS], held: true } });
    expect(w.gate(HOME)).toBe(true);
  });

  test('with two regions, a primary cut off from the other region and the witness fences itself: two tables alone could not tell', async () => {
    const w = world();
    w.heartbeats(5);
    w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.set('gate', openGate(w));
    w.aws.partitioned.add(HOME);
    const out = await refresh(w, HOME);
    expect(out).toMatchObject({ open: false, lease: { renewed: [HOME], held: false } });
    expect(out.fenced).toContain(HOME_DB);
    expect(w.gate(HOME)).toBe(false);
  });
});

test('epochs are per region: a runbook takes one above the newest any region recorded, so its fence outranks earlier runbooks elsewhere', async () => {
  const w = world();
  w.heartbeats(30);
  // us-east-1's gate was last set by a runbook of epoch 7 (counted in us-east-1's own table).
  w.aws.tables.set(
    `${HOME}:mlp-tier1-dr-state`,
    new Map([['gate', { pk: { S: 'gate' }, open: { BOOL: true }, epoch: { N: '7' }, updatedAt: { S: w.now().toISOString() } }]]),
  );
  const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
  expect(result.status, result.cause).toBe('SUCCEEDED');
  expect((result.output as { lock: { epoch: number } }).lock.epoch).toBe(8);
  expect(w.aws.tables.get(`${HOME}:mlp-tier1-dr-state`)?.get('gate')).toMatchObject({ open: { BOOL: false }, epoch: { N: '8' } });
  expect(w.aws.tables.get(`${TARGET}:mlp-tier1-dr-state`)?.get('epoch')?.value).toEqual({ N: '8' });
});

test('the report times every step from the execution history, a polled step as one that waited and succeeded', async () => {
  const w = world();
  w.heartbeats(30, 2);
  w.aws.unreachable.add(HOME);
  w.db.unreachable.add(HOME);
  const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
  expect(result.status, result.cause).toBe('SUCCEEDED');
  const steps = (result.output as { report: { steps: { name: string; start: string; end?: string; outcome: string }[] } }).report.steps;
  expect(steps.map((s) => s.name)).toEqual(expect.arrayContaining(['Preflight', 'FenceSource', 'CheckPostgresPromoted', 'OpenGate']));
  const polled = steps.find((s) => s.name === 'CheckPostgresPromoted');
  expect(polled?.outcome).toBe('succeeded');
  // Entered when the first poll ran, left when the promotion (modelled at 300 s) was seen.
  expect(Date.parse(polled?.end ?? '') - Date.parse(polled?.start ?? '')).toBeGreaterThanOrEqual(240_000);
  expect(steps.filter((s) => s.outcome !== 'succeeded').map((s) => s.name)).toEqual(['ReportSuccess']); // still running as it reports
});
