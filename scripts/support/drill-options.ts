import { parseArgs } from 'node:util';
import {
  ConfigError,
  DATABASE_ENGINES,
  type DatabaseEngine,
  type PlatformConfig,
  resolvePlatformConfig,
  TIER_NAMES,
  TIER_PRESETS,
  type TierName,
} from '../../lib/config';
import { DRILL_SCENARIOS, type DrillScenario, SCENARIOS, stateTablesOf } from '../../runbooks/drill/scenarios';
import { DRILL_EXIT } from '../../runbooks/drill/verdict';

const ACCOUNT = '111122223333';
export const DRILL_USAGE = `usage: npm run drill -- [--scenario ${DRILL_SCENARIOS.join('|')}[,...]|all] [--tier ${TIER_NAMES.join('|')}] [--engine ${DATABASE_ENGINES.join('|')}] [--aurora-end optimistic|pessimistic] [--regions r1,r2,...] [--witness <region>|none] [--primary <region>] [--report <dir>] [--seed <n>] [--help]`;

/** What `--help` prints: the usage, every option, and the exit codes. */
export const DRILL_HELP = [
  DRILL_USAGE,
  '',
  'Rehearses the DR runbooks offline: real PostgreSQL (and Redis) per region, the synthesized state machines run',
  'locally over a simulated AWS control plane, a fault injected; RTO and RPO against the objectives, invariants checked.',
  '',
  'options:',
  `  --scenario <names> the scenarios to run, comma-separated, or all: ${DRILL_SCENARIOS.join(', ')} (default: region-loss)`,
  `  --tier <tier>      the capacity tier drilled: ${TIER_NAMES.join(', ')} (default: the scenario's own, tier1 or tier3)`,
  `  --engine <engine>  what serves PostgreSQL: ${DATABASE_ENGINES.join(', ')} (default: the tier's); every scenario runs on either`,
  '  --aurora-end <end> the documented end an Aurora failover is modelled at: optimistic ("under a minute") or pessimistic ("a few minutes") (default: pessimistic)',
  "  --regions r1,r2    the regions, the first the home region (default: the tier's)",
  "  --witness <region>|none  a two-region layout's witness region (default: us-east-2)",
  '  --primary <region> the primary: one other than the home region drills a deployment that failed over (default: the home region)',
  '  --report <dir>     where report.json, report.md and timeline.svg go; one directory per scenario with all (default: drill-report)',
  '  --seed <n>         where in the heartbeat cycle the fault lands (default: 1)',
  '  -h, --help         print this and exit',
  '',
  'The RTO objective is judged on the modelled AWS timeline (DNS tail included), the RPO on the acknowledged writes lost;',
  'an override accepts an RPO miss, never an RTO miss.',
  '',
  'exit codes:',
  ...Object.values(DRILL_EXIT)
    .sort((a, b) => a.code - b.code)
    .map((exit) => `  ${exit.code}  ${exit.meaning}`),
].join('\n');

export interface DrillPlan {
  /** `--help` or `-h` was given: print `DRILL_HELP` and run nothing (`runs` is empty). */
  readonly help: boolean;
  readonly runs: { readonly scenario: DrillScenario; readonly config: PlatformConfig }[];
  readonly report: string;
  readonly seed: number;
  /** The documented end an Aurora global database's failover is modelled at. */
  readonly auroraEnd: 'optimistic' | 'pessimistic';
}

export class DrillOptionError extends Error {}

/** The layout a scenario runs on: the options' when given, else the scenario's own. */
function layoutFor(
  scenario: DrillScenario,
  values: { tier?: string; regions?: string; primary?: string; engine?: string; witness?: string },
): PlatformConfig {
  const spec = SCENARIOS[scenario];
  const tier = (values.tier ?? (values.regions || values.primary ? 'tier1' : spec.defaultLayout.tier)) as TierName;
  if (!TIER_NAMES.includes(tier)) throw new DrillOptionError(`--tier ${tier} is not one of ${TIER_NAMES.join(', ')}`);
  const regions = values.regions ?? TIER_PRESETS[tier].defaultRegions.join(',');
  const home = regions.split(',')[0];
  const primary = values.primary ?? home;
  const engine = (values.engine ?? TIER_PRESETS[tier].database.engine) as DatabaseEngine;
  // A primary other than the home region is a deployment that failed over and re-protected the others from it
  // (RDS: new replica generations; Aurora rejoins the others by itself).
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
      databaseEngine: engine,
      ...(values.witness ? { witnessRegion: values.witness } : {}),
      ...(primary !== home ? { primaryRegion: primary, ...(engine === 'rds-postgresql' ? { rebuiltReplicas: rebuilt } : {}) } : {}),
    }).config;
  } catch (error) {
    if (error instanceof ConfigError)
      throw new DrillOptionError(
        error.message.replace(
          /-c (\w+)/g,
          (_, key) => `--${({ primaryRegion: 'primary', witnessRegion: 'witness' } as Record<string, string>)[key] ?? key}`,
        ),
      );
    throw error;
  }
  if (config.regions.length < spec.minRegions) {
    throw new DrillOptionError(
      `scenario ${scenario} needs at least ${spec.minRegions} regions; ${tier} across ${regions} has ${config.regions.length} (give --regions)`,
    );
  }
  if (stateTablesOf(config) < (spec.minStateTables ?? 0)) {
    throw new DrillOptionError(
      `scenario ${scenario} needs at least ${spec.minStateTables} runbook state tables (its regions, and a two-region tier's witness); ${tier} across ${regions} without a witness has ${stateTablesOf(config)} (give --regions, or leave --witness out)`,
    );
  }
  return config;
}

/** The scenarios to run and the layout of each, from the command line; `DrillOptionError` names what is wrong. */
export function parseDrillOptions(args: readonly string[]): DrillPlan {
  // Help wins over everything else on the line, a bad option included.
  if (args.some((arg) => arg === '--help' || arg === '-h'))
    return { help: true, runs: [], report: 'drill-report', seed: 1, auroraEnd: 'pessimistic' };
  let values: {
    scenario?: string;
    tier?: string;
    engine?: string;
    'aurora-end'?: string;
    regions?: string;
    primary?: string;
    witness?: string;
    report?: string;
    seed?: string;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        scenario: { type: 'string', default: 'region-loss' },
        tier: { type: 'string' },
        engine: { type: 'string' },
        'aurora-end': { type: 'string', default: 'pessimistic' },
        regions: { type: 'string' },
        primary: { type: 'string' },
        witness: { type: 'string' },
        report: { type: 'string', default: 'drill-report' },
        seed: { type: 'string', default: '1' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new DrillOptionError((error as Error).message.split('\n')[0] as string);
  }
  const scenario = values.scenario as string;
  const named = scenario === 'all' ? [...DRILL_SCENARIOS] : scenario.split(',');
  if (named.includes('')) throw new DrillOptionError(`--scenario ${scenario} has an empty entry; separate names with single commas`);
  const unknown = named.find((s) => !(DRILL_SCENARIOS as readonly string[]).includes(s));
  if (unknown !== undefined) throw new DrillOptionError(`--scenario ${unknown} is not one of ${DRILL_SCENARIOS.join(', ')}, all`);
  const repeated = named.find((s, i) => named.indexOf(s) !== i);
  if (repeated) throw new DrillOptionError(`--scenario ${scenario} names ${repeated} twice; give each scenario once`);
  const auroraEnd = values['aurora-end'] as string;
  if (auroraEnd !== 'optimistic' && auroraEnd !== 'pessimistic')
    throw new DrillOptionError(`--aurora-end ${auroraEnd} is not one of optimistic, pessimistic`);
  if (!/^\d{1,9}$/.test(values.seed as string)) throw new DrillOptionError(`--seed ${values.seed} is not a whole number`);
  const engine = values.engine;
  if (engine !== undefined && !(DATABASE_ENGINES as readonly string[]).includes(engine))
    throw new DrillOptionError(`--engine ${engine} is not one of ${DATABASE_ENGINES.join(', ')}`);
  // Every scenario runs on either engine: its faults and checks name the resources of the engine drilled.
  const scenarios = named as DrillScenario[];
  return {
    help: false,
    runs: scenarios.map((s) => ({ scenario: s, config: layoutFor(s, values) })),
    report: values.report as string,
    seed: Number(values.seed),
    auroraEnd,
  };
}
