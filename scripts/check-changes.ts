/**
 * Change-safety check an operator runs before a deploy: synthesizes the layout that is deployed and
 * the one about to be, and reports every stateful resource that would be replaced, destroyed or
 * orphaned, and any second primary database. Exit code 0 when the change is safe, 1 when it is not,
 * 2 on bad input.
 *
 *   npm run check:changes -- --from 'tier=tier1' --to 'tier=tier1 primaryRegion=us-west-2'
 *   npm run check:changes -- --from-assembly deployed.out --to 'tier=tier1 primaryRegion=us-west-2'
 *
 * A side is either `key=value` context pairs separated by spaces (what `-c` would give `cdk
 * deploy`, without the `-c`), or a cloud assembly directory synthesized earlier (`cdk synth -o`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkChangeSafety, formatChangeSafetyReport, readAssemblyTemplates, type StackTemplates } from '../lib/change-safety';
import { CONTEXT_KEYS, ConfigError, type PlatformContext, resolvePlatformConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { scriptApp } from './support/app';

const USAGE = "usage: npm run check:changes -- (--from 'key=value ...' | --from-assembly DIR) (--to 'key=value ...' | --to-assembly DIR)";

class UsageError extends Error {}

function parseContext(side: string, text: string): PlatformContext {
  const context: Record<string, string> = {};
  for (const pair of text.trim().split(/\s+/).filter(Boolean)) {
    const [key, ...rest] = pair.replace(/^-c\s*/, '').split('=');
    if (!key || rest.length === 0 || !(CONTEXT_KEYS as string[]).includes(key)) {
      throw new UsageError(`--${side}: "${pair}" is not key=value with a key from: ${CONTEXT_KEYS.join(', ')}`);
    }
    context[key] = rest.join('=');
  }
  return context;
}

function synthesize(context: PlatformContext, outdir: string): StackTemplates {
  // The account must match on both sides, and a real one is not needed to compare templates.
  const { config } = resolvePlatformConfig({ account: '111122223333', ...context }, process.env.CDK_DEFAULT_ACCOUNT);
  const app = scriptApp(outdir);
  buildPlatform(app, config);
  app.synth();
  return readAssemblyTemplates(outdir);
}

function side(
  name: 'from' | 'to',
  values: Record<string, string | undefined>,
  scratch: string,
): { templates: StackTemplates; context: PlatformContext } {
  const spec = values[name];
  const assembly = values[`${name}-assembly`];
  if ((spec === undefined) === (assembly === undefined)) throw new UsageError(`give exactly one of --${name} and --${name}-assembly`);
  if (assembly !== undefined) return { templates: readAssemblyTemplates(assembly), context: {} };
  const context = parseContext(name, spec as string);
  return { templates: synthesize(context, join(scratch, name)), context };
}

function main(): number {
  const scratch = mkdtempSync(join(tmpdir(), 'mlp-change-safety-'));
  try {
    const { values } = parseArgs({
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        'from-assembly': { type: 'string' },
        'to-assembly': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const from = side('from', values, scratch);
    const to = side('to', values, scratch);
    const retiredDatabases = typeof to.context.retiredDatabases === 'string' ? to.context.retiredDatabases.split(',') : [];
    const report = checkChangeSafety(from.templates, to.templates, { retiredDatabases });
    console.log(formatChangeSafetyReport(report));
    return report.errors.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(`check:changes: ${error.message} (${USAGE})`);
      return 2;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`check:changes: ${error.message} (${USAGE})`);
      return 2;
    }
    throw error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

process.exitCode = main();
