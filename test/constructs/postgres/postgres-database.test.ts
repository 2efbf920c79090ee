import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { describe, expect, test } from 'vitest';
import { PlatformVpc } from '../../../constructs/network';
import { PostgresDatabase, type PostgresDatabaseProps } from '../../../constructs/postgres';
import { addQualityGates } from '../../../lib/quality-gates';
import { testApp } from '../../support/synth';

const CLIENT_CIDRS = ['10.64.0.0/18', '10.64.64.0/18', '10.64.128.0/18'];

function build(overrides: Partial<PostgresDatabaseProps> = {}, withGates = false) {
  const app = testApp();
  const stack = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'us-east-1' } });
  const { vpc } = new PlatformVpc(stack, 'Network', {
    cidr: '10.64.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const database = new PostgresDatabase(stack, 'Metadata', {
    instanceIdentifier: 'mlp-tier2-pg-use1',
    engineVersion: rds.PostgresEngineVersion.VER_17,
    instanceClass: 'm7g.4xlarge',
    allocatedStorageGiB: 2048,
    maxAllocatedStorageGiB: 4096,
    maxConnections: 500,
    backupRetention: Duration.days(35),
    encryptionKey: key,
    vpc,
    clientCidrs: CLIENT_CIDRS,
    readReplicas: [
      { instanceIdentifier: 'mlp-tier2-pg-use1-scheduler-polling-1', role: 'scheduler-polling' },
      { instanceIdentifier: 'mlp-tier2-pg-use1-status-api-1', role: 'status-api' },
      { instanceIdentifier: 'mlp-tier2-pg-use1-analytics-1', role: 'analytics' },
    ],
    connectionPooler: true,
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, key, database };
}

describe('PostgresDatabase', () => {
  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});
