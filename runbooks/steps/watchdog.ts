/** Every 10 seconds in every region: is the primary still there? The evidence an automatic failover starts on. */
import { DescribeJobQueuesCommand } from '@aws-sdk/client-batch';
import { regionalApiDomainName } from '../../constructs/routing/host-names';
import { WRITE_GATE_METRIC, WRITE_GATE_PATH } from '../../lib/config/naming';
import { withinSeconds } from '../core/deadline';
import type { RunbookDeps } from '../core/env';
import { publishCounts } from '../core/metrics';
import { type LeaseItem, readLease, readLock } from '../core/state-table';
import { aws, parameter, type Step } from '../core/step';
import { PRIMARY_WATCH } from '../definitions/catalogue';
import { codeOf } from './region-failover/plan';

/** What one region's watchdog sees of the primary. */
export interface PrimaryView {
  /** The region holding the newest lease (the highest epoch any table holds), if any table holds one. */
  readonly holder?: string;
  /** The first region in home order that is not the holder: the one that takes over automatically. */
  readonly successor?: string;
  /** The state tables that answered. */
  readonly answered: readonly string[];
  /** The tables where the holder's lease has not been renewed for `PRIMARY_WATCH.staleLeaseSeconds` (or is not there). */
  readonly staleIn: readonly string[];
  /** Stale in a majority of all the tier's state tables, no failover under way and no runbook holding the lock here. */
  readonly stale: boolean;
  /** Why it does not count as stale although tables say so, when that is the case. */
  readonly held?: string;
}

/**
 * The primary as the tier's state tables show it: the holder of the newest lease, and whether that
 * lease has gone without a renewal for `staleLeaseSeconds` in a majority of ALL the tables (so a
 * region that reaches only a minority never concludes anything). A lease that a failover's
 * revocation wrote and its new holder has not renewed yet means a failover is under way, and a lock
 * in this region's table means a runbook is running: neither counts as a lost primary.
 */
export async function viewPrimary(deps: RunbookDeps): Promise<PrimaryView> {
  const { stateRegions, stateTable, regions, region } = deps.env;
  const now = deps.now().getTime();
  const tables = await Promise.all(
    stateRegions.map(async (table) => ({
      table,
      lease: await withinSeconds(
        readLease(deps, table, stateTable).then((l) => ({ l })),
        PRIMARY_WATCH.readDeadlineSeconds,
      ),
    })),
  );
  const answered = tables.filter((t) => t.lease !== undefined);
  const leases = answered.map((t) => t.lease?.l).filter((l): l is LeaseItem => l !== undefined);
  const newest = leases.sort((a, b) => b.epoch - a.epoch)[0];
  const view = { answered: answered.map((t) => t.table) };
  if (!newest) return { ...view, staleIn: [], stale: false };
  const holder = newest.region;
  const staleIn = answered
    .filter(({ lease }) => {
      const l = lease?.l;
      return !(
        l &&
        l.region === holder &&
        l.epoch === newest.epoch &&
        now - Date.parse(l.renewedAt) <= PRIMARY_WATCH.staleLeaseSeconds * 1000
      );
    })
    .map((t) => t.table);
  const successor = regions.find((r) => r !== holder);
  const majority = staleIn.length > stateRegions.length / 2;
  const held = !majority
    ? undefined
    : newest.revoked
      ? `a failover to ${holder} is under way (its lease was taken by a revocation and not renewed yet)`
      : (await readLock(deps, region, stateTable).catch(() => undefined))
        ? `a runbook holds the lock in ${region}`
        : undefined;
  return { ...view, holder, ...(successor ? { successor } : {}), staleIn, stale: majority && !held, ...(held ? { held } : {}) };
}

/** Whether a region's write-gate endpoint (the primary's, for the watchdog) answers open to this region now (2xx). */
export async function primaryGateAnswers(deps: RunbookDeps, primary: string): Promise<boolean> {
  const url = `https://${regionalApiDomainName(codeOf(primary), deps.env.domain)}${WRITE_GATE_PATH}`;
  const status = await deps.probe(url, PRIMARY_WATCH.probeTimeoutSeconds);
  return status !== undefined && status >= 200 && status < 300;
}

/**
 * One pass: this region's view of the primary, published as two MLP/DR metrics of this region, 1 or 0:
 * `PrimaryLeaseStale` (the primary's lease stale in a majority of the tables, in its successor only)
 * and `PrimaryGateUnreachable` (the successor asked the primary's write-gate endpoint and got no
 * open answer). Every other region publishes 0: only the successor's alarms can start a failover.
 */
export const watchPrimary: Step<Record<string, never>, PrimaryView & { gateAnswers?: boolean }> = async (_event, deps) => {
  const { region } = deps.env;
  const view = await viewPrimary(deps);
  const successorHere = view.successor === region && view.holder !== undefined && view.holder !== region;
  const gateAnswers = successorHere && view.holder ? await primaryGateAnswers(deps, view.holder) : undefined;
  // High resolution: the alarms evaluate 10-second periods.
  await publishCounts(
    deps,
    region,
    WRITE_GATE_METRIC.namespace,
    [
      { name: PRIMARY_WATCH.metrics.leaseStale, value: successorHere && view.stale ? 1 : 0 },
      { name: PRIMARY_WATCH.metrics.gateUnreachable, value: successorHere && gateAnswers === false ? 1 : 0 },
    ],
    { highResolution: true },
  );
  return gateAnswers === undefined ? view : { ...view, gateAnswers };
};

/** What a survey saw: the regions whose write gate answered open, and this region's job queues that are not enabled. */
export interface TierSurvey {
  readonly openGates: readonly string[];
  readonly disabledQueues: readonly string[];
}

/**
 * Once an invocation: every region's write-gate endpoint asked in parallel, as Route 53's write-gate
 * checks ask them (an endpoint that does not answer within the probe timeout counts as closed), and
 * this region's Batch job queues described. Published in MLP/DR as `OpenWriteGates` (exactly one is
 * healthy; none is an outage of writes, two a split brain) and `BatchQueuesDisabled`, whose alarm
 * counts only while this region's own gate is open.
 */
export const surveyTier: Step<Record<string, never>, TierSurvey> = async (_event, deps) => {
  const { region, regions } = deps.env;
  const answers = await Promise.all(regions.map(async (r) => ({ region: r, open: await primaryGateAnswers(deps, r) })));
  const queueNames = (await parameter(deps, region, 'compute', 'batch-queues')).split(',').filter(Boolean);
  const queues =
    queueNames.length === 0
      ? []
      : ((await aws(region, () => deps.clients.batch(region).send(new DescribeJobQueuesCommand({ jobQueues: queueNames })))).jobQueues ??
        []);
  const enabled = new Set(queues.filter((q) => q.state === 'ENABLED').map((q) => q.jobQueueName));
  const survey = {
    openGates: answers.filter((a) => a.open).map((a) => a.region),
    // A queue the parameter names that Batch does not describe is as unusable as a disabled one.
    disabledQueues: queueNames.filter((name) => !enabled.has(name)),
  };
  await publishCounts(deps, region, WRITE_GATE_METRIC.namespace, [
    { name: PRIMARY_WATCH.survey.openWriteGates, value: survey.openGates.length },
    { name: PRIMARY_WATCH.survey.batchQueuesDisabled, value: survey.disabledQueues.length },
  ]);
  return survey;
};

/**
 * One scheduled invocation: `PRIMARY_WATCH.passesPerInvocation` passes, `intervalSeconds` apart from
 * the invocation's start. A failed pass does not skip the next; the invocation then fails with the
 * first error. `sleep` is injected so a test need not wait.
 */
export function watchdogInvocation(
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Step<Record<string, never>, { passes: number }> {
  return async (event, deps) => {
    const started = deps.now().getTime();
    const errors: unknown[] = [];
    // Beside the passes, never in their way: a probe that waits out its timeout delays no pass.
    const survey = surveyTier(event, deps).catch((error: unknown) => {
      errors.push(error);
    });
    for (let pass = 0; pass < PRIMARY_WATCH.passesPerInvocation; pass++) {
      const wait = started + pass * PRIMARY_WATCH.intervalSeconds * 1000 - deps.now().getTime();
      if (wait > 0) await sleep(wait);
      await watchPrimary(event, deps).catch((error: unknown) => errors.push(error));
    }
    await survey;
    if (errors.length > 0) throw errors[0];
    return { passes: PRIMARY_WATCH.passesPerInvocation };
  };
}
