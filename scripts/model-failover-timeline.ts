/**
 * The modelled timeline of a region failover of tier1 (us-east-1 -> us-west-2): the synthesized
 * RegionFailover runs locally over the simulated AWS control plane, whose operations take the
 * durations AWS documents (runbooks/local/fake-aws.ts, MODELLED_SECONDS), then the DNS tail.
 * Prints each step's modelled start and end, and the RTO against the objective and the seeds'
 * manual runbooks, from the decision and, for an unplanned failover, from the fault (detection and
 * the start, `runbooks/local/detection.ts`). An Aurora global database's failover is modelled at
 * both ends AWS documents ("under a minute", "a few minutes"), so its RTO is a range. Measured
 * figures, on real servers, come from `npm run drill`.
 *
 *   npm run model:failover [-- planned|unplanned] [--engine rds-postgresql|aurora-postgresql-global]
 *
 * The engine is tier1's (an Aurora global database) unless `--engine` says otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATABASE_ENGINES, resolvePlatformConfig, TIER_PRESETS } from '../lib/config';
import type { DatabaseEngine } from '../lib/config/types';
import { buildPlatform } from '../lib/platform';
import { PRIMARY_WATCH, WRITE_LEASE } from '../runbooks/definitions/catalogue';
import { awaitAutomaticStart } from '../runbooks/local/automatic-start';
import { DeployedAssembly } from '../runbooks/local/deployed-assembly';
import { detectionLead, type LeadTime, writeGateTail } from '../runbooks/local/detection';
import { MODELLED_SECONDS } from '../runbooks/local/fake-aws';
import type { TaskRecord } from '../runbooks/local/local-runbooks';
import { SimulatedPlatform } from '../runbooks/local/simulated-platform';
import { STEPS } from '../runbooks/steps';
import { scriptApp } from './support/app';

// The SDK warns that releases after January 2027 need Node 22; the versions here are pinned, and the warning buries the drill's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type Mode = 'planned' | 'unplanned';
type AuroraEnd = 'optimistic' | 'pessimistic';

function parseArguments(argv: readonly string[]): { mode: Mode; engine: DatabaseEngine } | string {
  let mode: Mode = 'unplanned';
  let engine: DatabaseEngine = TIER_PRESETS.tier1.database.engine;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === 'planned' || arg === 'unplanned') mode = arg;
    else if (arg === '--engine') {
      const value = argv[++i];
      if (!DATABASE_ENGINES.includes(value as DatabaseEngine))
        return `--engine must be one of ${DATABASE_ENGINES.join(', ')}, got ${JSON.stringify(value)}`;
      engine = value as DatabaseEngine;
    } else return `unknown argument ${JSON.stringify(arg)}: expected planned or unplanned, and --engine <${DATABASE_ENGINES.join('|')}>`;
  }
  return { mode, engine };
}

/** One modelled run; returns the RTO from the decision and from the fault (unplanned), in seconds. */
async function modelOnce(
  assemblyDir: string,
  mode: Mode,
  engine: DatabaseEngine,
  end: AuroraEnd,
): Promise<{ fromDecision: number; fromFault?: number } | undefined> {
  const config = resolvePlatformConfig({ tier: 'tier1', account: '111122223333', databaseEngine: engine }).config;
  const platform = new SimulatedPlatform({ config, assembly: DeployedAssembly.fromDirectory(assemblyDir) });
  platform.aws.auroraFailoverEnd = end;
  const [HOME, TARGET] = [platform.primaryRegion, platform.defaultTarget];
  platform.heartbeats(120, mode === 'unplanned' ? 1 : 0);
  const automatic = config.tier.recovery.regionFailoverStart.kind === 'automatic';
  // Where the fault falls in the watchdog's 10-second grid and the lease's 20-second renewals decides how
  // soon it is seen: at the pessimistic end just after a grid point and a renewal, at the optimistic end
  // just before both (the renewal 20 s before, the next one never made).
  const grid = PRIMARY_WATCH.intervalSeconds * 1000;
  const sinceGrid = platform.now().getTime() % grid;
  platform.aws.advance((grid - sinceGrid) / 1000 + (end === 'pessimistic' ? 0.001 : -0.001 - WRITE_LEASE.renewalSeconds));
  // The primary's gate keeper, as it runs every 20 s: its last pass before the fault renews the lease in every table.
  openGate(platform, HOME);
  await STEPS.RefreshGate({ state: {}, execution: { id: 'schedule', startTime: '' } } as never, platform.deps(HOME, 'RefreshGate'));
  if (end === 'optimistic') platform.aws.advance(WRITE_LEASE.renewalSeconds);
  let detection: LeadTime[] = [];
  let input: Record<string, unknown> = { mode, targetRegion: TARGET };
  if (mode === 'unplanned') {
    const fault = platform.now().getTime();
    platform.aws.unreachable.add(HOME);
    platform.db.unreachable.add(HOME);
    if (automatic) {
      // The successor's watchdog, the synthesized alarms and the rule start it: run them on the clock.
      const started = await awaitAutomaticStart(platform, { live: (region) => region !== HOME, maxSeconds: 600 });
      if (!started) throw new Error('no automatic start within 600 s of the fault');
      input = started.input as Record<string, unknown>;
      detection = [
        {
          what: `${HOME}'s lease stale in a majority of the state tables (no renewal for ${PRIMARY_WATCH.staleLeaseSeconds} s) and its write gate not answering, seen by ${TARGET}'s watchdog (every ${PRIMARY_WATCH.intervalSeconds} s); its alarms (10-second periods, 1 and 2 datapoints) and their composite go to ALARM; ${started.ruleName} matches`,
          seconds: (started.alarmedAt.getTime() - fault) / 1000,
          source: 'modelled clock: WatchPrimary, the alarms and the rule as synthesized; CloudWatch user guide, "High-resolution alarms"',
        },
        {
          what: 'EventBridge delivers the event and Step Functions starts the execution',
          seconds: MODELLED_SECONDS.eventBridgeDelivery.seconds,
          source: MODELLED_SECONDS.eventBridgeDelivery.source,
        },
      ];
    } else {
      // The runbook starts at the decision: detection and the start take their modelled time first.
      detection = detectionLead(platform.assembly, config);
      platform.aws.advance(detection.reduce((sum, lead) => sum + lead.seconds, 0));
    }
  }
  const decision = platform.now();
  const tasks: TaskRecord[] = [];
  const result = await platform.run('mlp-tier1-region-failover', input, { onTask: (t) => tasks.push(t) });
  const at = (d: Date) => ((d.getTime() - decision.getTime()) / 1000).toFixed(0).padStart(5);
  const engineLabel = `${engine === 'aurora-postgresql-global' ? 'Aurora global database' : 'RDS'}, ${automatic ? 'started automatically' : 'started by an operator'}, at the ${end} end of the modelled ranges`;
  console.log(
    `\nRegionFailover ${mode}, tier1 us-east-1 -> us-west-2, ${engineLabel} (modelled, virtual seconds from the decision): ${result.status}${result.cause ? ` (${result.cause})` : ''}`,
  );
  for (const t of tasks)
    console.log(`${at(t.start)} s -> ${at(t.end)} s  ${t.state}${t.outcome === 'failed' ? ` (${t.error}, retried)` : ''}`);
  const writable = tasks.find((t) => t.step === 'VerifyWrites' && t.outcome === 'succeeded')?.end;
  if (!writable) return undefined;
  const runbookSeconds = (writable.getTime() - decision.getTime()) / 1000;
  let total = runbookSeconds;
  console.log(`\nfirst write acknowledged by the new primary: ${runbookSeconds.toFixed(0)} s from the decision`);
  for (const tail of writeGateTail(platform.assembly, platform.config, TARGET)) {
    total += tail.seconds;
    console.log(`  + ${tail.seconds} s ${tail.what} [${tail.source}]`);
  }
  console.log(`modelled RTO for clients from the decision: ${minutes(total)}`);
  if (mode !== 'unplanned') return { fromDecision: total };
  const fromDecision = total;
  console.log(`\nbefore the ${automatic ? 'automatic start' : 'decision'}, from the fault:`);
  for (const lead of detection) {
    total += lead.seconds;
    console.log(`  + ${lead.seconds} s ${lead.what} [${lead.source}]`);
  }
  console.log(`modelled RTO for clients from the fault: ${minutes(total)}`);
  return { fromDecision, fromFault: total };
}

const minutes = (s: number) => `${s.toFixed(0)} s (${(s / 60).toFixed(1)} min)`;

async function main(): Promise<number> {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === 'string') {
    console.error(`model:failover: ${parsed}`);
    return 2;
  }
  const { mode, engine } = parsed;
  const outdir = mkdtempSync(join(tmpdir(), 'mlp-model-'));
  try {
    const app = scriptApp(outdir);
    buildPlatform(app, resolvePlatformConfig({ tier: 'tier1', account: '111122223333', databaseEngine: engine }).config);
    app.synth();
    const ends: AuroraEnd[] = ['optimistic', 'pessimistic'];
    const results: { fromDecision: number; fromFault?: number }[] = [];
    for (const end of ends) {
      const result = await modelOnce(outdir, mode, engine, end);
      if (!result) return 1;
      results.push(result);
    }
    const range = (pick: (r: { fromDecision: number; fromFault?: number }) => number | undefined) => {
      const values = results.map(pick).filter((v): v is number => v !== undefined);
      if (values.length === 0) return undefined;
      const [low, high] = [Math.min(...values), Math.max(...values)];
      return low === high ? minutes(low) : `${minutes(low)} to ${minutes(high)}`;
    };
    console.log(
      `\nsummary (${engine}, ${mode}): RTO from the decision ${range((r) => r.fromDecision)}${mode === 'unplanned' ? `, from the fault ${range((r) => r.fromFault)}` : ''}; objective 5 min (seed 003); manual runbooks 15-30 min (seed 003), 23 min (seed 004)`,
    );
    return 0;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().then((code) => {
  process.exitCode = code;
});

/** The primary's write gate open in its state table under epoch 0, as the deployment leaves it. */
function openGate(platform: SimulatedPlatform, region: string): void {
  const table = platform.aws.tables.get(`${region}:${platform.stateTable(region)}`);
  table?.set('gate', { pk: { S: 'gate' }, open: { BOOL: true }, epoch: { N: '0' }, updatedAt: { S: platform.now().toISOString() } });
}
