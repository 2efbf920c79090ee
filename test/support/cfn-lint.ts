import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allTestLayouts } from './all-layouts';
import { LAYOUTS } from './layouts';

/** The first cfn-lint whose JSON output and rule ids these tests read. */
const MIN_MAJOR_VERSION = 1;

/** The installed cfn-lint's version (`1.51.0`), or why it cannot be used. */
export function cfnLintVersion(): { version: string } | { missing: string } {
  const result = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (result.error) return { missing: `cfn-lint is not on the PATH (${result.error.message})` };
  const version = /cfn-lint (\d+)\.(\d+)\.(\d+)/.exec(result.stdout);
  if (result.status !== 0 || !version) return { missing: `\`cfn-lint --version\` failed: ${(result.stderr || result.stdout).trim()}` };
  if (Number(version[1]) < MIN_MAJOR_VERSION) return { missing: `cfn-lint ${version[0]} is older than ${MIN_MAJOR_VERSION}.0` };
  return { version: version[0].replace('cfn-lint ', '') };
}

/** One template to lint, with every stack it stands for (`lintKey`). */
export interface LintTarget {
  readonly file: string;
  readonly region: string;
  readonly bytes: number;
  /** `<layout id>/<stack name>`, the first one synthesized. */
  readonly stacks: string[];
  /** Logical id -> construct path, from the first stack's manifest. */
  readonly constructPaths: Readonly<Record<string, string>>;
}

/**
 * A template's structure without its values: every object's keys (intrinsic functions included) and
 * the kind of every value, arrays as the set of their elements' shapes.
 */
export function templateShape(value: unknown): string {
  if (Array.isArray(value)) return `[${[...new Set(value.map(templateShape))].sort().join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${templateShape((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return typeof value;
}

/**
 * What a template is linted as. By default (`by: 'shape'`), templates of one region and one tier
 * that differ only in values are linted once: the layouts of one tier (a failover's states, the
 * Kafka replication modes) share the tier's sizes and settings, and change identifiers, ARNs and
 * the primary's name where they change no structure. `by: 'content'` lints every distinct template.
 */
function lintKey(region: string, stack: string, text: string, by: 'shape' | 'content'): string {
  if (by === 'content') return `${region} ${createHash('sha256').update(text).digest('hex')}`;
  const tier = /^Mlp-([a-z0-9]+)-/.exec(stack)?.[1] ?? stack;
  return `${region} ${tier} ${createHash('sha256')
    .update(templateShape(JSON.parse(text)))
    .digest('hex')}`;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly properties?: { readonly templateFile?: string };
  readonly metadata?: Record<string, { type: string; data: unknown }[]>;
  readonly additionalMetadataFile?: string;
}

/**
 * The stacks of a cloud assembly directory, read from its manifest (what `LayoutAssembly` reads, without
 * vitest or aws-cdk-lib: the global setup lints too).
 */
function assemblyStacks(directory: string) {
  const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as { artifacts: Record<string, ManifestArtifact> };
  return Object.entries(manifest.artifacts)
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([name, artifact]) => {
      const fromFile = artifact.additionalMetadataFile
        ? (JSON.parse(readFileSync(join(directory, artifact.additionalMetadataFile), 'utf8')) as ManifestArtifact['metadata'])
        : {};
      return { name, artifact, metadata: { ...artifact.metadata, ...fromFile } };
    });
}

/**
 * The templates of the layouts to lint, per region (cfn-lint checks a template against its region's
 * resource specs). `directoryOf` gives a layout's cloud assembly directory.
 */
export function lintTargets(
  layoutIds: readonly string[],
  by: 'shape' | 'content',
  directoryOf: (layoutId: string) => string,
): LintTarget[] {
  const targets = new Map<string, LintTarget>();
  for (const id of layoutIds) {
    const directory = directoryOf(id);
    for (const { name: stack, artifact, metadata } of assemblyStacks(directory)) {
      const region = artifact.environment?.split('/').pop();
      const templateFile = artifact.properties?.templateFile;
      if (!region || !templateFile) throw new Error(`${id}/${stack} has no region or template file`);
      const file = join(directory, templateFile);
      const key = lintKey(region, stack, readFileSync(file, 'utf8'), by);
      const known = targets.get(key);
      if (known) {
        known.stacks.push(`${id}/${stack}`);
        continue;
      }
      const constructPaths: Record<string, string> = {};
      for (const [path, entries] of Object.entries(metadata)) {
        for (const entry of entries) if (entry.type === 'aws:cdk:logicalId') constructPaths[entry.data as string] = path;
      }
      targets.set(key, { file, region, bytes: statSync(file).size, stacks: [`${id}/${stack}`], constructPaths });
    }
  }
  return [...targets.values()];
}

/** One cfn-lint process's templates, all of one region. */
export interface LintBatch {
  readonly region: string;
  readonly targets: readonly LintTarget[];
}

/**
 * Batches for `lanes` parallel cfn-lint processes, largest first: one per region (a process costs
 * about 2 s of start-up), a region split only where it alone would outlast the others' share.
 * Taken largest first by whichever lane is free, they end at about the same time. Cost is taken as
 * template size, which tracks cfn-lint's time (it validates every property).
 */
export function lintBatches(targets: readonly LintTarget[], lanes: number): LintBatch[] {
  const total = targets.reduce((sum, t) => sum + t.bytes, 0);
  const most = Math.max(1, Math.ceil(total / lanes));
  const batches: LintBatch[] = [];
  const regions = [...new Set(targets.map((t) => t.region))];
  for (const region of regions) {
    const inRegion = targets.filter((t) => t.region === region).sort((a, b) => b.bytes - a.bytes);
    const bytes = inRegion.reduce((sum, t) => sum + t.bytes, 0);
    const count = Math.ceil(bytes / most);
    const split: LintTarget[][] = Array.from({ length: count }, () => []);
    const loads = new Array<number>(count).fill(0);
    for (const target of inRegion) {
      const lightest = loads.indexOf(Math.min(...loads));
      split[lightest]?.push(target);
      loads[lightest] = (loads[lightest] ?? 0) + target.bytes;
    }
    for (const batchTargets of split) batches.push({ region, targets: batchTargets });
  }
  const cost = (b: LintBatch) => b.targets.reduce((sum, t) => sum + t.bytes, 0);
  return batches.sort((a, b) => cost(b) - cost(a));
}

export interface CfnLintMatch {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Location: { readonly Path?: readonly (string | number)[] | null };
  readonly Rule: { readonly Id: string };
}

/** cfn-lint's exit status is a bit mask of what it found (2 errors, 4 warnings, 8 informational); 1 is a failure of its own. */
const FOUND_SOMETHING = 2 | 4 | 8;

function lintBatch(batch: LintBatch, signal?: AbortSignal): Promise<CfnLintMatch[]> {
  // Only errors are gated: the warning and informational rules are not run (a sixth of the time).
  const args = ['--format', 'json', '--regions', batch.region, '--ignore-checks', 'W', 'I', '--', ...batch.targets.map((t) => t.file)];
  return new Promise((resolve, reject) => {
    execFile('cfn-lint', args, { maxBuffer: 256 * 1024 * 1024, signal }, (error, stdout, stderr) => {
      if (signal?.aborted) return reject(signal.reason);
      const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (status !== 0 && (status & ~FOUND_SOMETHING) !== 0) {
        return reject(new Error(`cfn-lint exited with ${status} on ${batch.targets.length} templates of ${batch.region}:\n${stderr}`));
      }
      try {
        resolve(JSON.parse(stdout) as CfnLintMatch[]);
      } catch {
        reject(new Error(`cfn-lint printed no JSON for ${batch.region}:\n${stdout.slice(0, 2000)}\n${stderr}`));
      }
    });
  });
}

/** Lint every batch, at most `lanes` processes at a time; the matches of all. `signal` stops the processes (a test's timeout). */
export async function runCfnLint(batches: readonly LintBatch[], lanes: number, signal?: AbortSignal): Promise<CfnLintMatch[]> {
  const queue = [...batches];
  const matches: CfnLintMatch[] = [];
  // One failed process stops the others rather than leaving them running after the test.
  const failed = new AbortController();
  const stop = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
  const lane = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) matches.push(...(await lintBatch(batch, stop)));
  };
  try {
    await Promise.all(Array.from({ length: Math.min(lanes, batches.length) }, lane));
  } catch (error) {
    failed.abort(error);
    throw error;
  }
  return matches;
}

/** One line per match: rule, template (and how many other stacks share it), resource and its construct path, message. */
export function describeMatch(match: CfnLintMatch, targets: ReadonlyMap<string, LintTarget>): string {
  const target = targets.get(match.Filename);
  const path = match.Location.Path ?? [];
  const logicalId = path[0] === 'Resources' ? String(path[1]) : undefined;
  const constructPath = logicalId ? target?.constructPaths[logicalId] : undefined;
  const others = target && target.stacks.length > 1 ? ` (standing for ${target.stacks.length - 1} more of its shape)` : '';
  const where = target ? `${target.stacks[0]}${others}` : match.Filename;
  return `${match.Rule.Id} ${where} ${path.join('/')}${constructPath ? ` [${constructPath}]` : ''}: ${match.Message}`;
}

/** What the gate lints, as the environment asks (the gate's test and the global setup read the same). */
export interface CfnLintSettings {
  /** CI sets MLP_REQUIRE_CFN_LINT=1 (.ci/run): there a missing cfn-lint fails the gate instead of skipping it. */
  readonly required: boolean;
  /**
   * The gated layouts by default: every tier preset, both Kafka replication modes, five regions and
   * the three shapes a failover leaves. The change-safety matrix adds 44 layouts of the same
   * constructs in the same shapes, in other regions and failover states: 3 times the distinct
   * templates and the time (about 540 s of CPU against 190 s), too much for every run;
   * MLP_CFN_LINT_ALL_LAYOUTS=1 lints them too.
   */
  readonly allLayouts: boolean;
  /**
   * Templates of one region and tier that differ only in values stand for each other (`lintKey`): about
   * a third fewer to lint. MLP_CFN_LINT_EVERY_TEMPLATE=1 lints every distinct template instead.
   */
  readonly by: 'shape' | 'content';
  readonly layoutIds: readonly string[];
  /** MLP_CFN_LINT_RECORD=1 (`npm run record:cfn-lint`): lint every template and write what cfn-lint found to the record. */
  readonly record: boolean;
}

export function cfnLintSettings(env: NodeJS.ProcessEnv = process.env): CfnLintSettings {
  const allLayouts = env.MLP_CFN_LINT_ALL_LAYOUTS === '1';
  return {
    required: env.MLP_REQUIRE_CFN_LINT === '1',
    allLayouts,
    by: env.MLP_CFN_LINT_EVERY_TEMPLATE === '1' ? 'content' : 'shape',
    layoutIds: (allLayouts ? allTestLayouts() : LAYOUTS).map((layout) => layout.id),
    record: env.MLP_CFN_LINT_RECORD === '1',
  };
}

/** The gate's run: cfn-lint missing, failed, or its matches on every target (plain data: it crosses processes as JSON). */
export type CfnLintRun =
  | { readonly kind: 'missing'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: string }
  | {
      readonly kind: 'linted';
      readonly version: string;
      readonly targets: LintTarget[];
      /** How many of the targets the record held, and were not linted again. */
      readonly recorded: number;
      readonly matches: CfnLintMatch[];
      readonly seconds: number;
    };

/**
 * What cfn-lint found in templates it has already linted: by cfn-lint version, then by `recordKey`
 * (a region and a template's exact text), the matches (none for a clean template). cfn-lint gives
 * the same result for the same text, region and version, so the gate lints only what the record
 * does not hold; `npm run record:cfn-lint` writes it from a run that lints every template.
 */
export const CFN_LINT_RECORD = join(import.meta.dirname, '..', 'gates', 'cfn-lint-record.json');

interface CfnLintRecord {
  readonly version: string;
  readonly templates: Record<string, Omit<CfnLintMatch, 'Filename'>[]>;
}

/** A template as the record knows it: its region and the digest of its text, asset hashes aside (they name S3 objects, which cfn-lint never reads). */
export function recordKey(target: Pick<LintTarget, 'file' | 'region'>): string {
  const text = readFileSync(target.file, 'utf8').replace(/[0-9a-f]{64}/g, '<asset-hash>');
  return `${target.region} ${createHash('sha256').update(text).digest('hex')}`;
}

function readRecord(version: string): CfnLintRecord['templates'] {
  if (!existsSync(CFN_LINT_RECORD)) return {};
  const record = JSON.parse(readFileSync(CFN_LINT_RECORD, 'utf8')) as CfnLintRecord;
  return record.version === version ? record.templates : {};
}

/**
 * Lint the settings' layouts, `lanes` cfn-lint processes at a time, all but the templates the record
 * holds for the installed cfn-lint (every one when `settings.record` is set, which then writes the
 * record anew); never throws (a failure is a result the test reports).
 */
export async function runCfnLintGate(
  settings: CfnLintSettings,
  directoryOf: (layoutId: string) => string,
  lanes: number,
  signal?: AbortSignal,
): Promise<CfnLintRun> {
  const installed = cfnLintVersion();
  if ('missing' in installed) return { kind: 'missing', reason: installed.missing };
  try {
    const targets = lintTargets(settings.layoutIds, settings.by, directoryOf);
    const record = settings.record ? {} : readRecord(installed.version);
    const keys = new Map(targets.map((t) => [t.file, recordKey(t)]));
    const recorded = targets.filter((t) => record[keys.get(t.file) as string] !== undefined);
    const toLint = targets.filter((t) => !recorded.includes(t));
    const started = performance.now();
    const linted = toLint.length > 0 ? await runCfnLint(lintBatches(toLint, lanes), lanes, signal) : [];
    const matches = [
      ...linted,
      ...recorded.flatMap((t) => (record[keys.get(t.file) as string] ?? []).map((match) => ({ ...match, Filename: t.file }))),
    ];
    if (settings.record) {
      const templates: CfnLintRecord['templates'] = {};
      for (const target of targets) {
        templates[keys.get(target.file) as string] = linted
          .filter((m) => m.Filename === target.file)
          .map(({ Filename: _file, ...match }) => match);
      }
      writeFileSync(CFN_LINT_RECORD, `${JSON.stringify({ version: installed.version, templates } satisfies CfnLintRecord, null, 1)}\n`);
    }
    return {
      kind: 'linted',
      version: installed.version,
      targets,
      recorded: recorded.length,
      matches,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    return { kind: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

/** Write a run where `waitForCfnLintRun` finds it: all of it or nothing (written beside, then renamed). */
export function writeCfnLintRun(file: string, run: CfnLintRun): void {
  writeFileSync(`${file}.partial`, JSON.stringify(run));
  renameSync(`${file}.partial`, file);
}

/** The run the global setup started, once it has written it; `signal` (the test's timeout) stops the wait. */
export async function waitForCfnLintRun(file: string, signal?: AbortSignal): Promise<CfnLintRun> {
  while (!existsSync(file)) {
    signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as CfnLintRun;
}
