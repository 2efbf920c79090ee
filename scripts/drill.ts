/**
 * `npm run drill`: the DR runbooks rehearsed offline. Real PostgreSQL 17 (and Redis, when installed)
 * per region, replicating from the primary; the synthesized state machines run locally over a
 * simulated AWS control plane; a fault injected; RTO and RPO measured on the real servers (and
 * modelled for AWS); the design's invariants checked.
 *
 * Exit codes: 0 every scenario passed; 1 an invariant broke or an objective was missed without an
 * override; 2 bad options.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { type DrillReport, runDrill, SCENARIOS } from '../runbooks/drill/drill';
import { drillMarkdown, stepSpans, writeDrillReport } from '../runbooks/drill/report';
import { DeployedAssembly } from '../runbooks/local/deployed-assembly';
import { scriptApp } from './support/app';
import { DRILL_USAGE, DrillOptionError, type DrillPlan, parseDrillOptions } from './support/drill-options';

/** Synthesize the deployment, every stack of every region: the simulated world is built from them. */
function synthesize(config: PlatformConfig): DeployedAssembly {
  const outdir = mkdtempSync(join(tmpdir(), 'mlp-drill-synth-'));
  try {
    const app = scriptApp(outdir);
    buildPlatform(app, config);
    app.synth();
    return DeployedAssembly.fromDirectory(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

// The SDK warns that releases after January 2027 need Node 22; the versions here are pinned, and the warning buries the drill's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let parsed: DrillPlan;
  try {
    parsed = parseDrillOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof DrillOptionError)) throw error;
    console.error(`drill: ${error.message} (${DRILL_USAGE})`);
    return 2;
  }
  const started = Date.now();
  const synthesized = new Map<string, DeployedAssembly>();
  const assemblyFor = (config: PlatformConfig) => {
    const key = JSON.stringify(config);
    let assembly = synthesized.get(key);
    if (!assembly) {
      console.log(`synthesizing ${config.tier.name} across ${config.regions.map((r) => r.name).join(', ')} ...`);
      assembly = synthesize(config);
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
      assembly: assemblyFor(config),
      seed: parsed.seed,
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
  if (results.length > 1) {
    console.log(
      `\n== ${results.filter((r) => r.passed).length} of ${results.length} scenarios passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    console.log('  result  scenario              last execution  RTO measured  RTO modelled  lost writes (s)');
    for (const r of results) {
      console.log(
        `  ${(r.passed ? 'passed' : 'FAILED').padEnd(6)}  ${r.scenario.padEnd(20)}  ${r.status.padEnd(14)}  ${(r.rto.measuredSeconds === undefined ? '-' : `${r.rto.measuredSeconds.toFixed(1)} s`).padStart(12)}  ${(r.rto.modelledAwsSeconds === undefined ? '-' : `${r.rto.modelledAwsSeconds.toFixed(0)} s`).padStart(12)}  ${r.rpo.lostWrites} of ${r.rpo.acknowledgedWrites} (${r.rpo.lostSeconds.toFixed(1)})`,
      );
    }
  }
  return results.every((r) => r.passed) ? 0 : 1;
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
