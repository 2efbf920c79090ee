import { describe, expect, test } from 'vitest';
import { type DrillReport, drillMarkdown, drillSummary, timelineSpec, timelineSvg } from '../../runbooks/drill/report';
import type { Invariant } from '../../runbooks/drill/scenarios';
import { type DrillVerdict, drillExit, judgeDrill, judgeObjectives, type ObjectiveFigures } from '../../runbooks/drill/verdict';

/** A region loss as the drill measures one today: the RDS promotion and the DNS tail put the modelled RTO past 300 s. */
const REGION_LOSS: ObjectiveFigures = {
  recoveryExpected: true,
  rto: { modelledAwsSeconds: 466, objectiveSeconds: 300 },
  rpo: { lostWrites: 0, lostSeconds: 0, objectiveSeconds: 60 },
};
const HELD: Invariant[] = [{ name: 'no split brain', held: true, detail: 'us-east-1 > us-west-2' }];
const BROKEN: Invariant[] = [...HELD, { name: 'the write gate is open only on a writable primary', held: false, detail: 'two gates open' }];

const outcomes = (figures: ObjectiveFigures) => judgeObjectives(figures).map((o) => `${o.objective} ${o.outcome}: ${o.detail}`);

describe('objectives', () => {
  test.each<[string, ObjectiveFigures, string[]]>([
    [
      'the RTO is judged on the modelled AWS timeline: 466 s misses 300 s',
      REGION_LOSS,
      ['RTO missed: modelled 466 s > 300 s', 'RPO met: lost 0 s <= 60 s'],
    ],
    [
      'a modelled RTO within the objective meets it',
      { ...REGION_LOSS, rto: { modelledAwsSeconds: 105, objectiveSeconds: 120 } },
      ['RTO met: modelled 105 s <= 120 s', 'RPO met: lost 0 s <= 60 s'],
    ],
    [
      'exactly the objective meets it',
      { ...REGION_LOSS, rto: { modelledAwsSeconds: 300, objectiveSeconds: 300 } },
      ['RTO met: modelled 300 s <= 300 s', 'RPO met: lost 0 s <= 60 s'],
    ],
    [
      'whole seconds, as the table prints them',
      { ...REGION_LOSS, rto: { modelledAwsSeconds: 482.8, objectiveSeconds: 300 } },
      ['RTO missed: modelled 483 s > 300 s', 'RPO met: lost 0 s <= 60 s'],
    ],
    [
      'a decimal where rounding would hide the miss',
      { ...REGION_LOSS, rto: { modelledAwsSeconds: 300.4, objectiveSeconds: 300 } },
      ['RTO missed: modelled 300.4 s > 300 s', 'RPO met: lost 0 s <= 60 s'],
    ],
    [
      'an expected recovery that never came misses the RTO',
      { ...REGION_LOSS, rto: { objectiveSeconds: 300 } },
      ['RTO missed: no recovery: the new primary never became writable', 'RPO met: lost 0 s <= 60 s'],
    ],
    [
      'the RPO is judged on the seconds lost',
      { ...REGION_LOSS, rpo: { lostWrites: 10, lostSeconds: 76, objectiveSeconds: 60 } },
      ['RTO missed: modelled 466 s > 300 s', 'RPO missed: lost 76 s > 60 s'],
    ],
    [
      'and in more decimals where rounding would hide the miss',
      { ...REGION_LOSS, rpo: { lostWrites: 1, lostSeconds: 60.04, objectiveSeconds: 60 } },
      ['RTO missed: modelled 466 s > 300 s', 'RPO missed: lost 60.04 s > 60 s'],
    ],
    [
      'an RPO of 0 is missed by any lost write',
      { ...REGION_LOSS, rpo: { lostWrites: 1, lostSeconds: 0, objectiveSeconds: 0 } },
      ['RTO missed: modelled 466 s > 300 s', 'RPO missed: 1 acknowledged write(s) lost, objective 0'],
    ],
    [
      'an override accepts an RPO miss, never an RTO miss',
      { ...REGION_LOSS, rpo: { lostWrites: 10, lostSeconds: 76, objectiveSeconds: 60 }, override: 'the primary region is gone' },
      ['RTO missed: modelled 466 s > 300 s', 'RPO accepted: lost 76 s > 60 s, accepted by the override'],
    ],
    [
      'neither applies to a scenario that expects no recovery',
      { ...REGION_LOSS, recoveryExpected: false, rto: { objectiveSeconds: 300 } },
      [
        'RTO not-applicable: the scenario expects its last execution to fail, with no recovery',
        'RPO not-applicable: the scenario expects its last execution to fail, with no recovery',
      ],
    ],
  ])('%s', (_, figures, expected) => {
    expect(outcomes(figures)).toEqual(expected);
  });
});

describe('verdict and exit code', () => {
  test.each<[string, readonly Invariant[], ObjectiveFigures, DrillVerdict, number]>([
    [
      'invariants held, objectives met: passed, 0',
      HELD,
      { ...REGION_LOSS, rto: { modelledAwsSeconds: 250, objectiveSeconds: 300 } },
      'passed',
      0,
    ],
    ['invariants held, the modelled RTO over the objective: objective missed, 3', HELD, REGION_LOSS, 'objective-missed', 3],
    [
      'invariants held, an RPO miss accepted by the override: passed, 0',
      HELD,
      {
        ...REGION_LOSS,
        rto: { modelledAwsSeconds: 250, objectiveSeconds: 300 },
        rpo: { lostWrites: 10, lostSeconds: 76, objectiveSeconds: 60 },
        override: 'accepting the loss',
      },
      'passed',
      0,
    ],
    [
      'an override does not accept an RTO miss: objective missed, 3',
      HELD,
      { ...REGION_LOSS, rpo: { lostWrites: 10, lostSeconds: 76, objectiveSeconds: 60 }, override: 'accepting the loss' },
      'objective-missed',
      3,
    ],
    ['an invariant broken outranks a missed objective: failed, 1', BROKEN, REGION_LOSS, 'failed', 1],
    ['no recovery expected: passed, 0', HELD, { ...REGION_LOSS, recoveryExpected: false, rto: { objectiveSeconds: 300 } }, 'passed', 0],
  ])('%s', (_, invariants, figures, verdict, code) => {
    const judged = judgeDrill(invariants, judgeObjectives(figures));
    expect(judged.verdict).toBe(verdict);
    expect(drillExit([judged.verdict]).code).toBe(code);
  });

  test('the verdict in one line', () => {
    expect(judgeDrill(HELD, judgeObjectives(REGION_LOSS)).verdictText).toBe(
      'invariants held; RTO objective missed: modelled 466 s > 300 s; RPO objective met: lost 0 s <= 60 s',
    );
    expect(
      judgeDrill(
        HELD,
        judgeObjectives({ ...REGION_LOSS, rpo: { lostWrites: 10, lostSeconds: 76, objectiveSeconds: 60 }, override: 'accepting the loss' }),
      ).verdictText,
    ).toBe(
      'invariants held; RTO objective missed: modelled 466 s > 300 s; RPO objective missed: lost 76 s > 60 s, accepted by the override',
    );
    expect(judgeDrill(BROKEN, judgeObjectives(REGION_LOSS)).verdictText).toMatch(
      /^1 invariant\(s\) broken: the write gate is open only on a writable primary; RTO objective missed/,
    );
  });

  test.each<[DrillVerdict[], number]>([
    [['passed', 'passed'], 0],
    [['passed', 'objective-missed'], 3],
    [['objective-missed', 'failed', 'passed'], 1],
    [['failed'], 1],
  ])('a run of %j exits %d', (verdicts, code) => {
    expect(drillExit(verdicts).code).toBe(code);
  });
});

/** A report as the drill writes one, its invariants held; by default a region loss with a modelled RTO of 466 s against 300 s. */
function reportOf(scenario: DrillReport['scenario'] = 'region-loss', figures = REGION_LOSS): DrillReport {
  const objectives = judgeObjectives(figures);
  const { verdict, verdictText } = judgeDrill(HELD, objectives);
  return {
    scenario,
    summary: 'The primary region is lost mid-write.',
    verdict,
    verdictText,
    passed: verdict === 'passed',
    tier: 'tier1',
    database: 'rds-postgresql',
    regions: ['us-east-1', 'us-west-2'],
    primaryBefore: 'us-east-1',
    primaryAfter: 'us-west-2',
    status: 'SUCCEEDED',
    cache: 'redis-server (real servers, replicating)',
    rto: {
      measuredSeconds: 1,
      modelledAwsSeconds: 466,
      fromDecisionSeconds: 466,
      detection: [],
      objectiveSeconds: 300,
      manualRunbookSeconds: { seed003: [900, 1800], seed004: 1380 },
      dnsTailSeconds: 150,
    },
    rpo: { lostWrites: 0, lostSeconds: 0, acknowledgedWrites: 19, objectiveSeconds: 60 },
    objectives,
    invariants: HELD,
    executions: [{ machine: 'mlp-tier1-region-failover', region: 'us-west-2', status: 'SUCCEEDED' }],
    steps: [
      {
        name: 'CheckPostgresPromoted',
        region: 'us-west-2',
        start: '2026-01-01T00:00:45.000Z',
        end: '2026-01-01T00:05:15.000Z',
        startSeconds: 45,
        endSeconds: 315,
        outcome: 'succeeded',
      },
    ],
    facts: [],
    notes: [],
  };
}

/** The fragments of a text (its lines, and the parts of each between semicolons) that speak of the RTO. */
const rtoFragments = (text: string) => text.split(/\n|; /).filter((fragment) => /RTO/.test(fragment));

describe('a report whose modelled RTO misses the objective', () => {
  const report = reportOf();

  test('report.json: verdict objective-missed, passed false, the RTO objective missed', () => {
    const json = JSON.parse(JSON.stringify(report));
    expect(json).toMatchObject({ verdict: 'objective-missed', passed: false });
    expect(json.objectives[0]).toMatchObject({ objective: 'RTO', outcome: 'missed', detail: 'modelled 466 s > 300 s' });
  });

  test('report.md says neither passed nor met for the RTO', () => {
    const markdown = drillMarkdown(report);
    expect(markdown.split('\n')[0]).toBe('# Drill region-loss: OBJECTIVE MISSED');
    expect(markdown).toContain('Verdict: invariants held; RTO objective missed: modelled 466 s > 300 s;');
    expect(markdown).toContain('- **RTO objective missed: modelled 466 s > 300 s** (RTO within 300 s');
    expect(markdown).not.toMatch(/passed/i);
    expect(rtoFragments(markdown).length).toBeGreaterThan(2);
    for (const fragment of rtoFragments(markdown)) expect(fragment).not.toMatch(/\bmet\b|passed/i);
  });

  test("--scenario all's summary says neither passed nor met for it", () => {
    const stuck = reportOf('stuck-promotion', { ...REGION_LOSS, recoveryExpected: false, rto: { objectiveSeconds: 300 } });
    const summary = drillSummary([report, stuck], 148);
    expect(summary.split('\n')[0]).toBe(
      '== 2 scenarios in 148 s: 1 passed, 1 missed an objective; invariants held in 2 of 2; RTO objective missed in 1 (modelled for AWS), RPO objective missed in 0',
    );
    const row = summary.split('\n').find((line) => line.includes('region-loss')) as string;
    expect(row.trim().split(/\s{2,}/)).toEqual([
      'OBJECTIVE MISSED',
      'region-loss',
      'SUCCEEDED',
      '1.0 s',
      '466 s',
      'MISSED (300 s)',
      '0 of 19 (0.0)',
      'met (60 s)',
    ]);
  });

  test('an unplanned failover shows its RTO from the fault and from the decision, and what lies between', async () => {
    const detection = [
      { what: 'Route 53 marks the API unhealthy', seconds: 30, source: 'health check' },
      { what: 'the operator starts the runbook', seconds: 600, source: 'tier config' },
    ];
    const detected = { ...report, rto: { ...report.rto, modelledAwsSeconds: 1096, fromDecisionSeconds: 466, detection } };
    const row = drillSummary([detected], 10)
      .split('\n')
      .find((line) => line.includes('region-loss')) as string;
    expect(row.trim().split(/\s{2,}/)[4]).toBe('1096 s (466 s)');
    const markdown = drillMarkdown(detected);
    expect(markdown).toContain('| RTO | 1.0 s | 1096 s from the fault (466 s from the decision), DNS tail 150 s included |');
    expect(markdown).toContain('| the operator starts the runbook | 600 | tier config |');
    const lanes = (timelineSpec(detected) as { layer: { data?: { values?: { lane: string; end: number }[] } }[] }).layer[0]?.data?.values;
    expect(lanes?.find((l) => l.lane === 'detection and the decision to start')).toMatchObject({ end: 630 });
  });

  test('the timeline says neither passed nor met for the RTO, in its title or its marks', async () => {
    const spec = timelineSpec(report) as { title: { text: string; subtitle: string[] } };
    expect(spec.title.text).toBe('Drill region-loss: OBJECTIVE MISSED');
    expect(spec.title.subtitle).toContain('RTO objective missed: modelled 466 s > 300 s');
    const svg = await timelineSvg(report);
    expect(svg).not.toMatch(/passed/i);
    const texts = [...svg.matchAll(/>([^<>]+)</g)].map((m) => (m[1] as string).replaceAll('&gt;', '>').replaceAll('&lt;', '<'));
    expect(texts).toContain('RTO objective missed: modelled 466 s > 300 s');
    expect(texts).toContain('RTO 466 s > 300 s');
    for (const text of texts.filter((t) => /RTO/.test(t))) expect(text).not.toMatch(/\bmet\b/i);
  });
});
