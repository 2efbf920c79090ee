import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { CrossRegionVpcPeering, type CrossRegionVpcPeeringProps } from '../../../constructs/kafka';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc, testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

function build(overrides: Partial<CrossRegionVpcPeeringProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Secondary', 'us-west-2', '10.65.0.0/16');
  const peering = new CrossRegionVpcPeering(stack, 'Peering', {
    logEncryptionKey: testLogsKey(stack),
    vpc,
    vpcCidr: '10.65.0.0/16',
    peerRegion: 'us-east-1',
    peerCidr: '10.64.0.0/16',
    peerVpcIdParameterName: '/mlp/tier2/us-east-1/network/vpc-id',
    peerRouteTableIdsParameterName: '/mlp/tier2/us-east-1/network/route-table-ids',
    peerRouteTableCount: 6,
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, vpc, peering };
}

/**
 * The SDK call a custom resource makes on create (or update/delete). A call with CloudFormation
 * references is an `Fn::Join`; each reference becomes a string of its JSON, quotes turned to `'`.
 */
function call(resource: { [key: string]: any } | undefined, phase: 'Create' | 'Update' | 'Delete' = 'Create') {
  const value = resource?.Properties[phase] as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof value === 'string') return JSON.parse(value);
  const [separator, parts] = value['Fn::Join'];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part).replace(/"/g, "'"))).join(separator));
}

describe('CrossRegionVpcPeering', () => {
  const { stack, vpc, peering } = build();
  const template = Template.fromStack(stack);

  test('requests a peering to the primary VPC, whose id is read from SSM in the primary region', () => {
    const [lookup] = Object.values(template.findResources('Custom::CrossRegionParameter')).filter((r) =>
      JSON.stringify(r.Properties.Create).includes('vpc-id'),
    );
    expect(call(lookup)).toMatchObject({
      service: 'SSM',
      action: 'getParameter',
      region: 'us-east-1',
      parameters: { Name: '/mlp/tier2/us-east-1/network/vpc-id' },
      physicalResourceId: { id: 'us-east-1:/mlp/tier2/us-east-1/network/vpc-id' },
    });
    template.hasResourceProperties('AWS::EC2::VPCPeeringConnection', {
      VpcId: { Ref: stack.getLogicalId(vpc.node.defaultChild as never) },
      PeerRegion: 'us-east-1',
      PeerVpcId: { 'Fn::GetAtt': [Match.anyValue(), 'Parameter.Value'] },
    });
    expect(stack.resolve(peering.peerVpcId)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Parameter.Value'] });
  });

  test('routes the primary CIDR from every private and data route table of this VPC', () => {
    const routes = Object.values(template.findResources('AWS::EC2::Route', { Properties: { DestinationCidrBlock: '10.64.0.0/16' } }));
    const tables = [...vpc.privateSubnets, ...vpc.isolatedSubnets].map((subnet) => stack.resolve(subnet.routeTable.routeTableId));
    expect(routes.map((route) => route.Properties.RouteTableId)).toEqual(tables);
    for (const route of routes) expect(route.Properties.VpcPeeringConnectionId).toEqual({ Ref: stack.getLogicalId(peering.peering) });
  });

  test('routes this CIDR back from each of the primary route tables, in the primary region', () => {
    const routes = Object.values(template.findResources('Custom::PeerRoute'));
    expect(routes).toHaveLength(6);
    routes.forEach((route, index) => {
      const create = call(route);
      expect(create).toMatchObject({ service: 'EC2', action: 'createRoute', region: 'us-east-1' });
      expect(create.parameters.DestinationCidrBlock).toBe('10.65.0.0/16');
      expect(create.parameters.RouteTableId).toContain(`'Fn::Select':[${index},{'Fn::Split':[',',`);
      expect(call(route, 'Update').action).toBe('replaceRoute');
      expect(call(route, 'Delete')).toMatchObject({
        action: 'deleteRoute',
        region: 'us-east-1',
        parameters: { DestinationCidrBlock: '10.65.0.0/16' },
      });
    });
  });

  test('each route resource may change only its own route table in the primary region', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('ec2:CreateRoute'));
    expect(policies).toHaveLength(6);
    for (const policy of policies) {
      const [tableStatement] = policy.Properties.PolicyDocument.Statement;
      expect(tableStatement.Action).toEqual(['ec2:CreateRoute', 'ec2:DeleteRoute', 'ec2:ReplaceRoute']);
      expect(JSON.stringify(tableStatement.Resource)).toContain('arn:aws:ec2:us-east-1:111122223333:route-table/');
    }
  });

  test('passes the quality gates', () => {
    expect(() => build({}, true).app.synth()).not.toThrow();
  });

  test.each<[string, Partial<CrossRegionVpcPeeringProps>, string]>([
    ['a peer in its own region', { peerRegion: 'us-west-2' }, "peerRegion is us-west-2, this stack's own region"],
    ['overlapping CIDRs', { peerCidr: '10.65.128.0/17' }, "peerCidr 10.65.128.0/17 overlaps this VPC's 10.65.0.0/16"],
    ['a malformed CIDR', { peerCidr: '10.64.0.0' }, 'peerCidr must be an IPv4 CIDR block'],
    ['no peer route tables', { peerRouteTableCount: 0 }, 'peerRouteTableCount must be a positive integer, got 0'],
  ])('rejects %s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
