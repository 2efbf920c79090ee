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
import { parseArgs } from 'node:util';
import { readAssemblyTemplates } from '../lib/change-safety';
import { ConfigError, type PlatformConfig, resolvePlatformConfig, TIER_NAMES, TIER_PRESETS, type TierName } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { DRILL_SCENARIOS, type DrillScenario, runDrill, SCENARIOS } from '../runbooks/drill/drill';
import { drillMarkdown, stepSpans, writeDrillReport } from '../runbooks/drill/report';
import { type LocalStateMachine, stateMachinesOf } from '../runbooks/local/local-runbooks';
import { scriptApp } from './support/app';

const ACCOUNT = '111122223333';
const USAGE = `usage: npm run drill -- [--scenario ${DRILL_SCENARIOS.join('|')}|all] [--tier ${TIER_NAMES.join('|')}] [--regions r1,r2,...] [--primary <region>] [--report <dir>] [--seed <n>]`;

interface Plan {
  readonly runs: { readonly scenario: DrillScenario; readonly config: PlatformConfig }[];
  readonly report: string;
  readonly seed: number;
}

class OptionError extends Error {}

/** The layout a scenario runs on: the options' when given, else the scenario's own. */
function layoutFor(scenario: DrillScenario, values: { tier?: string; regions?: string; primary?: string }): PlatformConfig {
  const spec = SCENARIOS[scenario];
  const tier = (values.tier ?? (values.regions || values.primary ? 'tier1' : spec.defaultLayout.tier)) as TierName;
  if (!TIER_NAMES.includes(tier)) throw new OptionError(`--tier ${tier} is not one of ${TIER_NAMES.join(', ')}`);
  const regions = values.regions ?? TIER_PRESETS[tier].defaultRegions.join(',');
  const home = regions.split(',')[0];
  const primary = values.primary ?? home;
  // A primary other than the home region is a deployment that failed over and re-protected the others from it.
  const rebuilt = regions
    .split(',')
    .filter((r) => r !== primary)
    .map((r) => `${r}:${primary}`)
    .join(',');
  let config: PlatformConfig;
  try {
    config = resolvePlatformConfig({
      tier,
      regions,
      account: ACCOUNT,
      ...(primary !== home ? { primaryRegion: primary, rebuiltReplicas: rebuilt } : {}),
    }).config;
  } catch (error) {
    if (error instanceof ConfigError)
      throw new OptionError(error.message.replace(/-c (\w+)/g, (_, key) => `--${key === 'primaryRegion' ? 'primary' : key}`));
    throw error;
  }
  if (config.regions.length < spec.minRegions) {
    throw new OptionError(`scenario ${scenario} needs at least ${spec.minRegions} regions; --regions gives ${config.regions.length}`);
  }
  return config;
}

function plan(): Plan {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'region-loss' },
      tier: { type: 'string' },
      regions: { type: 'string' },
      primary: { type: 'string' },
      report: { type: 'string', default: 'drill-report' },
      seed: { type: 'string', default: '1' },
    },
    strict: true,
    allowPositionals: false,
  });
  const scenario = values.scenario as string;
  if (scenario !== 'all' && !(DRILL_SCENARIOS as readonly string[]).includes(scenario)) {
    throw new OptionError(`--scenario ${scenario} is not one of ${DRILL_SCENARIOS.join(', ')}, all`);
  }
  if (!/^\d{1,9}$/.test(values.seed as string)) throw new OptionError(`--seed ${values.seed} is not a whole number`);
  const scenarios = scenario === 'all' ? [...DRILL_SCENARIOS] : [scenario as DrillScenario];
  return {
    runs: scenarios.map((s) => ({ scenario: s, config: layoutFor(s, values) })),
    report: values.report as string,
    seed: Number(values.seed),
  };
}

/** Synthesize the deployment (without its compute stacks, which hold no runbook) and take each region's state machines. */
function machinesOf(config: PlatformConfig): Record<string, Record<string, LocalStateMachine>> {
  const outdir = mkdtempSync(join(tmpdir(), 'mlp-drill-synth-'));
  try {
    const app = scriptApp(outdir);
    buildPlatform(app, config, { compute: false });
    app.synth();
    const templates = readAssemblyTemplates(outdir);
    return Object.fromEntries(
      config.regions.map((r) => [r.name, stateMachinesOf(templates[`Mlp-${config.tier.name}-${r.code}-resilience`] as never)]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let parsed: Plan;
  try {
    parsed = plan();
  } catch (error) {
    if (!(error instanceof OptionError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    console.error(`drill: ${(error as Error).message} (${USAGE})`);
    return 2;
  }
  const started = Date.now();
  const synthesized = new Map<PlatformConfig, Record<string, Record<string, LocalStateMachine>>>();
  const machinesFor = (config: PlatformConfig) => {
    const key = [...synthesized.keys()].find((c) => JSON.stringify(c) === JSON.stringify(config));
    if (key) return synthesized.get(key) as Record<string, Record<string, LocalStateMachine>>;
    console.log(`synthesizing ${config.tier.name} across ${config.regions.map((r) => r.name).join(', ')} ...`);
    const machines = machinesOf(config);
    synthesized.set(config, machines);
    return machines;
  };
  const results: { scenario: string; passed: boolean }[] = [];
  for (const { scenario, config } of parsed.runs) {
    console.log(`\n== drill ${scenario}: ${SCENARIOS[scenario].summary}`);
    const report = await runDrill({
      scenario,
      config,
      machines: machinesFor(config),
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
    results.push({ scenario, passed: report.passed });
  }
  if (results.length > 1) {
    console.log(
      `\n== ${results.filter((r) => r.passed).length} of ${results.length} scenarios passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    for (const r of results) console.log(`  ${r.passed ? 'passed' : 'FAILED'}  ${r.scenario}`);
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
