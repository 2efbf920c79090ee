import { type App, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { PlatformVpc } from '../../constructs/network';
import { accountKeyPolicy, cloudWatchLogsKeyStatement } from '../../constructs/private/kms';
import { TEST_ACCOUNT } from './layouts';

/** A stack in `region` of the test account with a platform VPC (zones a-c). */
export function stackWithVpc(app: App, id: string, region = 'us-east-1', cidr = '10.64.0.0/16'): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(app, id, { env: { account: TEST_ACCOUNT, region } });
  const { vpc } = new PlatformVpc(stack, 'Network', {
    cidr,
    availabilityZones: [`${region}a`, `${region}b`, `${region}c`],
    logEncryptionKey: testLogsKey(stack),
  });
  return { stack, vpc };
}

/** The stack's key for log groups (`LogsKey`), as the platform's stacks set one up; one per stack. */
export function testLogsKey(stack: Stack): kms.IKey {
  const existing = stack.node.tryFindChild('LogsKey');
  if (existing) return existing as kms.Key;
  const key = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true, policy: accountKeyPolicy() });
  key.addToResourcePolicy(cloudWatchLogsKeyStatement(stack));
  return key;
}
