import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { allTestLayouts } from './all-layouts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Cloud assembly directory per layout id. */
    assemblies: Record<string, string>;
    /** Synthesis failures per layout id (a test reports them). */
    synthErrors: Record<string, string>;
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

/** Each layout is synthesized once, before any test file runs, by one worker per core. */
export default async function setup(project: TestProject): Promise<() => void> {
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
  return () => rmSync(root, { recursive: true, force: true });
}
