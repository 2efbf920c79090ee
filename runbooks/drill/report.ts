import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { LeadTime } from '../local/detection';
import { MODELLED_SECONDS } from '../local/fake-aws';
import type { DrillScenario, Invariant } from './scenarios';
import { type DrillVerdict, type Objective, objectiveText, VERDICT_HEADING } from './verdict';

export interface DrillReport {
  readonly scenario: DrillScenario;
  readonly summary: string;
  /** `failed` when an invariant broke, else `objective-missed` when an objective was missed (an override accepts an RPO miss, never an RTO miss), else `passed`. */
  readonly verdict: DrillVerdict;
  /** The verdict in one line: `invariants held; RTO objective missed: modelled 466 s > 300 s; RPO objective met: ...`. */
  readonly verdictText: string;
  /** True exactly when `verdict` is `passed`. */
  readonly passed: boolean;
  readonly tier: string;
  /** What served PostgreSQL, and for Aurora which documented end its failover was modelled at. */
  readonly database: string;
  readonly regions: readonly string[];
  readonly primaryBefore: string;
  readonly primaryAfter: string;
  /** Status of the scenario's last execution. */
  readonly status: string;
  readonly override?: string;
  /** Whether the cache ran on real servers or was modelled. */
  readonly cache: string;
  readonly rto: {
    /** From the fault to the first write acknowledged by the new primary, on this machine. */
    readonly measuredSeconds?: number;
    /**
     * From the fault to clients writing to the new primary in the modelled AWS timeline: the time to
     * start the runbook (`detection`), the runbook until the new primary is writable, the DNS tail.
     * What the RTO objective is judged on.
     */
    readonly modelledAwsSeconds?: number;
    /** The same from the runbook's start (the operator's decision, or a planned runbook's start). */
    readonly fromDecisionSeconds?: number;
    /** From the fault to the runbook's start, for an unplanned region failover; empty when a person starts it on purpose. */
    readonly detection: readonly { readonly what: string; readonly seconds: number; readonly source: string }[];
    readonly objectiveSeconds: number;
    readonly manualRunbookSeconds: { readonly seed003: readonly [number, number]; readonly seed004: number };
    readonly dnsTailSeconds: number;
  };
  readonly rpo: {
    /** Writes the old primary acknowledged that the new one does not hold. */
    readonly lostWrites: number;
    /** The span of time those writes cover, by their timestamps. */
    readonly lostSeconds: number;
    readonly acknowledgedWrites: number;
    readonly objectiveSeconds: number;
    readonly cache?: { readonly lostWrites: number; readonly acknowledgedWrites: number };
  };
  /** The RTO judged on the modelled AWS timeline, the RPO on the writes measured lost. */
  readonly objectives: readonly Objective[];
  readonly invariants: readonly Invariant[];
  readonly executions: readonly { readonly machine: string; readonly region: string; readonly status: string; readonly error?: string }[];
  readonly steps: readonly {
    readonly name: string;
    readonly region: string;
    readonly start: string;
    readonly end: string;
    /** Modelled seconds from the fault. */
    readonly startSeconds: number;
    readonly endSeconds: number;
    readonly outcome: string;
    readonly error?: string;
  }[];
  readonly facts: readonly { readonly operation: string; readonly seconds: number; readonly source: string }[];
  readonly notes: readonly string[];
}

/** The modelled durations the fakes use, with their sources, and the DNS tail: the report prints them. */
export function modelledFacts(dnsTail: readonly LeadTime[]): DrillReport['facts'] {
  return [
    ...Object.entries(MODELLED_SECONDS).map(([operation, fact]) => ({ operation, seconds: fact.seconds, source: fact.source })),
    ...dnsTail.map((part) => ({ operation: 'dnsTail', seconds: part.seconds, source: `${part.what} [${part.source}]` })),
  ];
}

const seconds = (value: number | undefined, digits = 1) => (value === undefined ? '-' : `${value.toFixed(digits)} s`);

export function drillMarkdown(report: DrillReport): string {
  const manual = report.rto.manualRunbookSeconds;
  return [
    `# Drill ${report.scenario}: ${VERDICT_HEADING[report.verdict]}`,
    '',
    report.summary,
    '',
    `Verdict: ${report.verdictText}.`,
    '',
    `${report.tier} across ${report.regions.join(', ')}; primary ${report.primaryBefore} -> ${report.primaryAfter}; last execution ${report.status}. Database: ${report.database}. Cache: ${report.cache}.`,
    ...(report.override ? ['', `Override: ${report.override}`] : []),
    '',
    '| | measured locally | modelled for AWS | objective | manual runbooks |',
    '| --- | --- | --- | --- | --- |',
    `| RTO | ${seconds(report.rto.measuredSeconds)} | ${seconds(report.rto.modelledAwsSeconds, 0)} from the fault${report.rto.detection.length ? ` (${seconds(report.rto.fromDecisionSeconds, 0)} from the decision)` : ''}, DNS tail ${report.rto.dnsTailSeconds} s included | ${report.rto.objectiveSeconds} s (seed 003) | ${manual.seed003[0]}-${manual.seed003[1]} s (seed 003), ${manual.seed004} s (seed 004) |`,
    `| RPO | ${report.rpo.lostWrites} of ${report.rpo.acknowledgedWrites} acknowledged writes, ${report.rpo.lostSeconds.toFixed(1)} s${report.rpo.cache ? `; cache: ${report.rpo.cache.lostWrites} of ${report.rpo.cache.acknowledgedWrites}` : ''} | - | ${report.rpo.objectiveSeconds} s | - |`,
    '',
    ...(report.rto.detection.length
      ? [
          '## From the fault to the runbook’s start (modelled)',
          '',
          '| | seconds | source |',
          '| --- | --- | --- |',
          ...report.rto.detection.map((d) => `| ${d.what} | ${d.seconds} | ${d.source} |`),
          '',
        ]
      : []),
    '## Objectives',
    '',
    ...report.objectives.map((o) => `- ${o.outcome === 'missed' ? `**${objectiveText(o)}**` : objectiveText(o)} (${o.name})`),
    '',
    '## Invariants',
    '',
    ...report.invariants.map((i) => `- ${i.held ? 'held' : '**BROKEN**'}: ${i.name} (${i.detail})`),
    '',
    '## Executions',
    '',
    ...report.executions.map((e) => `- ${e.machine} in ${e.region}: ${e.status}${e.error ? ` (${e.error})` : ''}`),
    ...(report.notes.length > 0 ? ['', '## Notes', '', ...report.notes.map((n) => `- ${n}`)] : []),
    '',
    '## Steps (modelled AWS seconds from the fault)',
    '',
    '| step | region | start | end | outcome |',
    '| --- | --- | --- | --- | --- |',
    ...report.steps.map(
      (s) =>
        `| ${s.name} | ${s.region} | ${s.startSeconds.toFixed(0)} | ${s.endSeconds.toFixed(0)} | ${s.outcome}${s.error ? ` (${s.error})` : ''} |`,
    ),
    '',
    '## Modelled durations',
    '',
    '| operation | seconds | source |',
    '| --- | --- | --- |',
    ...report.facts.map((f) => `| ${f.operation} | ${f.seconds} | ${f.source} |`),
    '',
  ].join('\n');
}

const OUTCOME_CELL: Readonly<Record<Objective['outcome'], string>> = {
  met: 'met',
  missed: 'MISSED',
  accepted: 'missed, accepted',
  'not-applicable': 'n/a',
};

/** The end of `--scenario all`: how many scenarios held their invariants and met their objectives, then a row per scenario. */
export function drillSummary(reports: readonly DrillReport[], wallSeconds: number): string {
  const count = (verdict: DrillVerdict) => reports.filter((r) => r.verdict === verdict).length;
  const missed = (objective: Objective['objective']) =>
    reports.filter((r) => r.objectives.some((o) => o.objective === objective && o.outcome === 'missed')).length;
  const accepted = reports.filter((r) => r.objectives.some((o) => o.outcome === 'accepted')).length;
  const cell = (r: DrillReport, objective: Objective['objective']) =>
    OUTCOME_CELL[r.objectives.find((o) => o.objective === objective)?.outcome ?? 'not-applicable'];
  const verdicts = [
    [count('passed'), 'passed'],
    [count('objective-missed'), 'missed an objective'],
    [count('failed'), 'FAILED (an invariant broke)'],
  ] as const;
  return [
    `== ${reports.length} scenarios in ${wallSeconds.toFixed(0)} s: ${verdicts
      .filter(([n]) => n > 0)
      .map(([n, what]) => `${n} ${what}`)
      .join(', ')}; invariants held in ${reports.length - count('failed')} of ${reports.length}; ` +
      `RTO objective missed in ${missed('RTO')} (modelled for AWS), RPO objective missed in ${missed('RPO')}` +
      `${accepted > 0 ? `, missed but accepted by the override in ${accepted}` : ''}`,
    '  verdict           scenario              last execution  RTO measured  RTO modelled: from the fault (decision)  RTO objective     lost writes (s)  RPO objective',
    ...reports.map(
      (r) =>
        `  ${VERDICT_HEADING[r.verdict].padEnd(16)}  ${r.scenario.padEnd(20)}  ${r.status.padEnd(14)}  ${seconds(r.rto.measuredSeconds).padStart(12)}  ${`${seconds(r.rto.modelledAwsSeconds, 0)}${r.rto.detection.length && r.rto.fromDecisionSeconds !== undefined ? ` (${seconds(r.rto.fromDecisionSeconds, 0)})` : ''}`.padStart(39)}  ${`${cell(r, 'RTO')} (${r.rto.objectiveSeconds} s)`.padEnd(16)}  ${`${r.rpo.lostWrites} of ${r.rpo.acknowledgedWrites} (${r.rpo.lostSeconds.toFixed(1)})`.padEnd(15)}  ${cell(r, 'RPO')} (${r.rpo.objectiveSeconds} s)`,
    ),
  ].join('\n');
}

/**
 * Each step's span per region after the fault, in modelled seconds: from its first attempt to its
 * last, so a polling step's retries show as the wait they are.
 */
export function stepSpans(report: DrillReport): { lane: string; name: string; start: number; end: number; outcome: string }[] {
  const spans = new Map<string, { lane: string; name: string; start: number; end: number; outcome: string }>();
  for (const step of report.steps.filter((s) => s.endSeconds >= 0)) {
    const lane = `${step.region}  ${step.name}`;
    const span = spans.get(lane);
    spans.set(lane, {
      lane,
      name: step.name,
      start: Math.min(span?.start ?? step.startSeconds, step.startSeconds),
      end: Math.max(span?.end ?? step.endSeconds, step.endSeconds),
      outcome: step.outcome,
    });
  }
  return [...spans.values()];
}

/** The timeline: each step a bar in its region's lane (modelled seconds from the fault), with the fault, the RTO and the objective marked. */
export function timelineSpec(report: DrillReport): TopLevelSpec {
  const steps = stepSpans(report).map((b) => ({ ...b, start: Math.max(0, b.start), end: Math.max(b.end, Math.max(0, b.start) + 2) }));
  const end = Math.max(report.rto.objectiveSeconds, report.rto.modelledAwsSeconds ?? 0, ...steps.map((s) => s.end));
  const started = report.rto.detection.reduce((sum, d) => sum + d.seconds, 0);
  if (started > 0)
    steps.unshift({ lane: 'detection and the decision to start', name: 'detection', start: 0, end: started, outcome: 'detection' });
  if (report.primaryBefore !== report.primaryAfter || report.status !== 'SUCCEEDED') {
    steps.unshift({ lane: `${report.primaryBefore}  (the old primary)`, name: 'fault', start: 0, end, outcome: 'fault' });
  }
  if (report.rto.modelledAwsSeconds !== undefined && report.rto.dnsTailSeconds > 0) {
    const start = report.rto.modelledAwsSeconds - report.rto.dnsTailSeconds;
    steps.push({ lane: 'DNS: gate alarm, health check, TTL', name: 'dns', start, end: report.rto.modelledAwsSeconds, outcome: 'DNS tail' });
  }
  const marks = [
    { at: 0, label: 'fault' },
    { at: report.rto.objectiveSeconds, label: `objective ${report.rto.objectiveSeconds} s` },
    ...(report.rto.modelledAwsSeconds === undefined
      ? []
      : [
          {
            at: report.rto.modelledAwsSeconds,
            label: `RTO ${report.rto.modelledAwsSeconds.toFixed(0)} s${report.rto.modelledAwsSeconds > report.rto.objectiveSeconds ? ` > ${report.rto.objectiveSeconds} s` : ''}`,
          },
        ]),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Drill ${report.scenario}: ${VERDICT_HEADING[report.verdict]}`,
      subtitle: [
        `${report.tier}, ${report.primaryBefore} -> ${report.primaryAfter}; RPO ${report.rpo.lostWrites} writes (${report.rpo.lostSeconds.toFixed(1)} s); modelled AWS time`,
        ...report.verdictText.split('; '),
      ],
    },
    width: 640,
    layer: [
      {
        data: { values: steps },
        mark: { type: 'bar', height: 8 },
        encoding: {
          y: { field: 'lane', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
          x: { field: 'start', type: 'quantitative', title: 'seconds from the fault (modelled AWS time)' },
          x2: { field: 'end' },
          color: {
            field: 'outcome',
            type: 'nominal',
            scale: {
              domain: ['succeeded', 'failed', 'fault', 'detection', 'DNS tail'],
              range: ['#4c78a8', '#e45756', '#bab0ac', '#f58518', '#9ecae9'],
            },
          },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: { x: { field: 'at', type: 'quantitative' }, color: { value: '#333' } },
      },
      {
        data: { values: marks },
        mark: { type: 'text', angle: 270, align: 'left', baseline: 'bottom', dx: 4, dy: -2, fontSize: 10 },
        encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    ],
  };
}

/** Render the timeline to SVG with Vega (no browser: the SVG renderer runs in Node). */
export async function timelineSvg(report: DrillReport): Promise<string> {
  const view = new vega.View(vega.parse(compile(timelineSpec(report)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeDrillReport(report: DrillReport, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'report.json'), join(dir, 'report.md'), join(dir, 'timeline.svg')];
  writeFileSync(files[0] as string, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files[1] as string, drillMarkdown(report));
  writeFileSync(files[2] as string, await timelineSvg(report));
  return files;
}
