import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { resolvePlatformConfig } from '../../lib/config';
import { buildPlatform, type Platform } from '../../lib/platform';
import { addQualityGates } from '../../lib/quality-gates';
import { type Layout, layoutContext } from './layouts';

const ROOT = join(import.meta.dirname, '..', '..');

/** cdk.json's context (feature flags included), so tests synthesize exactly what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context;
}

/** An App configured like `bin/platform.ts`'s, without bundling. */
export function testApp(props: AppProps = {}): App {
  return new App({
    ...props,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-stack-trace': true, ...props.context },
  });
}

/**
 * Build and synthesize one layout with every quality gate. Validation findings are written to the
 * assembly's validation-report.json instead of thrown, so a test can list them all.
 */
export function synthLayout(layout: Layout, outdir: string): Platform {
  const gates = layout.gates ?? true;
  const app = testApp({
    outdir,
    context: { '@aws-cdk/core:failSynthOnValidationErrors': false },
    // Without the gates, the built-in CloudFormation validation is off too: it is half the time.
    builtinCloudFormationValidation: gates,
  });
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const platform = buildPlatform(app, config, { compute: layout.compute ?? true, runbooks: layout.runbooks ?? true });
  if (gates) addQualityGates(app);
  app.synth();
  return platform;
}
