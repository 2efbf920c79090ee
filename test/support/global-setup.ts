import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { LAYOUTS } from './layouts';
import { synthLayout } from './synth';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Cloud assembly directory per layout id. */
    assemblies: Record<string, string>;
    /** Synthesis failures per layout id (a test reports them). */
    synthErrors: Record<string, string>;
  }
}

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'mlp-assemblies-'));
  const assemblies: Record<string, string> = {};
  const synthErrors: Record<string, string> = {};
  for (const layout of LAYOUTS) {
    const outdir = join(root, layout.id);
    try {
      synthLayout(layout, outdir);
      assemblies[layout.id] = outdir;
    } catch (error) {
      synthErrors[layout.id] = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
    }
  }
  project.provide('assemblies', assemblies);
  project.provide('synthErrors', synthErrors);
  return () => rmSync(root, { recursive: true, force: true });
}
