import { expect, test } from 'vitest';
import { drill, failed, invariant } from './support';

/** Re-runs after crashes, the old primary's fence against a pinned client, and a three-region re-pointing. */
test('crash-and-rerun: a crash at each step of the failover, and a new execution converges', async () => {
  const report = await drill('crash-and-rerun');
  expect(failed(report)).toEqual([]);
  expect(report.executions.filter((e) => e.status === 'ABORTED')).toHaveLength(16);
  expect(report.executions.at(-1)?.status).toBe('SUCCEEDED');
});

test('fence-override: after a planned fence, nothing a client pinned to the old primary tries writes', async () => {
  const report = await drill('fence-override');
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ primaryAfter: 'us-west-2', status: 'SUCCEEDED' });
  expect(report.invariants.find((i) => i.name === 'no override attempt wrote on the fenced old primary')?.detail).toMatch(
    /^5 attempt\(s\), 0 accepted; 0 override row\(s\)/,
  );
  // The switchover leaves the old writer a read-only secondary of the new one: no role to fence.
  expect(invariant(report, 'the old writer is a read-only secondary of the new writer').held).toBe(true);
  expect(report.invariants.map((i) => i.name)).not.toContain('every application role of the old primary is NOLOGIN');
});

test('three-regions: tier3 fails over to the second secondary; Aurora rebuilds the other as a secondary of the new writer by itself, with no deploy', async () => {
  const report = await drill('three-regions');
  expect(failed(report)).toEqual([]);
  expect(report.regions).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
  expect(report.primaryAfter).toBe('eu-west-1');
  expect(invariant(report, 'the other secondary replicates the new primary').detail).toMatch(
    /^Aurora rebuilt us-west-2 \(its server a standby of the new writer; a secondary, pending-resync\)/,
  );
});
