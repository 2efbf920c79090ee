import { expect, test } from 'vitest';
import { MODELLED_SECONDS } from '../../runbooks/local/fake-aws';
import { drill, failed, invariant } from './support';

/**
 * The scenarios whose fault or checks differ on RDS PostgreSQL (tier1 on RDS, the gated tier1-rds
 * layout): the other files drill the tiers' Aurora global databases. three-regions on RDS (tier3, whose
 * re-pointing deploys a new replica generation) needs two syntheses of its own, about 20 s, and is
 * drilled by `npm run drill -- --scenario three-regions --engine rds-postgresql`, not here. The
 * cross-region replica is a real PostgreSQL standby, promoted by the simulated RDS API.
 * Figures are asserted as facts of the run, never as timings.
 */
const RDS = { databaseEngine: 'rds-postgresql' } as const;

test('region-loss on RDS: PromoteReadReplica from the surviving region, every invariant held, within the RPO', async () => {
  const report = await drill('region-loss', RDS);
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'SUCCEEDED', primaryBefore: 'us-east-1', primaryAfter: 'us-west-2' });
  expect(report.rpo.lostSeconds).toBeLessThanOrEqual(report.rpo.objectiveSeconds);
  // The modelled AWS timeline holds the replica's promotion (modelled at 300 s) and the DNS tail.
  expect(report.rto.modelledAwsSeconds).toBeGreaterThan(MODELLED_SECONDS.rdsPromotion.seconds + report.rto.dnsTailSeconds);
});

test('planned-switchover on RDS loses no acknowledged write', async () => {
  const report = await drill('planned-switchover', RDS);
  expect(failed(report)).toEqual([]);
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.primaryAfter).toBe('us-west-2');
});

test('lag-beyond-rpo on RDS: refused on the heartbeat and on ReplicaLag; the override promotes', async () => {
  const report = await drill('lag-beyond-rpo', RDS);
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
  expect(invariant(report, /on the ReplicaLag CloudWatch holds$/).held).toBe(true);
  expect(report.override).toBeDefined();
});

test('stuck-promotion on RDS: the replica stays modifying; the runbook gives up with the gate closed', async () => {
  const report = await drill('stuck-promotion', RDS);
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'FAILED', primaryAfter: 'us-east-1' });
  expect(invariant(report, 'the gate stayed closed while the promotion was stuck').held).toBe(true);
});

test('fence-override on RDS: no override attempt writes; every application role of the old primary is NOLOGIN', async () => {
  const report = await drill('fence-override', RDS);
  expect(failed(report)).toEqual([]);
  expect(invariant(report, 'no override attempt wrote on the fenced old primary').detail).toMatch(
    /5 attempt\(s\), 0 accepted; 0 override row/,
  );
  expect(invariant(report, 'every application role of the old primary is NOLOGIN').held).toBe(true);
});

test('failback on RDS: the returning region is re-protected by a deploy (a new replica generation), then takes the primary back', async () => {
  const report = await drill('failback', RDS);
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'SUCCEEDED', primaryAfter: 'us-east-1' });
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.executions.map((e) => e.machine)).toEqual(['mlp-tier1-region-failover', 'mlp-tier1-failback']);
  expect(report.invariants.map((i) => i.name).filter((name) => name.startsWith('Aurora'))).toEqual([]);
});

test('az-failover on RDS: a Multi-AZ reboot with failover, the primary stays, nothing lost', async () => {
  const report = await drill('az-failover', RDS);
  expect(failed(report)).toEqual([]);
  expect(report).toMatchObject({ status: 'SUCCEEDED', primaryAfter: 'us-east-1' });
  expect(report.rpo.lostWrites).toBe(0);
});
