import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LayoutAssembly } from './assembly';

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
  readonly constructPaths: ReadonlyMap<string, string>;
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

/** The templates of the layouts to lint, per region (cfn-lint checks a template against its region's resource specs). */
export function lintTargets(layoutIds: readonly string[], by: 'shape' | 'content' = 'shape'): LintTarget[] {
  const targets = new Map<string, LintTarget>();
  for (const id of layoutIds) {
    const assembly = LayoutAssembly.of(id);
    for (const stack of assembly.stackNames) {
      const artifact = assembly.artifact(stack);
      const region = artifact.environment?.split('/').pop();
      const templateFile = artifact.properties?.templateFile;
      if (!region || !templateFile) throw new Error(`${id}/${stack} has no region or template file`);
      const key = lintKey(region, stack, assembly.templateText(stack), by);
      const known = targets.get(key);
      if (known) {
        known.stacks.push(`${id}/${stack}`);
        continue;
      }
      const file = join(assembly.directory, templateFile);
      const constructPaths = new Map<string, string>();
      for (const [path, entries] of Object.entries(assembly.metadata(stack))) {
        for (const entry of entries) if (entry.type === 'aws:cdk:logicalId') constructPaths.set(entry.data as string, path);
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
  const constructPath = logicalId ? target?.constructPaths.get(logicalId) : undefined;
  const others = target && target.stacks.length > 1 ? ` (standing for ${target.stacks.length - 1} more of its shape)` : '';
  const where = target ? `${target.stacks[0]}${others}` : match.Filename;
  return `${match.Rule.Id} ${where} ${path.join('/')}${constructPath ? ` [${constructPath}]` : ''}: ${match.Message}`;
}
