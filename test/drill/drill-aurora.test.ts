import { expect, test } from 'vitest';
import { drill, failed } from './support';

/**
 * The scenarios whose fault or checks differ on an Aurora global database (tier2, the gated
 * tier2-aurora layout; three-regions on tier3); the others run the same steps on either engine. Aurora's
 * storage replication played by streaming replication between the real PostgreSQL servers, the
 * global database's control plane by the simulation (switchover, failover with AllowDataLoss).
 * Figures are asserted as facts of the run, never as timings.
 */
const AURORA = { tier: 'tier2', databaseEngine: 'aurora-postgresql-global' } as const;

/** An invariant of the report by (part of) its name: it must be there. */
const invariant = (report: Awaited<ReturnType<typeof drill>>, name: string | RegExp) => {
  const found = report.invariants.find((i) => (typeof name === 'string' ? i.name === name : name.test(i.name)));
  if (!found) throw new Error(`no invariant ${name} in ${report.invariants.map((i) => i.name).join('; ')}`);
  return found;
};

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
  expect(invariant(report, 'the old writer is a read-only secondary of the new writer').held).toBe(true);
});

test('lag-beyond-rpo on Aurora: refused on the heartbeat and on AuroraGlobalDBRPOLag with nothing asked of the global database; the override fails it over', async () => {
  const report = await drill('lag-beyond-rpo', AURORA);
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
  expect(invariant(report, /on the AuroraGlobalDBRPOLag CloudWatch holds$/).detail).toMatch(
    /FailoverGlobalCluster accepted 0 time\(s\) before the override: .*CloudWatch reports AuroraGlobalDBRPOLag 75 s/,
  );
  expect(report.override).toBeDefined();
  expect(report.primaryAfter).toBe('us-west-2');
});

test('stuck-promotion on Aurora: the global failover stays failing-over; the runbook gives up with the gate closed and reports', async () => {
  const report = await drill('stuck-promotion', AURORA);
  expect(failed(report)).toEqual([]);
  expect(report.status).toBe('FAILED');
  expect(invariant(report, /global database’s failover stayed under way/).detail).toMatch(
    /^FailoverGlobalCluster accepted 1 time\(s\); mlp-tier2-pg-global is failing-over, FailoverState failing-over toward arn:aws:rds:us-west-2:/,
  );
});

test('fence-override on Aurora: no override attempt writes; the switchover leaves the old writer a read-only secondary of the new one', async () => {
  const report = await drill('fence-override', AURORA);
  expect(failed(report)).toEqual([]);
  expect(invariant(report, 'no override attempt wrote on the fenced old primary').detail).toMatch(
    /5 attempt\(s\), 0 accepted; 0 override row/,
  );
  expect(invariant(report, 'the old writer is a read-only secondary of the new writer').held).toBe(true);
  expect(report.invariants.map((i) => i.name)).not.toContain('every application role of the old primary is NOLOGIN');
});

test('failback on Aurora: the returning writer closes its gate, Aurora rejoins it read-only (no deploy), and Failback switches over home', async () => {
  const report = await drill('failback', AURORA);
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'SUCCEEDED', primaryAfter: 'us-east-1' });
  expect(invariant(report, /^Aurora rejoined the former writer/).detail).toMatch(
    /snapshot rds:unplanned-global-failover-mlp-tier2-pg-use1-/,
  );
  expect(invariant(report, /^Failback switched the writer home with SwitchoverGlobalCluster/).held).toBe(true);
  expect(report.rpo.lostWrites).toBe(0);
});

test('az-failover on Aurora: FailoverDBCluster to the other instance of the writer pair, the primary stays, nothing lost', async () => {
  const report = await drill('az-failover', AURORA);
  expect(failed(report)).toEqual([]);
  expect(invariant(report, /^FailoverDBCluster moved the primary cluster’s writer/).detail).toMatch(
    /^FailoverDBCluster accepted 1 time\(s\) .*; writer mlp-tier2-pg-use1-1 -> mlp-tier2-pg-use1-2$/,
  );
  expect(report.rpo.lostWrites).toBe(0);
});

test('three-regions on Aurora (tier3): Aurora rebuilds the other secondary as a secondary of the new writer by itself, with no deploy', async () => {
  const report = await drill('three-regions', { tier: 'tier3', databaseEngine: 'aurora-postgresql-global' });
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'SUCCEEDED', primaryBefore: 'us-east-1', primaryAfter: 'eu-west-1' });
  expect(invariant(report, 'the other secondary replicates the new primary').detail).toMatch(
    /^Aurora rebuilt us-west-2 \(its server a standby of the new writer; a secondary, pending-resync\)/,
  );
});
