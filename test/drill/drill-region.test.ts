import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { DrillReport } from '../../runbooks/drill/drill';
import { writeDrillReport } from '../../runbooks/drill/report';
import { MODELLED_SECONDS } from '../../runbooks/local/fake-aws';
import { drill, failed, invariant } from './support';

/**
 * The region scenarios of the drill on real PostgreSQL 17 and Redis servers, with the synthesized
 * RegionFailover. Figures are asserted as facts of the run (what was lost, what held), never as timings.
 */
describe('drill region-loss', () => {
  let report: DrillReport;
  test('fails over to the first secondary with every invariant held', async () => {
    report = await drill('region-loss');
    expect(failed(report)).toEqual([]);
    expect(report).toMatchObject({ status: 'SUCCEEDED', primaryBefore: 'us-east-1', primaryAfter: 'us-west-2' });
  });

  test('judges the RTO on the modelled AWS timeline, never on the local wall time', () => {
    const rto = report.objectives.find((o) => o.objective === 'RTO');
    const over = (report.rto.modelledAwsSeconds as number) > report.rto.objectiveSeconds;
    expect(rto?.outcome).toBe(over ? 'missed' : 'met');
    expect(report.verdict).toBe(over ? 'objective-missed' : 'passed');
    expect(report.passed).toBe(report.verdict === 'passed');
  });

  test('loses at most what was in flight, reported exactly, within the RPO', () => {
    expect(report.rpo.acknowledgedWrites).toBeGreaterThan(5);
    expect(report.rpo.lostWrites).toBeLessThanOrEqual(2);
    expect(report.rpo.lostSeconds).toBeLessThanOrEqual(report.rpo.objectiveSeconds);
    expect(report.rto.measuredSeconds).toBeGreaterThan(0);
    // The modelled AWS timeline holds the global database's failover (at the pessimistic end, 180 s) and the DNS tail.
    expect(report.rto.modelledAwsSeconds).toBeGreaterThan(
      MODELLED_SECONDS.auroraGlobalFailoverPessimistic.seconds + report.rto.dnsTailSeconds,
    );
    expect(report.steps.map((s) => s.name)).toContain('CheckPostgresPromoted');
  });

  test('writes report.json, report.md and a Vega-rendered timeline.svg', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drill-report-'));
    try {
      await writeDrillReport(report, dir);
      const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
      for (const field of ['scenario', 'tier', 'regions', 'primaryBefore', 'primaryAfter', 'rto', 'rpo', 'invariants', 'steps'])
        expect(json).toHaveProperty(field);
      expect(json.steps[0]).toEqual(expect.objectContaining({ name: 'Preflight', region: 'us-west-2', outcome: 'succeeded' }));
      expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('| rdsPromotion | 300 |');
      const svg = readFileSync(join(dir, 'timeline.svg'), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('CheckPostgresPromoted');
      expect(svg).toContain('objective 300 s');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('planned-switchover loses no acknowledged write, in the database or the cache', async () => {
  const report = await drill('planned-switchover');
  expect(failed(report)).toEqual([]);
  expect(report.rpo.lostWrites).toBe(0);
  expect(report.rpo.cache?.lostWrites ?? 0).toBe(0);
  expect(report.primaryAfter).toBe('us-west-2');
  expect(invariant(report, 'the old writer is a read-only secondary of the new writer').held).toBe(true);
});

test('lag-beyond-rpo is refused, then proceeds with an override that reports the loss', async () => {
  const report = await drill('lag-beyond-rpo');
  expect(failed(report)).toEqual([]);
  expect(report.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
  expect(report.override).toBeDefined();
  expect(report.rpo.lostSeconds).toBeGreaterThan(report.rpo.objectiveSeconds);
  expect(invariant(report, /on the AuroraGlobalDBRPOLag CloudWatch holds$/).detail).toMatch(
    /FailoverGlobalCluster accepted 0 time\(s\) before the override: .*CloudWatch reports AuroraGlobalDBRPOLag 75 s/,
  );
  // The override accepts the RPO miss, and the report says so; it accepts no RTO miss.
  expect(report.objectives.find((o) => o.objective === 'RPO')).toMatchObject({
    outcome: 'accepted',
    detail: expect.stringMatching(/^lost \d+(\.\d)? s > 60 s, accepted by the override$/),
  });
  expect(report.objectives.find((o) => o.objective === 'RTO')?.outcome).not.toBe('accepted');
});

test('zombie-primary: no write accepted by the old primary after the fence', async () => {
  const report = await drill('zombie-primary');
  expect(failed(report)).toEqual([]);
  expect(report.invariants.find((i) => i.name.includes('after the fence'))?.detail).toMatch(/, 0 sent after the fence/);
});
