import { App } from 'aws-cdk-lib';
import { ConfigError, resolvePlatformConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { addQualityGates } from '../lib/quality-gates';

// The only file that reads CDK context and the environment.
const app = new App({
  // Lambda bundling can be skipped for fast synths (benchmarks); `-c` cannot carry this key.
  postCliContext: process.env.MLP_SKIP_BUNDLING === '1' ? { 'aws:cdk:bundling-stacks': [] } : {},
});

let resolved: ReturnType<typeof resolvePlatformConfig>;
try {
  resolved = resolvePlatformConfig(
    {
      tier: app.node.tryGetContext('tier'),
      regions: app.node.tryGetContext('regions'),
      account: app.node.tryGetContext('account'),
      domain: app.node.tryGetContext('domain'),
      hostedZoneId: app.node.tryGetContext('hostedZoneId'),
      backupVaultLock: app.node.tryGetContext('backupVaultLock'),
      eksAdminRoleArns: app.node.tryGetContext('eksAdminRoleArns'),
      kafkaReplicationMode: app.node.tryGetContext('kafkaReplicationMode'),
      kafkaReplication: app.node.tryGetContext('kafkaReplication'),
      primaryRegion: app.node.tryGetContext('primaryRegion'),
      rebuiltReplicas: app.node.tryGetContext('rebuiltReplicas'),
      databaseEngine: app.node.tryGetContext('databaseEngine'),
      retiredDatabases: app.node.tryGetContext('retiredDatabases'),
      witnessRegion: app.node.tryGetContext('witnessRegion'),
      onCallPrincipals: app.node.tryGetContext('onCallPrincipals'),
      gameDays: app.node.tryGetContext('gameDays'),
    },
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

buildPlatform(app, resolved.config);
addQualityGates(app);
app.synth();
