import { expect, test } from 'vitest';
import { drill, failed } from './support';

/** The drill's fault scenarios on real servers: throttling, stuck and failed promotions, races, failback, AZ. */
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
});

test('concurrent-execution: the second execution is refused by the lock', async () => {
  const report = await drill('concurrent-execution');
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.error ?? e.status).sort()).toEqual(['LockHeld', 'SUCCEEDED']);
});

test('failback: the returning region closes its gate, is re-protected, and takes the primary back losing nothing', async () => {
  const report = await drill('failback');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ primaryAfter: 'us-east-1', status: 'SUCCEEDED' });
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.executions.map((e) => e.machine)).toEqual(['mlp-tier1-region-failover', 'mlp-tier1-failback']);
});

test('az-failover keeps the primary in its region and loses nothing', async () => {
  const report = await drill('az-failover');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ primaryAfter: 'us-east-1', status: 'SUCCEEDED' });
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.rpo.objectiveSeconds).toBe(0);
});
