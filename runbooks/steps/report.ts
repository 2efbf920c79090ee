import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PREFLIGHT_METRIC } from '../../lib/config/naming';
import type { RunbookDeps } from '../core/env';
import { publishCounts } from '../core/metrics';
import { databaseEngineOf } from '../core/regional-database';
import { aws, parameter, type Step } from '../core/step';

/** One state of an execution, as the report lists it. */
export interface StepTiming {
  readonly name: string;
  readonly region: string;
  readonly start: string;
  readonly end?: string;
  readonly outcome: 'succeeded' | 'failed' | 'caught' | 'running';
}

export interface RunbookReport {
  readonly runbook: string;
  readonly execution: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly input: unknown;
  readonly primaryBefore?: string;
  readonly primaryAfter?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** From the fault (input `faultDetectedAt`, else the execution's start) to the first acknowledged write on the new primary. */
  readonly rto: { readonly seconds?: number; readonly from: string; readonly objectiveSeconds: number };
  readonly rpo: { readonly lostWrites?: number; readonly lostSeconds?: number; readonly basis?: string; readonly objectiveSeconds: number };
  /** Lag of the tiers measured by their services' metrics at decision time, in seconds. */
  readonly replication?: { readonly postgres?: number; readonly cache?: number; readonly kafka?: number };
  readonly fenced: readonly unknown[];
  readonly error?: { readonly Error: string; readonly Cause: string };
  /** The `cdk deploy` that makes the stacks describe the topology the runbook left. */
  readonly nextDeploy?: string;
  readonly steps: readonly StepTiming[];
}

interface ReportState {
  readonly input?: { readonly mode?: string; readonly faultDetectedAt?: string; readonly targetRegion?: string };
  readonly plan?: {
    readonly sourceRegion: string;
    readonly targetRegion: string;
    readonly go: boolean;
    readonly reasons: readonly string[];
    readonly replicaLagSeconds?: number;
    readonly cacheLagSeconds?: number;
    readonly kafkaLagSeconds?: number;
  };
  readonly fence?: { readonly attempts: readonly unknown[] };
  readonly verify?: { readonly writableAt?: string; readonly rpo?: { lostWrites?: number; lostSeconds?: number; basis?: string } };
  readonly gate?: { readonly openedAt: string };
  readonly error?: { readonly Error: string; readonly Cause: string };
}

/** Per-state timings from the execution history: entered, exited, and how it ended. */
export function timingsFromHistory(events: readonly HistoryEvent[], region: string): StepTiming[] {
  const steps: StepTiming[] = [];
  const open = new Map<string, number>();
  const byId = new Map(events.map((event) => [event.id, event]));
  // Branches of a Parallel state interleave their events: an event belongs to the state whose
  // entry its `previousEventId` chain leads back to, as Step Functions links them.
  const stateOf = (event: HistoryEvent): string | undefined => {
    const seen = new Set<number>();
    let at: HistoryEvent | undefined = event;
    while (at && !seen.has(at.id ?? -1)) {
      seen.add(at.id ?? -1);
      if (at.stateEnteredEventDetails?.name) return at.stateEnteredEventDetails.name;
      at = at.previousEventId === undefined ? undefined : byId.get(at.previousEventId);
    }
    return undefined;
  };
  for (const event of events) {
    const at = event.timestamp ? new Date(event.timestamp).toISOString() : '';
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (entered?.name) {
      open.set(entered.name, steps.length);
      steps.push({ name: entered.name, region, start: at, outcome: 'running' });
      continue;
    }
    const name = exited?.name ?? stateOf(event);
    const index = name === undefined ? undefined : open.get(name);
    if (index === undefined) continue;
    const step = steps[index] as StepTiming;
    if (exited?.name) {
      steps[index] = { ...step, end: at, outcome: step.outcome === 'running' ? 'succeeded' : step.outcome };
      open.delete(exited.name);
    } else if (event.type?.endsWith('Succeeded')) {
      // A retried task that finally succeeded: its earlier failed attempts do not make it failed.
      steps[index] = { ...step, outcome: 'succeeded' };
    } else if (event.type?.endsWith('Failed') || event.type?.endsWith('TimedOut')) {
      steps[index] = { ...step, end: at, outcome: 'failed' };
    }
  }
  return steps;
}

async function history(deps: RunbookDeps, executionArn: string): Promise<HistoryEvent[]> {
  const region = deps.env.region;
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws(region, () =>
      deps.clients
        .sfn(region)
        .send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken, includeExecutionData: false })),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

export function reportMarkdown(report: RunbookReport): string {
  const line = (label: string, value: unknown) => `| ${label} | ${value ?? '-'} |`;
  return [
    `# ${report.runbook}: ${report.outcome}`,
    '',
    '| | |',
    '| --- | --- |',
    line('execution', report.execution),
    line('primary before -> after', `${report.primaryBefore ?? '?'} -> ${report.primaryAfter ?? '?'}`),
    line(
      'RTO',
      report.rto.seconds === undefined
        ? 'not reached'
        : `${report.rto.seconds.toFixed(1)} s from ${report.rto.from} (objective ${report.rto.objectiveSeconds} s)`,
    ),
    line(
      'RPO',
      report.rpo.lostSeconds === undefined
        ? 'not measured'
        : `${report.rpo.lostWrites ?? '?'} write(s), ${report.rpo.lostSeconds.toFixed(1)} s (${report.rpo.basis}; objective ${report.rpo.objectiveSeconds} s)`,
    ),
    line('error', report.error ? `${report.error.Error}: ${report.error.Cause}` : undefined),
    line('next deploy', report.nextDeploy ? `\`${report.nextDeploy}\`` : undefined),
    '',
    '## Fencing',
    '',
    ...(report.fenced.length === 0 ? ['Nothing to fence.'] : report.fenced.map((f) => `- ${JSON.stringify(f)}`)),
    '',
    '## Steps',
    '',
    '| step | region | start | end | outcome |',
    '| --- | --- | --- | --- | --- |',
    ...report.steps.map((s) => `| ${s.name} | ${s.region} | ${s.start} | ${s.end ?? '-'} | ${s.outcome} |`),
    '',
  ].join('\n');
}

/**
 * The report of every execution: per-step times from the execution history, RTO and RPO, what was
 * fenced, the error if any, and the deploy command for the new topology. Written as JSON and
 * Markdown to the region's artifact bucket and announced on the runbook topic.
 */
export const report: Step<ReportState & Record<string, unknown>, RunbookReport> = async ({ state, execution }, deps) => {
  const { env } = deps;
  const region = env.region;
  const finishedAt = deps.now();
  const steps = await history(deps, execution.id)
    .then((events) => timingsFromHistory(events, region))
    .catch(() => []);
  const runbook = execution.id.split(':').at(-2) ?? 'runbook';
  const from = state.input?.faultDetectedAt ?? execution.startTime;
  const writableAt = state.verify?.writableAt;
  const succeeded = !state.error && (state.plan?.go ?? true);
  const primaryAfter = writableAt ? state.plan?.targetRegion : state.plan?.sourceRegion;
  let nextDeploy: string | undefined;
  if (writableAt && state.plan) {
    const rebuilt = await parameter(deps, region, 'topology', 'rebuilt-replicas').catch(() => 'none');
    // The engine as deployed, always: a tier that keeps RDS PostgreSQL against its preset's Aurora would otherwise switch.
    const engine = await databaseEngineOf(deps, region).catch(() => undefined);
    nextDeploy = [
      `npx cdk deploy -c tier=${env.tier} -c regions=${env.regions.join(',')}`,
      engine ? ` -c databaseEngine=${engine}` : '',
      state.plan.targetRegion === env.regions[0] ? '' : ` -c primaryRegion=${state.plan.targetRegion}`,
      rebuilt && rebuilt !== 'none' ? ` -c rebuiltReplicas=${rebuilt}` : '',
      ` --exclusively 'Mlp-${env.tier}-*'`,
    ].join('');
  }
  const result: RunbookReport = {
    runbook,
    execution: execution.id,
    outcome: succeeded ? 'succeeded' : 'failed',
    input: state.input,
    primaryBefore: state.plan?.sourceRegion,
    primaryAfter,
    startedAt: execution.startTime,
    finishedAt: finishedAt.toISOString(),
    rto: { seconds: writableAt ? (Date.parse(writableAt) - Date.parse(from)) / 1000 : undefined, from, objectiveSeconds: env.rtoSeconds },
    rpo: { ...state.verify?.rpo, objectiveSeconds: env.rpoSeconds },
    replication: state.plan
      ? { postgres: state.plan.replicaLagSeconds, cache: state.plan.cacheLagSeconds, kafka: state.plan.kafkaLagSeconds }
      : undefined,
    fenced: state.fence?.attempts ?? [],
    error: state.error,
    nextDeploy,
    steps,
  };
  const key = `dr-reports/${runbook}/${execution.id.split(':').at(-1)}`;
  if (env.reportBucket) {
    const s3 = deps.clients.s3(region);
    await aws(region, () =>
      s3.send(
        new PutObjectCommand({
          Bucket: env.reportBucket,
          Key: `${key}.json`,
          Body: JSON.stringify(result, null, 2),
          ContentType: 'application/json',
        }),
      ),
    );
    await aws(region, () =>
      s3.send(
        new PutObjectCommand({ Bucket: env.reportBucket, Key: `${key}.md`, Body: reportMarkdown(result), ContentType: 'text/markdown' }),
      ),
    );
  }
  if (state.input?.mode === 'preflight') await publishReadiness(deps, succeeded);
  if (env.reportTopicArn) {
    const summary = `${runbook} ${result.outcome}: RTO ${result.rto.seconds?.toFixed(0) ?? '-'} s, RPO ${result.rpo.lostSeconds?.toFixed(0) ?? '-'} s. s3://${env.reportBucket}/${key}.md`;
    await aws(region, () =>
      deps.clients
        .sns(region)
        .send(
          new PublishCommand({ TopicArn: env.reportTopicArn, Subject: `DR ${runbook} ${result.outcome}`.slice(0, 99), Message: summary }),
        ),
    );
  }
  return result;
};

/** A preflight-only run's answer as a metric: the region's not-ready alarm reads it (and alarms when none came). */
async function publishReadiness(deps: RunbookDeps, ready: boolean): Promise<void> {
  await publishCounts(deps, deps.env.region, PREFLIGHT_METRIC.namespace, [{ name: PREFLIGHT_METRIC.metricName, value: ready ? 1 : 0 }]);
}
