import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { allTestLayouts } from './all-layouts';
import { cfnLintSettings, runCfnLintGate, writeCfnLintRun } from './cfn-lint';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Cloud assembly directory per layout id. */
    assemblies: Record<string, string>;
    /** Synthesis failures per layout id (a test reports them). */
    synthErrors: Record<string, string>;
    /** Where the cfn-lint run the setup started will be written (`waitForCfnLintRun`), or '' when it started none. */
    cfnLintRun: string;
  }
}

const WORKER = join(import.meta.dirname, 'synth-worker.ts');

/** Run one worker over its share of the layouts; its errors by layout id. */
function synthShare(share: number, shares: number, root: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, String(share), String(shares), root], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = output.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`synth worker ${share} exited with ${code}: ${output}`));
      resolve(JSON.parse(last) as Record<string, string>);
    });
  });
}

const CFN_LINT_TEST = join(import.meta.dirname, '..', 'gates', 'cfn-lint.test.ts');

/**
 * Whether this run holds the cfn-lint gate: every file when vitest was given no filter, else the files
 * whose path contains one (vitest's own matching; its filters are not public API, so when it is
 * unsure the gate lints in its test instead).
 */
function runsCfnLintGate(project: TestProject): boolean {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  if (!filters?.length) return true;
  const path = relative(project.config.root, CFN_LINT_TEST);
  return filters.some((filter) => path.includes(filter) || CFN_LINT_TEST.startsWith(resolve(project.config.root, filter)));
}

/**
 * Each layout is synthesized once, before any test file runs, by one worker per core. Then cfn-lint
 * starts on the gated layouts' templates and runs beside the test files (it used to hold a test worker
 * for its two minutes, waiting); its gate's test, run last, reads what it found. The teardown stops
 * cfn-lint if it is still running (a failed or interrupted run) before removing the templates.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'mlp-assemblies-'));
  const shares = Math.max(1, Math.min(availableParallelism(), 4));
  const results = await Promise.all(Array.from({ length: shares }, (_, share) => synthShare(share, shares, root)));
  const synthErrors = Object.assign({}, ...results) as Record<string, string>;
  const assemblies = Object.fromEntries(
    allTestLayouts()
      .filter((layout) => !(layout.id in synthErrors))
      .map((layout) => [layout.id, join(root, layout.id)]),
  );
  project.provide('assemblies', assemblies);
  project.provide('synthErrors', synthErrors);

  const lint = startCfnLint(project, assemblies, root);
  return async () => {
    await lint.stop();
    rmSync(root, { recursive: true, force: true });
  };
}

/**
 * Start the cfn-lint gate's run on the synthesized layouts when this run holds its test, and tell the
 * test where the run will be written. `stop()` ends cfn-lint if it is still running and waits for it.
 */
export function startCfnLint(project: TestProject, assemblies: Record<string, string>, root: string): { stop(): Promise<void> } {
  const settings = cfnLintSettings();
  const stopLint = new AbortController();
  const runFile = join(root, 'cfn-lint-run.json');
  // A layout that failed to synthesize: the gate's test lints the others itself, and reports the failure.
  const lintable = settings.layoutIds.every((id) => id in assemblies);
  const lint =
    lintable && runsCfnLintGate(project)
      ? runCfnLintGate(settings, (id) => assemblies[id] as string, availableParallelism(), stopLint.signal).then((run) =>
          writeCfnLintRun(runFile, run),
        )
      : undefined;
  project.provide('cfnLintRun', lint ? runFile : '');
  return {
    async stop() {
      stopLint.abort(new Error('the test run ended before cfn-lint did'));
      await lint?.catch(() => undefined);
    },
  };
}
