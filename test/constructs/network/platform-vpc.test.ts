import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { DEFAULT_INTERFACE_ENDPOINTS, PlatformVpc, type PlatformVpcProps } from '../../../constructs/network';
import { testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const ZONES = ['us-west-2a', 'us-west-2b', 'us-west-2c'];

function build(props: Partial<PlatformVpcProps> = {}) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '111122223333', region: 'us-west-2' } });
  new PlatformVpc(stack, 'Network', { cidr: '10.65.0.0/16', availabilityZones: ZONES, logEncryptionKey: testLogsKey(stack), ...props });
  return Template.fromStack(stack);
}

describe('PlatformVpc', () => {
  const template = build();

  test('three subnet tiers in each of the three fixed zones, inside the given /16', () => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.65.0.0/16' });
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet')).map((s) => s.Properties);
    expect(subnets).toHaveLength(9);
    expect(new Set(subnets.map((s) => s.AvailabilityZone))).toEqual(new Set(ZONES));
    expect(subnets.map((s) => s.CidrBlock.split('/')[1]).sort()).toEqual(['18', '18', '18', '22', '22', '22', '24', '24', '24']);
    for (const s of subnets) expect(s.CidrBlock).toMatch(/^10\.65\./);
  });

  test('one NAT gateway per AZ by default, fewer when asked', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 3);
    build({ natGateways: 1 }).resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  test('S3 gateway endpoint and the interface endpoints, private DNS on, HTTPS from the VPC only', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1 + Object.keys(DEFAULT_INTERFACE_ENDPOINTS).length);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [{ CidrIp: '10.65.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: 'HTTPS from the VPC' }],
    });
  });

  test('all traffic is flow-logged to a retained log group', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
  });

  test.each([
    [{ availabilityZones: ['us-west-2a', 'us-west-2b'] }, 'availabilityZones must list exactly 3 zones, got 2: us-west-2a, us-west-2b'],
    [{ cidr: '10.65.0.0/20' }, 'cidr must be a /16 such as 10.64.0.0/16, got 10.65.0.0/20'],
    [{ natGateways: 4 }, 'natGateways must be 1 to 3 (one per AZ at most), got 4'],
  ])('rejects %j', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
