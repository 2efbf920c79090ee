import { describe, expect, test, vi } from 'vitest';
import { readLease, writeLease, writeRevocation } from '../../runbooks/core/state-table';
import { leaseQuorum, lockQuorum, meetsEveryLeaseQuorum } from '../../runbooks/core/tier-lock';
import { WRITE_LEASE } from '../../runbooks/definitions/catalogue';
import { STEPS } from '../../runbooks/steps';
import { gateKeeperInvocation } from '../../runbooks/steps/region-failover';
import { HOME, TARGET, World } from './world';

const FAILOVER = 'mlp-tier3-region-failover';
const schedule = { state: {}, execution: { id: 'schedule', startTime: '' } } as never;
/** tier3 across three regions on its Aurora global database, built from the gated tier3 layout's synthesized stacks. */
const tier3 = () => new World({ layoutId: 'tier3' });
/** What promotes a secondary of tier3's global database. */
const PROMOTION = 'FailoverGlobalCluster';
const table = (w: World, region: string) => w.aws.tables.get(`${region}:mlp-tier3-dr-state`);

/** The primary's gate open under epoch 0, as deployed. */
function openPrimaryGate(w: World, primary: string) {
  w.aws.tables.set(
    `${primary}:mlp-tier3-dr-state`,
    new Map([['gate', { pk: { S: 'gate' }, open: { BOOL: true }, epoch: { N: '0' }, updatedAt: { S: w.now().toISOString() } }]]),
  );
}

test.each([
  [2, 'planned', 2, 1],
  [2, 'unplanned', 1, 1],
  [3, 'unplanned', 2, 2],
  [5, 'planned', 3, 3],
] as const)('%i regions, %s: the lock needs %i table(s), the lease %i', (regions, mode, lock, lease) => {
  expect(lockQuorum(regions, mode)).toBe(lock);
  expect(leaseQuorum(regions)).toBe(lease);
});

describe('one lock for the tier (three regions)', () => {
  test('two operators start failovers in both secondaries at once: exactly one promotes, the other is refused naming it', async () => {
    // GIVEN tier3 with its primary lost
    const w = tier3();
    const [home, second, third] = w.regions as [string, string, string];
    w.heartbeats(20, 1);
    w.aws.unreachable.add(home);
    w.db.unreachable.add(home);
    // WHEN two unplanned failovers start at the same moment, one in each secondary
    const arn = (region: string) => `arn:aws:states:${region}:111122223333:execution:${FAILOVER}:operator-in-${region}`;
    const results = await Promise.all(
      [second, third].map((region) => w.run(FAILOVER, { mode: 'unplanned', targetRegion: region }, { executionArn: arn(region) }, region)),
    );
    // THEN
    const winner = results.findIndex((r) => r.status === 'SUCCEEDED');
    const loser = results.find((r) => r.status === 'FAILED');
    expect(winner, JSON.stringify(results.map((r) => [r.status, r.cause]))).toBeGreaterThanOrEqual(0);
    expect(loser?.error).toBe('LockHeld');
    expect(loser?.cause).toContain(arn([second, third][winner] as string));
    expect(w.order(PROMOTION)).toHaveLength(1);
    const opened = w.regions.filter((r) => w.gate(r) === true);
    expect(opened).toHaveLength(1);
    // The loser left nothing: every table the winner held is released, no lock remains anywhere.
    for (const region of [second, third]) expect(table(w, region)?.has('lock')).toBe(false);
  });

  test('a lock held by a running execution of another region is refused, asked in that region', async () => {
    const w = tier3();
    const [, second, third] = w.regions as [string, string, string];
    w.heartbeats(10);
    const holder = `arn:aws:states:${third}:111122223333:execution:${FAILOVER}:elsewhere`;
    w.aws.runningExecutions.add(holder);
    table(w, third)?.set('lock', { pk: { S: 'lock' }, owner: { S: holder }, epoch: { N: '4' }, since: { S: 'x' } });
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: second }, {}, second);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('LockHeld');
    expect(result.cause).toContain(holder);
    expect(w.aws.calls.find((c) => c.command === 'DescribeExecution')?.region).toBe(third);
    expect(w.order(PROMOTION, 'PutMetricData')).toEqual([]);
    // Once that execution has ended, its lock is taken over under a newer epoch.
    w.aws.runningExecutions.delete(holder);
    const next = await w.run(FAILOVER, { mode: 'planned', targetRegion: second }, {}, second);
    expect(next.status, next.cause).toBe('SUCCEEDED');
    expect((next.output as { lock: { epoch: number } }).lock.epoch).toBe(5);
  });

  test('a lock whose owner’s region does not answer is held until Step Functions has certainly ended the owner, then taken over', async () => {
    // GIVEN a planned failover to the third region, started there, holding the lock in a quorum; then that region is lost
    const w = tier3();
    const [home, second, third] = w.regions as [string, string, string];
    w.heartbeats(10);
    const holder = `arn:aws:states:${third}:111122223333:execution:${FAILOVER}:then-lost`;
    const claimed = w.now().toISOString();
    for (const region of [home, second])
      table(w, region)?.set('lock', { pk: { S: 'lock' }, owner: { S: holder }, epoch: { N: '4' }, since: { S: claimed } });
    w.aws.unreachable.add(third);
    // WHEN a failover to the second region is started within the hour and a quarter (1 h timeout, 15 min Lambda)
    w.aws.advance(74 * 60);
    const early = await w.run(FAILOVER, { mode: 'planned', targetRegion: second }, {}, second);
    // THEN it is refused, naming the owner, its silent region and when it is certainly over
    expect(early.error).toBe('LockHeld');
    expect(early.cause).toContain(`execution ${holder} holds the runbook lock and its region ${third} does not answer`);
    expect(early.cause).toContain(`ends it by ${new Date(Date.parse(claimed) + 75 * 60_000).toISOString()} at the latest`);
    expect(w.order(PROMOTION)).toEqual([]);
    // AND once that time has passed, the lock is taken over under a newer epoch (planned mode needs
    // every region: the third still does not answer, so an unplanned failover is what proceeds)
    w.aws.advance(2 * 60);
    const late = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: second }, {}, second);
    expect(late.error ?? late.status, late.cause).toBe('SUCCEEDED');
    expect((late.output as { lock: { epoch: number } }).lock.epoch).toBe(5);
  });

  test('with two of three regions lost the lock cannot be taken, and nothing is promoted', async () => {
    const w = tier3();
    const [home, second, third] = w.regions as [string, string, string];
    w.heartbeats(10);
    for (const region of [home, third]) w.aws.unreachable.add(region);
    w.db.unreachable.add(home);
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: second }, {}, second);
    expect(result.status).toBe('FAILED');
    expect(result.cause).toContain('the runbook lock needs 2 of the 3 regions');
    expect(w.order(PROMOTION)).toEqual([]);
  });
});

describe('the write lease (three regions)', () => {
  test('a primary cut off from the other regions fences itself at its next renewal, and the failover waits out the bound', async () => {
    // GIVEN the primary renewing its lease, then cut off from the other regions (it still answers its own)
    const w = tier3();
    const [home, second] = w.regions as [string, string, string];
    w.heartbeats(20);
    openPrimaryGate(w, home);
    expect(await STEPS.RefreshGate(schedule, w.deps(home, 'RefreshGate'))).toMatchObject({ open: true, lease: { held: true } });
    w.aws.partitioned.add(home);
    const primaryDb = w.databaseOf(home).instanceIdentifier;
    // WHEN an unplanned failover runs in a secondary, and the primary's gate keeper runs meanwhile
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: second }, {}, second);
    const refresh = await STEPS.RefreshGate(schedule, w.deps(home, 'RefreshGate'));
    // THEN the failover could not fence it and waited the bound before promoting
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const output = result.output as { fence: { fenced: boolean; leaseWaitSeconds: number; leaseRevokedIn: string[] } };
    // It waits out what is left of the bound after the old primary's last renewal (the steps before took their cold starts).
    expect(output.fence).toMatchObject({ fenced: false });
    expect(output.fence.leaseWaitSeconds).toBeGreaterThan(WRITE_LEASE.boundSeconds - 10);
    expect(output.fence.leaseWaitSeconds).toBeLessThanOrEqual(WRITE_LEASE.boundSeconds);
    expect(output.fence.leaseRevokedIn).not.toContain(home);
    const renewed = w.aws.calls.find((c) => c.caller === 'RefreshGate' && c.command === 'PutItem' && !c.error)?.at ?? 0;
    const promoted = w.aws.calls.find((c) => c.command === PROMOTION && !c.error)?.at ?? 0;
    expect(promoted - renewed).toBeGreaterThanOrEqual(WRITE_LEASE.boundSeconds);
    // and the cut-off primary closed its own gate and fenced its own database
    expect(refresh).toMatchObject({ open: false, lease: { renewed: [home], held: false } });
    expect(refresh.fenced).toContain(primaryDb);
    expect(w.gate(home)).toBe(false);
    expect(() => w.db.write(primaryDb, 'platform', 999, w.now().toISOString())).toThrow(/not permitted to log in/);
  });

  test('a primary that finds its lease revoked under a newer epoch fences itself although it reaches every region', async () => {
    const w = tier3();
    const [home, second] = w.regions as [string, string, string];
    openPrimaryGate(w, home);
    for (const region of [home, second]) {
      table(w, region)?.set('lease', { pk: { S: 'lease' }, region: { S: second }, epoch: { N: '3' }, renewedAt: { S: 'x' } });
    }
    const refresh = await STEPS.RefreshGate(schedule, w.deps(home, 'RefreshGate'));
    expect(refresh).toMatchObject({ open: false, supersededBy: expect.stringContaining('the write lease is revoked') });
    expect(w.gate(home)).toBe(false);
  });
});

describe('the lease wait counts from the old primary’s last renewal', () => {
  test('a primary lost longer ago than the bound is not waited for: its last renewal is in a majority of the tables', async () => {
    // GIVEN tier3's primary renewing its lease in every table, then lost for longer than the bound
    const w = tier3();
    const [home, second] = w.regions as [string, string, string];
    w.heartbeats(20);
    openPrimaryGate(w, home);
    expect(await STEPS.RefreshGate(schedule, w.deps(home, 'RefreshGate'))).toMatchObject({ lease: { held: true } });
    const renewedAt = table(w, home)?.get('lease')?.renewedAt?.S;
    w.aws.unreachable.add(home);
    w.db.unreachable.add(home);
    w.aws.advance(WRITE_LEASE.boundSeconds + 30);
    // WHEN an unplanned failover runs
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: second }, {}, second);
    // THEN it revoked the lease in the two tables that answer, found the renewal they held, and promoted without waiting
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const fence = (result.output as { fence: Record<string, unknown> }).fence;
    expect(fence).toMatchObject({ fenced: false, leaseWaitSeconds: 0, leaseBoundFrom: `the old primary's last renewal (${renewedAt})` });
    expect(table(w, second)?.get('lease')).toMatchObject({ revokedRegion: { S: home }, revokedRenewedAt: { S: renewedAt } });
    const revoked = w.aws.calls.find((c) => c.caller === 'FenceSource' && c.command === 'PutItem' && !c.error)?.at ?? 0;
    const promoted = w.aws.calls.find((c) => c.command === PROMOTION && !c.error)?.at ?? Number.POSITIVE_INFINITY;
    expect(promoted - revoked).toBeLessThan(WRITE_LEASE.boundSeconds);
  });

  test('the RPO guard judges the lag as it stood when the lost primary last renewed, not when the operator decided', async () => {
    // GIVEN tier3's primary renewing while its replicas are 90 s behind, then lost; the operator decides five minutes later
    const w = tier3();
    const [home, second] = w.regions as [string, string, string];
    w.heartbeats(120, 90);
    openPrimaryGate(w, home);
    await STEPS.RefreshGate(schedule, w.deps(home, 'RefreshGate'));
    w.aws.unreachable.add(home);
    w.db.unreachable.add(home);
    w.aws.advance(300);
    // WHEN the failover starts
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: second }, {}, second);
    // THEN the lag is the 90 s the replica was behind, plus the renewal it might still have made: refused
    expect(result.status).toBe('FAILED');
    expect(result.cause).toMatch(/replication lag 1[12]\d\.\d s exceeds the RPO objective of 60 s/);
    expect(w.order(PROMOTION)).toEqual([]);
  });

  test('with one of three tables revoked the last renewal cannot be told, and the wait counts from the revocation', () => {
    expect(meetsEveryLeaseQuorum(['us-west-2'], ['us-east-1', 'us-west-2', 'eu-west-1'], 'us-east-1')).toBe(false);
    expect(meetsEveryLeaseQuorum(['us-west-2', 'eu-west-1'], ['us-east-1', 'us-west-2', 'eu-west-1'], 'us-east-1')).toBe(true);
    // Two regions: the holder renews in its own table alone, which a failover that cannot reach it cannot revoke.
    expect(meetsEveryLeaseQuorum(['us-west-2'], ['us-east-1', 'us-west-2'], 'us-east-1')).toBe(false);
    expect(meetsEveryLeaseQuorum(['us-east-1', 'us-west-2'], ['us-east-1', 'us-west-2'], 'us-east-1')).toBe(true);
  });

  test('a revocation lands only on the lease it read: a renewal in between makes it read again', async () => {
    const w = tier3();
    const [home, second] = w.regions as [string, string, string];
    const deps = w.deps(second, 'FenceSource');
    await writeLease(deps, second, 'mlp-tier3-dr-state', home, 0);
    const seen = await readLease(deps, second, 'mlp-tier3-dr-state');
    w.aws.advance(20);
    await writeLease(deps, second, 'mlp-tier3-dr-state', home, 0);
    expect(await writeRevocation(deps, second, 'mlp-tier3-dr-state', second, 1, seen)).toBe(false);
    const renewed = await readLease(deps, second, 'mlp-tier3-dr-state');
    expect(await writeRevocation(deps, second, 'mlp-tier3-dr-state', second, 1, renewed)).toBe(true);
    expect(await readLease(deps, second, 'mlp-tier3-dr-state')).toMatchObject({
      region: second,
      epoch: 1,
      revoked: { region: home, renewedAt: renewed?.renewedAt },
    });
  });
});

describe('the gate keeper renews the lease every 20 s', () => {
  test('one scheduled invocation runs three passes 20 s apart, and a failed pass does not skip the next', async () => {
    // GIVEN the primary's gate open, and its first pass's read of its own gate failing
    const w = tier3();
    const [home] = w.regions as [string, string, string];
    openPrimaryGate(w, home);
    w.aws.failNext('GetItem', 'ResourceNotFoundException', 'Requested resource not found', 1);
    const started = w.aws.clock;
    // WHEN EventBridge Scheduler invokes RefreshGate once
    const invocation = gateKeeperInvocation(async (ms) => w.aws.advance(ms / 1000));
    const outcome = invocation(schedule, w.deps(home, 'RefreshGate'));
    // THEN the invocation fails with the first pass's error, after the other two passes renewed the lease in their slots at +20 s and +40 s
    // (each within its renewal deadline: the pass reads the other regions' tables first)
    await expect(outcome).rejects.toThrow(/Requested resource not found/);
    const renewals = w.aws.calls.filter((c) => c.caller === 'RefreshGate' && c.command === 'PutItem' && c.region === home && !c.error);
    const leaseRenewals = renewals.filter((c) => JSON.stringify(c.input).includes('"lease"'));
    expect(leaseRenewals.map((c) => Math.floor(c.at - started))).toEqual([20, 40]);
    for (const [index, renewal] of leaseRenewals.entries())
      expect(renewal.at - started - 20 * (index + 1)).toBeLessThan(WRITE_LEASE.renewalDeadlineSeconds);
    expect(w.gate(home)).toBe(true);
  });

  test('tables that hang instead of refusing count as unreachable within the renewal deadline: the primary fences itself', async () => {
    // GIVEN the primary's gate open, and the other regions' state tables hanging instead of refusing
    const w = tier3();
    const [home] = w.regions as [string, string, string];
    openPrimaryGate(w, home);
    const deps = w.deps(home, 'RefreshGate');
    const hanging = { send: () => new Promise(() => undefined) };
    const cutOff = { ...deps, clients: { ...deps.clients, dynamodb: (r: string) => (r === home ? deps.clients.dynamodb(r) : hanging) } };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // WHEN its gate keeper runs
      const pass = STEPS.RefreshGate(schedule, cutOff as never);
      await vi.advanceTimersByTimeAsync(WRITE_LEASE.renewalDeadlineSeconds * 1000);
      // THEN, within the deadline, each hanging table counted as unreachable after its share of it: no quorum,
      // so it closed its gate and fenced its database
      expect(await pass).toMatchObject({
        open: false,
        supersededBy: 'the write lease was lost: renewed in 1 of 3 state tables, 2 needed',
      });
    } finally {
      vi.useRealTimers();
    }
    expect(w.gate(home)).toBe(false);
    expect(() => w.db.write(w.databaseOf(home).instanceIdentifier, 'platform', 999, w.now().toISOString())).toThrow(
      /not permitted to log in/,
    );
  });

  test('the bound covers a renewal period, the scheduled delivery, the renewal deadline, the fence and clock skew', () => {
    const { renewalSeconds, deliverySlackSeconds, renewalDeadlineSeconds, fenceSeconds, clockSkewSeconds, boundSeconds } = WRITE_LEASE;
    expect(boundSeconds).toBe(renewalSeconds + deliverySlackSeconds + renewalDeadlineSeconds + fenceSeconds + clockSkewSeconds);
    expect(WRITE_LEASE.renewalSeconds * WRITE_LEASE.passesPerInvocation).toBe(60);
  });
});

test('an unplanned failover that dies while waiting out the lease is re-run: the new one takes the lock over and waits the bound again', async () => {
  const w = new World();
  w.heartbeats(20, 1);
  w.aws.unreachable.add(HOME);
  w.db.unreachable.add(HOME);
  const failover = 'mlp-tier1-region-failover';
  const first = await w.run(
    failover,
    { mode: 'unplanned', targetRegion: TARGET },
    { beforeTask: (state) => (state === 'WaitOutWriteLease' ? 'crash' : undefined) },
  );
  expect(first.status).toBe('ABORTED');
  const second = await w.run(failover, { mode: 'unplanned', targetRegion: TARGET });
  expect(second.status, second.cause).toBe('SUCCEEDED');
  // The bound again, from the second run's own revocation (less the cross-region round trips since).
  const { leaseWait } = second.output as { leaseWait: { boundSeconds: number } };
  expect(leaseWait.boundSeconds).toBeGreaterThanOrEqual(WRITE_LEASE.boundSeconds - 1);
  expect(leaseWait.boundSeconds).toBeLessThanOrEqual(WRITE_LEASE.boundSeconds);
  expect(w.order('PromoteReadReplica')).toHaveLength(1);
  expect(w.gate(TARGET)).toBe(true);
});
