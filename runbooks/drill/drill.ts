import type { PlatformConfig } from '../../lib/config';
import { WRITE_LEASE } from '../definitions/catalogue';
import type { DeployedAssembly } from '../local/deployed-assembly';
import { detectionLead, writeGateTail } from '../local/detection';
import { type DrillReport, modelledFacts } from './report';
import { type SelfFencingWindow, sampledInvariants } from './sampler';
import { DRILL_SCENARIOS, type DrillScenario, type Invariant, SCENARIOS, type ScenarioOutcome, stateTablesOf } from './scenarios';
import { judgeDrill, judgeObjectives } from './verdict';
import { type Ack, DrillWorld, HEARTBEAT_INTERVAL_MS } from './world';

export { DRILL_SCENARIOS, type DrillReport, type DrillScenario, SCENARIOS };

export interface DrillOptions {
  readonly scenario: DrillScenario;
  /** The deployment drilled: tier, regions and primary (`-c primaryRegion`) as `cdk synth` would resolve them. */
  readonly config: PlatformConfig;
  /**
   * The synthesized stacks (every region's, the compute stacks included) of a deployment's config: the
   * drilled one, and each later deploy a scenario makes (a re-protection's `-c rebuiltReplicas`).
   */
  readonly synthesize: (config: PlatformConfig) => DeployedAssembly;
  readonly log?: (line: string) => void;
  /**
   * Where in the heartbeat cycle the fault lands: the writers run 1.0 to 2.0 s, by seed, before it.
   * @default 1
   */
  readonly seed?: number;
  /**
   * Which documented end an Aurora global database's failover is modelled at: "under a minute"
   * (optimistic) or "a few minutes" (pessimistic). The RTO objective is judged at the end drilled.
   * @default 'pessimistic'
   */
  readonly auroraEnd?: 'optimistic' | 'pessimistic';
}

/** Compress consecutive repeats: the regions that took writes, in order. */
function writeOrder(acks: readonly Ack[]): string[] {
  const order: string[] = [];
  for (const ack of [...acks].sort((a, b) => a.at - b.at)) if (order.at(-1) !== ack.region) order.push(ack.region);
  return order;
}

interface LossFigures {
  readonly acknowledged: number;
  readonly lost: Ack[];
  readonly lostSeconds: number;
}

/** Writes `from` acknowledged (before `to` took over) that `to` does not hold, and the span of time they cover. */
function loss(acks: readonly Ack[], from: string, present: Set<number>, before: number): LossFigures {
  const acked = acks.filter((a) => a.region === from && a.at < before);
  const lost = acked.filter((a) => !present.has(a.seq));
  const lastKept = acked.filter((a) => present.has(a.seq)).at(-1);
  const [firstLost, lastLost] = [lost[0], lost.at(-1)];
  // From the newest write kept (or, when none was, one interval before the first lost) to the newest lost.
  const keptUntil = lastKept?.writtenAt ?? (firstLost ? firstLost.writtenAt - HEARTBEAT_INTERVAL_MS : 0);
  const lostSeconds = lastLost ? (lastLost.writtenAt - keptUntil) / 1000 : 0;
  return { acknowledged: acked.length, lost, lostSeconds };
}

/**
 * A former primary that comes back after a region loss answers as it was, writable, until its gate
 * keeper finds another region's gate opened later and fences it: within the self-fencing bound of its
 * return (`WRITE_LEASE`). A second writable database inside that window is what the design allows.
 */
function selfFencingWindows(world: DrillWorld): SelfFencingWindow[] {
  return world.returns.map(({ region, at }) => ({ region, from: at, until: at + WRITE_LEASE.boundSeconds * 1000 }));
}

/**
 * Every write the platform's writers had acknowledged is on the final primary, or counted in the
 * report's loss (`counted`: the writes of the old primary the new one lacks); a write that is
 * neither vanished without the report saying so.
 */
async function accountForAcks(
  world: DrillWorld,
  finalPrimary: string,
  counted: { database: LossFigures; cache?: LossFigures } | undefined,
): Promise<Invariant> {
  const name = `every acknowledged write is on the final primary or counted as lost`;
  if (world.lost.has(finalPrimary)) {
    return { name, held: true, detail: `the final primary ${finalPrimary} is lost: its writes are the region's, none can be checked` };
  }
  const check = async (label: string, acks: readonly Ack[], held: Set<number>, lost: readonly Ack[] = []) => {
    const countedLost = new Set(lost.map((a) => a.seq));
    const unaccounted = acks.filter((a) => !held.has(a.seq) && !countedLost.has(a.seq));
    return { label, acks: acks.length, lost: lost.length, unaccounted };
  };
  const parts = [
    await check('database', world.pgWriter.acks, await world.heartbeatsOn(finalPrimary), counted?.database.lost),
    ...(world.cacheWriter
      ? [await check('cache', world.cacheWriter.acks, await world.cacheHeartbeatsOn(finalPrimary), counted?.cache?.lost)]
      : []),
  ];
  return {
    name,
    held: parts.every((p) => p.unaccounted.length === 0),
    detail: parts
      .map(
        (p) =>
          `${p.label}: ${p.acks} acknowledged, ${p.acks - p.lost - p.unaccounted.length} on ${finalPrimary}, ${p.lost} counted lost` +
          (p.unaccounted.length
            ? `, ${p.unaccounted.length} NEITHER (seq ${p.unaccounted
                .slice(0, 5)
                .map((a) => `${a.seq}@${a.region}`)
                .join(', ')})`
            : ''),
      )
      .join('; '),
  };
}

/**
 * One drill: real servers per region, the synthesized runbooks run locally over the simulated
 * control plane, the scenario's fault injected; then RTO and RPO measured on the real servers, the
 * design's invariants checked, and everything gathered into a report.
 */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const { scenario, config } = options;
  const spec = SCENARIOS[scenario];
  if (config.regions.length < spec.minRegions || stateTablesOf(config) < (spec.minStateTables ?? 0)) {
    throw new Error(
      `scenario ${scenario} needs at least ${spec.minRegions} regions and ${spec.minStateTables ?? spec.minRegions} state tables; the layout has ${config.regions.length} and ${stateTablesOf(config)}`,
    );
  }
  const log = options.log ?? (() => undefined);
  const world = await DrillWorld.start({
    config,
    synthesize: options.synthesize,
    log,
    warmUpMs: 1_000 + (((options.seed ?? 1) * 7_919) % 1_000),
  });
  world.platform.aws.auroraFailoverEnd = options.auroraEnd ?? 'pessimistic';
  world.log(
    `PostgreSQL 17 in ${world.regions.join(', ')} (primary ${config.primaryRegion.name}, the others streaming from it)` +
      (world.cache ? `; ${world.cacheServer} likewise` : '; no Redis or Valkey installed: the cache is modelled') +
      '; all on loopback',
  );
  try {
    world.sampler.start();
    const outcome = await spec.run(world);
    const firstOnTarget = await world.waitForWriteIn(outcome.to, outcome.faultAt, outcome.last.status === 'SUCCEEDED' ? 5_000 : 300);
    await new Promise((r) => setTimeout(r, 300));
    await world.stopWriters();
    await world.sampler.stop();
    return await measure(world, scenario, outcome, firstOnTarget);
  } finally {
    await world.close();
  }
}

async function measure(world: DrillWorld, scenario: DrillScenario, outcome: ScenarioOutcome, firstOnTarget: Ack | undefined) {
  const { platform } = world;
  const acks = world.pgWriter.acks;
  const switchedAt = firstOnTarget?.at ?? Number.POSITIVE_INFINITY;
  const before = outcome.from === outcome.to ? Number.POSITIVE_INFINITY : switchedAt;
  const database = loss(acks, outcome.from, await world.heartbeatsOn(outcome.to).catch(() => new Set<number>()), before);
  const cache = world.cacheWriter
    ? loss(world.cacheWriter.acks, outcome.from, await world.cacheHeartbeatsOn(outcome.to).catch(() => new Set<number>()), before)
    : undefined;
  const order = writeOrder(acks);
  const recovered = outcome.last.status === 'SUCCEEDED';
  const accounted = await accountForAcks(world, recovered ? outcome.to : outcome.from, recovered ? { database, cache } : undefined);
  const writable = [...world.tasks].reverse().find((t) => t.state === outcome.writableStep && t.outcome === 'succeeded');
  const decidedAt = outcome.virtualDecisionAt ?? outcome.virtualFaultAt;
  const fromDecision = recovered && writable ? (writable.end.getTime() - decidedAt) / 1000 + outcome.dnsTailSeconds : undefined;
  // An unplanned region failover starts after the fault is detected and someone (or something) decides.
  const detection =
    outcome.planned || outcome.from === outcome.to ? [] : (outcome.detection ?? detectionLead(platform.assembly, world.config));
  const detected = detection.reduce((sum, d) => sum + d.seconds, 0);
  const modelled = fromDecision === undefined ? undefined : fromDecision + detected;
  const measured = firstOnTarget ? (firstOnTarget.at - outcome.faultAt) / 1000 : undefined;
  const openGates = world.regions.filter((r) => world.gateOpen(r));
  const writableChecks = await Promise.all(openGates.map(async (r) => ({ region: r, writable: await world.isWritablePrimary(r) })));
  const callsToLost = platform.aws.calls.slice(outcome.callsAtFault ?? 0).filter((c) => c.region === outcome.lostRegion);
  const attemptedRegionCalls = callsToLost.length;
  const failedRegionCalls = callsToLost.filter((c) => !c.error).length;

  const invariants: Invariant[] = [
    {
      name: `the last execution ended ${outcome.expectedStatus}, as the scenario expects`,
      held: outcome.last.status === outcome.expectedStatus,
      detail: `${outcome.last.status}${outcome.last.cause ? `: ${outcome.last.cause.slice(0, 200)}` : ''}`,
    },
    {
      name: 'no split brain: at most one region took writes at a time, in the expected order',
      held: order.join(' > ') === outcome.expectedWriteOrder.join(' > '),
      detail: `writes acknowledged by ${order.join(' > ') || 'nobody'}; expected ${outcome.expectedWriteOrder.join(' > ')}`,
    },
    {
      name: 'the write gate is open only on a writable primary',
      held: writableChecks.every((c) => c.writable) && openGates.length <= 1,
      detail: writableChecks.map((c) => `${c.region}: gate open, ${c.writable ? 'writable' : 'NOT writable'}`).join('; ') || 'no gate open',
    },
    ...sampledInvariants(world.sampler.samples, outcome.virtualFaultAt, selfFencingWindows(world)),
    accounted,
    ...(outcome.lostRegion
      ? [
          {
            name: 'no call to the failed region was needed to complete',
            held: failedRegionCalls === 0 && (outcome.expectedStatus !== 'SUCCEEDED' || recovered),
            detail: `${attemptedRegionCalls} call(s) to ${outcome.lostRegion} attempted, ${failedRegionCalls} answered; the last execution ${outcome.last.status} without it`,
          },
        ]
      : []),
    ...(outcome.planned
      ? [
          {
            name: 'planned mode lost no acknowledged write',
            held: database.lost.length === 0 && (cache?.lost.length ?? 0) === 0,
            detail: `${database.lost.length} database and ${cache?.lost.length ?? 'modelled'} cache write(s) missing on ${outcome.to}`,
          },
        ]
      : []),
    ...outcome.invariants,
  ];
  // The RTO is judged on the modelled AWS timeline: the local wall time (a second or two) says nothing of AWS.
  const objectives = judgeObjectives({
    recoveryExpected: outcome.expectedStatus === 'SUCCEEDED',
    rto: { modelledAwsSeconds: modelled, objectiveSeconds: outcome.objectives.rtoSeconds },
    rpo: { lostWrites: database.lost.length, lostSeconds: database.lostSeconds, objectiveSeconds: outcome.objectives.rpoSeconds },
    override: outcome.override,
  });
  const { verdict, verdictText } = judgeDrill(invariants, objectives);
  const t0 = decidedAt;
  const report: DrillReport = {
    scenario,
    summary: '',
    verdict,
    verdictText,
    passed: verdict === 'passed',
    tier: platform.tier,
    database:
      world.config.databaseEngine === 'aurora-postgresql-global'
        ? `aurora-postgresql-global, its failover modelled at the ${world.platform.aws.auroraFailoverEnd} end`
        : world.config.databaseEngine,
    regions: world.regions,
    primaryBefore: world.config.primaryRegion.name,
    primaryAfter: recovered ? outcome.to : outcome.from,
    status: outcome.last.status,
    override: outcome.override,
    cache: world.cache ? `${world.cacheServer} (real servers, replicating)` : 'modelled: no redis-server or valkey-server installed',
    rto: {
      measuredSeconds: measured,
      modelledAwsSeconds: modelled,
      fromDecisionSeconds: fromDecision,
      detection,
      objectiveSeconds: outcome.objectives.rtoSeconds,
      manualRunbookSeconds: { seed003: [900, 1800], seed004: world.config.tier.recovery.manualRegionRunbookSeconds },
      dnsTailSeconds: outcome.dnsTailSeconds,
    },
    rpo: {
      lostWrites: database.lost.length,
      lostSeconds: Number(database.lostSeconds.toFixed(3)),
      acknowledgedWrites: database.acknowledged,
      objectiveSeconds: outcome.objectives.rpoSeconds,
      cache: cache ? { lostWrites: cache.lost.length, acknowledgedWrites: cache.acknowledged } : undefined,
    },
    objectives,
    invariants,
    executions: world.executions.map((e) => ({
      machine: e.machine,
      region: e.region,
      status: e.result.status,
      error: e.result.error,
    })),
    steps: world.tasks.map((t) => ({
      name: t.state,
      region: t.region,
      start: t.start.toISOString(),
      end: t.end.toISOString(),
      startSeconds: (t.start.getTime() - t0) / 1000 + detected,
      endSeconds: (t.end.getTime() - t0) / 1000 + detected,
      outcome: t.outcome,
      error: t.error,
    })),
    facts: modelledFacts(writeGateTail(platform.assembly, world.config, outcome.to)),
    notes: outcome.notes,
  };
  return { ...report, summary: SCENARIOS[scenario].summary };
}
