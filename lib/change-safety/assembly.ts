import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackTemplates, TemplateLike } from './check';

/** The stack templates of a cloud assembly directory (`cdk.out`), by stack name. */
export function readAssemblyTemplates(directory: string): StackTemplates {
  const manifestFile = join(directory, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${directory} is not a cloud assembly: it has no manifest.json`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const templates: Record<string, TemplateLike> = {};
  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const file = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !file) continue;
    templates[name] = JSON.parse(readFileSync(join(directory, file), 'utf8')) as TemplateLike;
  }
  return templates;
}
