import { expect, test } from 'vitest';
import { WRITE_LEASE } from '../../runbooks/definitions/catalogue';
import { drill, failed } from './support';

/** The drill's fences, locks and partitions, in a file of their own so they run beside the other drill files. */
test('cache-failover-fails stops with the gate closed, and a re-run converges', async () => {
  const report = await drill('cache-failover-fails');
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
});

test('blackholed-region: calls to a region that drops every packet give up at the clients’ timeouts, and the failover completes', async () => {
  const report = await drill('blackholed-region');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ primaryAfter: 'us-west-2', status: 'SUCCEEDED' });
  expect(report.invariants.map((i) => i.name)).toContain(
    'every attempt at the blackholed region gave up at the clients’ connect timeout, not at a Lambda timeout',
  );
  // Every call at the region waits out real connect timeouts: the failover's, and the watchdogs' before it starts.
}, 150_000);

test('cache-zombie: the old primary’s cache is fenced through ElastiCache, and a client pinned to it writes nothing after the fence', async () => {
  const report = await drill('cache-zombie');
  expect(failed(report)).toEqual([]);
  expect(report.invariants.map((i) => i.name)).toContain('no cache write acknowledged by the old primary after the fence');
});

test('two-operators: tier3, failovers started in both secondaries at once; exactly one promotes, the other is refused naming it', async () => {
  const report = await drill('two-operators');
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.error ?? e.status).sort()).toEqual(['LockHeld', 'SUCCEEDED']);
});

test('partition: the cut-off primary fences itself within the lease bound, and the failover promotes only after it', async () => {
  const report = await drill('partition');
  expect(failed(report)).toEqual([]);
  expect(report.status).toBe('SUCCEEDED');
  expect(report.notes.join(' ')).toMatch(
    new RegExp(`Self-fencing bound: ${WRITE_LEASE.boundSeconds} s.*Writes lost inside the bound: \\d+`, 's'),
  );
  // A cut-off primary fences itself at its next renewal, 20 s on: what it took meanwhile stays inside the RPO.
  expect(report.rpo.lostSeconds).toBeLessThanOrEqual(report.rpo.objectiveSeconds);
});
