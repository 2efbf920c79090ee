import { type App, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { PlatformVpc } from '../../constructs/network';
import { TEST_ACCOUNT } from './layouts';

/** A stack in `region` of the test account with a platform VPC (zones a-c). */
export function stackWithVpc(app: App, id: string, region = 'us-east-1', cidr = '10.64.0.0/16'): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(app, id, { env: { account: TEST_ACCOUNT, region } });
  const { vpc } = new PlatformVpc(stack, 'Network', {
    cidr,
    availabilityZones: [`${region}a`, `${region}b`, `${region}c`],
  });
  return { stack, vpc };
}
