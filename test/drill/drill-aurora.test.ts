import { expect, test } from 'vitest';
import { drill, failed } from './support';

/**
 * The region scenarios on an Aurora global database (tier2, the gated tier2-aurora layout): Aurora's
 * storage replication played by streaming replication between the real PostgreSQL servers, the
 * global database's control plane by the simulation (switchover, failover with AllowDataLoss).
 * Figures are asserted as facts of the run, never as timings.
 */
const AURORA = { tier: 'tier2', databaseEngine: 'aurora-postgresql-global' } as const;

test('region-loss on Aurora: FailoverGlobalCluster from the surviving region, every invariant held, within the RPO', async () => {
  const report = await drill('region-loss', AURORA);
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'SUCCEEDED', primaryBefore: 'us-east-1', primaryAfter: 'us-west-2' });
  expect(report.rpo.lostSeconds).toBeLessThanOrEqual(report.rpo.objectiveSeconds);
  expect(report.steps.map((s) => s.name)).toContain('CheckPostgresPromoted');
});

test('planned-switchover on Aurora loses no acknowledged write; the old writer follows the new one', async () => {
  const report = await drill('planned-switchover', AURORA);
  expect(failed(report)).toEqual([]);
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.primaryAfter).toBe('us-west-2');
});
