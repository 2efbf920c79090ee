import { expect, test } from 'vitest';
import { drill, failed, invariant } from './support';

/**
 * The drill's fault scenarios on real servers, on the tiers' Aurora global databases (drill-rds.test.ts
 * runs RDS PostgreSQL): throttling, stuck and failed promotions, races, failback, AZ.
 */
test('throttling is absorbed by retries', async () => {
  const report = await drill('throttling');
  expect(failed(report)).toEqual([]);
  expect(report.status).toBe('SUCCEEDED');
});

test('stuck-promotion gives up with the gate closed and alerts', async () => {
  const report = await drill('stuck-promotion');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'FAILED', primaryAfter: 'us-east-1' });
  expect(report.rto.modelledAwsSeconds).toBeUndefined();
  // No recovery is expected: the objectives do not apply, and nothing says they were met.
  expect(report.objectives.map((o) => o.outcome)).toEqual(['not-applicable', 'not-applicable']);
  expect(report.verdict).toBe('passed');
  expect(invariant(report, /global database’s failover stayed under way/).detail).toMatch(
    /^FailoverGlobalCluster accepted 1 time\(s\); mlp-tier1-pg-global is failing-over, FailoverState failing-over toward arn:aws:rds:us-west-2:/,
  );
});

test('concurrent-execution: the second execution is refused by the lock', async () => {
  const report = await drill('concurrent-execution');
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.error ?? e.status).sort()).toEqual(['LockHeld', 'SUCCEEDED']);
});

test('failback: the returning writer closes its gate, Aurora rejoins it read-only (no deploy), and Failback switches over home losing nothing', async () => {
  const report = await drill('failback');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ primaryAfter: 'us-east-1', status: 'SUCCEEDED' });
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.executions.map((e) => e.machine)).toEqual(['mlp-tier1-region-failover', 'mlp-tier1-failback']);
  expect(invariant(report, /^Aurora rejoined the former writer/).detail).toMatch(
    /snapshot rds:unplanned-global-failover-mlp-tier1-pg-use1-/,
  );
  expect(invariant(report, /^Failback switched the writer home with SwitchoverGlobalCluster/).held).toBe(true);
});

test('az-failover keeps the primary in its region and loses nothing', async () => {
  const report = await drill('az-failover');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ primaryAfter: 'us-east-1', status: 'SUCCEEDED' });
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.rpo.objectiveSeconds).toBe(0);
  expect(invariant(report, /^FailoverDBCluster moved the primary cluster’s writer/).detail).toMatch(
    /^FailoverDBCluster accepted 1 time\(s\) .*; writer mlp-tier1-pg-use1-1 -> mlp-tier1-pg-use1-2$/,
  );
});
