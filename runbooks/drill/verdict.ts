import type { Invariant } from './scenarios';

/**
 * How one objective came out: met; missed; missed but accepted by the runbook's override (the RPO
 * only); or not applicable, when the scenario expects no recovery.
 */
export type ObjectiveOutcome = 'met' | 'missed' | 'accepted' | 'not-applicable';

export interface Objective {
  readonly objective: 'RTO' | 'RPO';
  /** What is judged, and on which figure. */
  readonly name: string;
  readonly outcome: ObjectiveOutcome;
  /** The figure against the objective, e.g. `modelled 466 s > 300 s`. */
  readonly detail: string;
}

/**
 * A drill's verdict: `passed` when every invariant held and no objective was missed (an RPO miss
 * accepted by an override, or an objective that does not apply, is not a miss); `objective-missed`
 * when every invariant held but an objective was missed; `failed` when an invariant broke.
 */
export type DrillVerdict = 'passed' | 'objective-missed' | 'failed';

export interface ObjectiveFigures {
  /** Whether the scenario expects a recovery (its last execution to succeed); without one neither objective applies. */
  readonly recoveryExpected: boolean;
  readonly rto: {
    /** From the fault to the new primary writable in the modelled AWS timeline, DNS tail included; none without a recovery. */
    readonly modelledAwsSeconds?: number;
    readonly objectiveSeconds: number;
  };
  readonly rpo: {
    readonly lostWrites: number;
    readonly lostSeconds: number;
    readonly objectiveSeconds: number;
  };
  /** The runbook input accepting a loss beyond the RPO: it accepts an RPO miss, never an RTO miss. */
  readonly override?: string;
}

/**
 * Seconds against an objective as the report's tables print them, to `digits` decimals (none when
 * whole: `483 s`, `76 s`, `1.6 s`), and more where rounding would hide a miss (`300.4 s > 300 s`).
 */
function secondsText(value: number, objective: number, digits: number): string {
  const shown = Number(value.toFixed(digits));
  return `${shown === objective && value !== objective ? Number(value.toFixed(3)) : shown} s`;
}

const NO_RECOVERY = 'the scenario expects its last execution to fail, with no recovery';

/**
 * The RTO judged on the modelled AWS timeline (the local wall time says nothing of AWS), the RPO on
 * the writes measured lost on the real servers.
 */
export function judgeObjectives(figures: ObjectiveFigures): Objective[] {
  const { rto, rpo } = figures;
  const rtoName = `RTO within ${rto.objectiveSeconds} s on the modelled AWS timeline, DNS tail included`;
  const rpoName = `RPO within ${rpo.objectiveSeconds} s, measured by the acknowledged writes lost on the real servers`;
  if (!figures.recoveryExpected) {
    return [
      { objective: 'RTO', name: rtoName, outcome: 'not-applicable', detail: NO_RECOVERY },
      { objective: 'RPO', name: rpoName, outcome: 'not-applicable', detail: NO_RECOVERY },
    ];
  }
  const modelled = rto.modelledAwsSeconds;
  const rtoObjective: Objective =
    modelled === undefined
      ? { objective: 'RTO', name: rtoName, outcome: 'missed', detail: 'no recovery: the new primary never became writable' }
      : {
          objective: 'RTO',
          name: rtoName,
          outcome: modelled <= rto.objectiveSeconds ? 'met' : 'missed',
          detail: `modelled ${secondsText(modelled, rto.objectiveSeconds, 0)} ${modelled <= rto.objectiveSeconds ? '<=' : '>'} ${rto.objectiveSeconds} s`,
        };
  // An RPO of 0 is judged on the writes themselves: any lost write misses it, however short its span.
  const rpoMet = rpo.objectiveSeconds === 0 ? rpo.lostWrites === 0 : rpo.lostSeconds <= rpo.objectiveSeconds;
  const lost =
    rpo.objectiveSeconds === 0
      ? `${rpo.lostWrites} acknowledged write(s) lost, objective 0`
      : `lost ${secondsText(rpo.lostSeconds, rpo.objectiveSeconds, 1)} ${rpoMet ? '<=' : '>'} ${rpo.objectiveSeconds} s`;
  const rpoObjective: Objective = rpoMet
    ? { objective: 'RPO', name: rpoName, outcome: 'met', detail: lost }
    : figures.override !== undefined
      ? { objective: 'RPO', name: rpoName, outcome: 'accepted', detail: `${lost}, accepted by the override` }
      : { objective: 'RPO', name: rpoName, outcome: 'missed', detail: lost };
  return [rtoObjective, rpoObjective];
}

/** One objective as a line: `RTO objective missed: modelled 466 s > 300 s`. */
export function objectiveText(objective: Objective): string {
  const outcome = { met: 'met', missed: 'missed', accepted: 'missed', 'not-applicable': 'not applicable' }[objective.outcome];
  return `${objective.objective} objective ${outcome}: ${objective.detail}`;
}

/** The verdict, and one line saying why: `invariants held; RTO objective missed: modelled 466 s > 300 s; RPO objective met: ...`. */
export function judgeDrill(
  invariants: readonly Invariant[],
  objectives: readonly Objective[],
): { readonly verdict: DrillVerdict; readonly verdictText: string } {
  const broken = invariants.filter((i) => !i.held);
  const verdict: DrillVerdict =
    broken.length > 0 ? 'failed' : objectives.some((o) => o.outcome === 'missed') ? 'objective-missed' : 'passed';
  const head = broken.length === 0 ? 'invariants held' : `${broken.length} invariant(s) broken: ${broken.map((i) => i.name).join('; ')}`;
  return { verdict, verdictText: [head, ...objectives.map(objectiveText)].join('; ') };
}

/** What the verdict heads a report with. */
export const VERDICT_HEADING: Readonly<Record<DrillVerdict, string>> = {
  passed: 'passed',
  'objective-missed': 'OBJECTIVE MISSED',
  failed: 'FAILED',
};

/** The exit codes of `npm run drill`, and when each is used. A broken invariant outranks a missed objective. */
export const DRILL_EXIT = {
  passed: { code: 0, meaning: 'every scenario passed: every invariant held, every objective met (or not applicable)' },
  failed: { code: 1, meaning: 'an invariant broke (this outranks 3), or the drill could not run' },
  badOptions: { code: 2, meaning: 'bad options' },
  objectiveMissed: { code: 3, meaning: 'every invariant held, but an objective was missed (and no override accepted it)' },
} as const;

export type DrillExit = (typeof DRILL_EXIT)[keyof typeof DRILL_EXIT];

/** How a run of these verdicts exits: 1 if any scenario failed, else 3 if any missed an objective, else 0. */
export function drillExit(verdicts: readonly DrillVerdict[]): DrillExit {
  if (verdicts.includes('failed')) return DRILL_EXIT.failed;
  if (verdicts.includes('objective-missed')) return DRILL_EXIT.objectiveMissed;
  return DRILL_EXIT.passed;
}
