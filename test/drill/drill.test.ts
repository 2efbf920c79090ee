import { describe, expect, test } from 'vitest';
import { DRILL_SCENARIOS, type DrillReport, runDrill } from '../../runbooks/drill/drill';
import { stateMachinesOf } from '../../runbooks/local/local-runbooks';
import { LayoutAssembly } from '../support/assembly';

/**
 * The drill's scenarios on real PostgreSQL 17 servers, with the synthesized RegionFailover. Figures
 * are asserted as facts of the run (what was lost, what held), never as timings.
 */
describe.each(DRILL_SCENARIOS)('drill %s', (scenario) => {
  let report: DrillReport;
  test('the failover succeeds and every invariant holds', async () => {
    const machines = stateMachinesOf(LayoutAssembly.of('tier1').template('Mlp-tier1-usw2-resilience') as never);
    report = await runDrill(scenario, machines, () => undefined);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.primaryAfter).toBe('us-west-2');
    expect(report.invariants.filter((i) => !i.held)).toEqual([]);
  }, 60_000);

  test('the new primary took writes, and the data lost is what the report says', () => {
    expect(report.rto.measuredSeconds).toBeDefined();
    expect(report.rto.modelledAwsSeconds).toBeGreaterThan(300 - 1); // an RDS promotion is modelled at 5 min
    expect(report.rpo.acknowledgedWrites).toBeGreaterThan(0);
    if (scenario === 'planned-switchover') expect(report.rpo.lostWrites).toBe(0);
    expect(report.rpo.lostSeconds).toBeLessThanOrEqual(report.rpo.objectiveSeconds);
    expect(report.steps.map((s) => s.name)).toContain('OpenGate');
  });
});
