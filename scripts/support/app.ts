import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';

/** An App with cdk.json's context (feature flags included) and no bundling, for scripts that synthesize. */
export function scriptApp(outdir: string): App {
  const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
}
