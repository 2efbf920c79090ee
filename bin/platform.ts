import { App } from 'aws-cdk-lib';
import { CONTEXT_KEYS, ConfigError, resolvePlatformConfig } from '../lib/config';

// The only file that reads CDK context and the environment.
const app = new App({
  // Lambda bundling can be skipped for fast synths (benchmarks); `-c` cannot carry this key.
  postCliContext: process.env.MLP_SKIP_BUNDLING === '1' ? { 'aws:cdk:bundling-stacks': [] } : {},
});

let resolved: ReturnType<typeof resolvePlatformConfig>;
try {
  resolved = resolvePlatformConfig(
    Object.fromEntries(CONTEXT_KEYS.map((key) => [key, app.node.tryGetContext(key)])),
    process.env.CDK_DEFAULT_ACCOUNT,
  );
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
for (const warning of resolved.warnings) console.error(`warning: ${warning}`);

// Loaded once the context is valid: bad input is reported without loading every construct.
const { buildPlatform } = await import('../lib/platform');
const { addQualityGates } = await import('../lib/quality-gates');
buildPlatform(app, resolved.config);
addQualityGates(app);
app.synth();
