/**
 * `npm run drill`: the DR runbooks rehearsed offline. Real PostgreSQL 17 (and Redis, when installed)
 * per region, replicating from the primary; the synthesized state machines run locally over a
 * simulated AWS control plane; a fault injected; RTO and RPO measured on the real servers (and
 * modelled for AWS); the design's invariants checked. The RTO objective is judged on the modelled
 * AWS timeline, never on this machine's wall time; the RPO on the acknowledged writes measured lost.
 *
 * Exit codes (`DRILL_EXIT`):
 * - 0: every scenario passed: every invariant held, every objective met (or not applicable).
 * - 1: an invariant broke in some scenario (this outranks 3), or the drill could not run.
 * - 2: bad options (one line naming it). `--help` prints the usage and exits 0.
 * - 3: every invariant held, but some scenario missed an objective (an override accepts an RPO miss,
 *   never an RTO miss).
 */
import { join } from 'node:path';
import type { PlatformConfig } from '../lib/config';
import type { DrillReport } from '../runbooks/drill/drill';
import { SCENARIOS } from '../runbooks/drill/scenarios';
import { DRILL_EXIT, drillExit } from '../runbooks/drill/verdict';
import type { DeployedAssembly } from '../runbooks/local/deployed-assembly';
import { DRILL_HELP, DRILL_USAGE, DrillOptionError, type DrillPlan, parseDrillOptions } from './support/drill-options';

// The SDK warns that releases after January 2027 need Node 22; the versions here are pinned, and the warning buries the drill's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let parsed: DrillPlan;
  try {
    parsed = parseDrillOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof DrillOptionError)) throw error;
    console.error(`drill: ${error.message} (${DRILL_USAGE})`);
    return DRILL_EXIT.badOptions.code;
  }
  if (parsed.help) {
    console.log(DRILL_HELP);
    return DRILL_EXIT.passed.code;
  }
  // Loaded only for a drill (synthesis, the servers, the report's charts): a bad option or --help answers in half the time.
  const [{ runDrill }, { drillMarkdown, drillSummary, stepSpans, writeDrillReport }, { synthesizeDeployment }] = await Promise.all([
    import('../runbooks/drill/drill'),
    import('../runbooks/drill/report'),
    import('./support/synthesize'),
  ]);
  const started = Date.now();
  const synthesized = new Map<string, DeployedAssembly>();
  const assemblyFor = (config: PlatformConfig) => {
    const key = JSON.stringify(config);
    let assembly = synthesized.get(key);
    if (!assembly) {
      console.log(`synthesizing ${config.tier.name} across ${config.regions.map((r) => r.name).join(', ')} ...`);
      assembly = synthesizeDeployment(config);
      synthesized.set(key, assembly);
    }
    return assembly;
  };
  const results: DrillReport[] = [];
  for (const { scenario, config } of parsed.runs) {
    console.log(`\n== drill ${scenario}: ${SCENARIOS[scenario].summary}`);
    const report = await runDrill({
      scenario,
      config,
      synthesize: assemblyFor,
      seed: parsed.seed,
      auroraEnd: parsed.auroraEnd,
      log: (line) => console.log(line),
    });
    const dir = parsed.runs.length > 1 ? join(parsed.report, scenario) : parsed.report;
    const files = await writeDrillReport(report, dir);
    console.log(`\n${drillMarkdown(report).split('## Executions')[0]?.trim()}\n\nreport: ${files.join(', ')}`);
    if ((report.rto.modelledAwsSeconds ?? 0) > report.rto.objectiveSeconds) {
      const slowest = stepSpans(report).sort((a, b) => b.end - b.start - (a.end - a.start))[0];
      console.log(
        `note: the modelled AWS RTO (${report.rto.modelledAwsSeconds?.toFixed(0)} s) misses the ${report.rto.objectiveSeconds} s objective; ${slowest?.name} dominates (${((slowest?.end ?? 0) - (slowest?.start ?? 0)).toFixed(0)} s), then the DNS tail (${report.rto.dnsTailSeconds} s)`,
      );
    }
    results.push(report);
  }
  if (results.length > 1) console.log(`\n${drillSummary(results, (Date.now() - started) / 1000)}`);
  const exit = drillExit(results.map((r) => r.verdict));
  console.log(`\nexit ${exit.code}: ${exit.meaning}`);
  return exit.code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
