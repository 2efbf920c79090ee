import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { DRILL_SCENARIOS } from '../../runbooks/drill/scenarios';
import { DRILL_HELP, DrillOptionError, parseDrillOptions } from '../../scripts/support/drill-options';

describe('npm run drill options', () => {
  test('defaults: region-loss on tier1 across its default regions, report in drill-report/', () => {
    const plan = parseDrillOptions([]);
    expect(plan.report).toBe('drill-report');
    expect(plan.runs).toHaveLength(1);
    expect(plan.runs[0]?.scenario).toBe('region-loss');
    expect(plan.runs[0]?.config.regions.map((r) => r.name)).toEqual(['us-east-1', 'us-west-2']);
    expect(plan.runs[0]?.config.primaryRegion.name).toBe('us-east-1');
  });

  test('all: every scenario, three-regions on tier3 unless a layout is given', () => {
    const plan = parseDrillOptions(['--scenario', 'all', '--seed', '7']);
    expect(plan.runs).toHaveLength(DRILL_SCENARIOS.length);
    expect(plan.seed).toBe(7);
    const threeRegions = plan.runs.find((r) => r.scenario === 'three-regions');
    expect(threeRegions?.config.tier.name).toBe('tier3');
    expect(threeRegions?.config.regions).toHaveLength(3);
    expect(plan.runs.find((r) => r.scenario === 'failback')?.config.tier.name).toBe('tier1');
  });

  test('a comma-separated list runs those scenarios, in that order, each on its own layout', () => {
    const plan = parseDrillOptions(['--scenario', 'partition,fence-override']);
    expect(plan.runs.map((r) => [r.scenario, r.config.tier.name])).toEqual([
      ['partition', 'tier3'],
      ['fence-override', 'tier1'],
    ]);
  });

  test('--primary other than the home region drills a failed-over deployment: on RDS its other regions re-protected from it, on Aurora only the primary moved', () => {
    const [rds] = parseDrillOptions(['--tier', 'tier2', '--engine', 'rds-postgresql', '--primary', 'us-west-2']).runs;
    expect(rds?.config.tier.name).toBe('tier2');
    expect(rds?.config.primaryRegion.name).toBe('us-west-2');
    expect(rds?.config.databases['us-east-1']?.current.createdFrom?.region).toBe('us-west-2');
    const [aurora] = parseDrillOptions(['--tier', 'tier2', '--primary', 'us-west-2']).runs;
    expect(aurora?.config).toMatchObject({
      databaseEngine: 'aurora-postgresql-global',
      primaryRegion: { name: 'us-west-2' },
      rebuiltReplicas: [],
    });
  });

  test('--engine aurora-postgresql-global: the layout runs an Aurora global database; a failed-over one needs no re-protection', () => {
    const plan = parseDrillOptions(['--engine', 'aurora-postgresql-global', '--tier', 'tier2', '--primary', 'us-west-2']);
    expect(plan.runs.map((r) => r.scenario)).toEqual(['region-loss']);
    expect(plan.runs[0]?.config).toMatchObject({ databaseEngine: 'aurora-postgresql-global', rebuiltReplicas: [] });
    expect(plan.runs[0]?.config.primaryRegion.name).toBe('us-west-2');
    expect(plan.auroraEnd).toBe('pessimistic');
    expect(parseDrillOptions(['--engine', 'aurora-postgresql-global', '--aurora-end', 'optimistic']).auroraEnd).toBe('optimistic');
  });

  test.each([['aurora-postgresql-global'], ['rds-postgresql']])(
    '--engine %s --scenario all: every scenario, each on its own layout, on that engine',
    (engine) => {
      const plan = parseDrillOptions(['--engine', engine, '--scenario', 'all']);
      expect(plan.runs.map((r) => r.scenario)).toEqual([...DRILL_SCENARIOS]);
      expect(plan.runs.every((r) => r.config.databaseEngine === engine)).toBe(true);
      expect(plan.runs.find((r) => r.scenario === 'three-regions')?.config.regions).toHaveLength(3);
    },
  );

  test.each([
    [['--scenario', 'meteor'], /--scenario meteor is not one of region-loss, .*, all/],
    [['--scenario', 'partition,meteor'], /--scenario meteor is not one of region-loss, .*, all/],
    [['--scenario', 'partition,partition'], /--scenario partition,partition names partition twice/],
    [['--scenario', 'fence-override,'], /--scenario fence-override, has an empty entry/],
    [['--tier', 'tier9'], /--tier tier9 is not one of dev, tier1, tier2, tier3/],
    [['--regions', 'us-east-1,mars-north-1'], /mars-north-1/],
    [['--primary', 'eu-west-1'], /--primary/],
    [['--seed', 'abc'], /--seed abc is not a whole number/],
    [['--scenario', 'three-regions', '--regions', 'us-east-1,us-west-2'], /needs at least 3 regions/],
    [
      ['--scenario', 'partition', '--tier', 'tier1', '--witness', 'none'],
      /needs at least 3 runbook state tables .* without a witness has 2/,
    ],
    [['--tier', 'tier1', '--witness', 'us-west-2'], /--witness=us-west-2: the witness must be a region apart from the deployment's/],
    [['--colour', 'red'], /Unknown option '--colour'/],
    [['--engine', 'mysql'], /--engine mysql is not one of aurora-postgresql-global, rds-postgresql/],
    [['--aurora-end', 'median'], /--aurora-end median is not one of optimistic, pessimistic/],
  ])('%j is refused: %s', (args, message) => {
    expect(() => parseDrillOptions(args)).toThrow(DrillOptionError);
    expect(() => parseDrillOptions(args)).toThrow(message);
  });

  test.each([[['--help']], [['-h']], [['--scenario', 'meteor', '--help']], [['--colour', 'red', '-h']]])(
    '%j asks for the usage: nothing to run, whatever else is on the line',
    (args) => {
      const plan = parseDrillOptions(args);
      expect(plan.help).toBe(true);
      expect(plan.runs).toEqual([]);
    },
  );

  test('without --help nothing asks for the usage', () => {
    expect(parseDrillOptions(['--scenario', 'failback']).help).toBe(false);
  });

  test('the usage names every option and every exit code', () => {
    for (const option of [
      '--scenario',
      '--tier',
      '--engine',
      '--aurora-end',
      '--regions',
      '--primary',
      '--report',
      '--seed',
      '--help',
      '-h',
    ])
      expect(DRILL_HELP).toContain(option);
    expect(DRILL_HELP).toMatch(/^usage: npm run drill -- /);
    const exits = DRILL_HELP.split('exit codes:\n')[1]?.split('\n');
    expect(exits?.map((line) => line.trim().split(/\s+/)[0])).toEqual(['0', '1', '2', '3']);
    expect(exits?.[3]).toMatch(/^ {2}3 {2}every invariant held, but an objective was missed/);
    expect(exits?.[1]).toMatch(/an invariant broke \(this outranks 3\)/);
  });

  test('the command prints one line and exits 2 on a bad option, before starting anything', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/drill.ts', '--scenario', 'meteor'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('drill:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^drill: --scenario meteor is not one of .* \(usage: npm run drill -- /);
    expect(run.stdout).toBe('');
  }, 30_000);

  test('--help prints the usage and exits 0, before starting anything', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/drill.ts', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${DRILL_HELP}\n`);
  }, 30_000);
});
