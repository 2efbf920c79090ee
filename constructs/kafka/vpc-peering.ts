import { Arn, Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { pascalCase } from '../private/ids';
import { sdkCallResource } from '../private/sdk-call';
import { ValidationError } from '../private/validation-error';

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export interface CrossRegionVpcPeeringProps {
  /** This (secondary) region's VPC: the requester. */
  readonly vpc: ec2.IVpc;
  /**
   * This VPC's CIDR, routed back from the primary.
   * @default vpc.vpcCidrBlock
   */
  readonly vpcCidr?: string;
  /** Region of the primary VPC: the accepter. */
  readonly peerRegion: string;
  /** CIDR of the primary VPC (from the address plan); must not overlap this VPC's. */
  readonly peerCidr: string;
  /** SSM parameter, in `peerRegion`, that holds the primary VPC's id. */
  readonly peerVpcIdParameterName: string;
  /** SSM parameter (StringList), in `peerRegion`, with the ids of the primary route tables that need a route back. */
  readonly peerRouteTableIdsParameterName: string;
  /** How many ids that parameter holds; a template needs a fixed number of routes. */
  readonly peerRouteTableCount: number;
  /**
   * Subnets of this VPC whose route tables get a route to the primary.
   * @default - the private (EKS) and isolated (data) subnets
   */
  readonly routedSubnets?: readonly ec2.SubnetSelection[];
  /**
   * Encrypts the log groups of the functions that read the peer's parameters and add its routes; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * Peering from the secondary region's VPC to the primary's, with routes both ways, for MirrorMaker 2
 * (which connects from the secondary's pods to the primary's brokers). Built in the secondary's stack:
 * stacks in different regions cannot reference each other, so the primary publishes its VPC id and
 * route table ids as SSM parameters and this construct reads them at deploy time.
 *
 * Each read is a custom resource whose parameters are the region and parameter name only: it reads
 * once when created and again only if those change. A later deployment therefore never sees a
 * different peer VPC id by surprise, and the peering (which CloudFormation replaces when
 * `PeerVpcId` changes) is stable across updates.
 *
 * No separate acceptance: in one account CloudFormation accepts the request itself, in the peer
 * region, and waits for the connection to be active (it fails with "VpcPeeringConnection failed to
 * stabilize" otherwise). An extra `AcceptVpcPeeringConnection` call would find it already active.
 */
export class CrossRegionVpcPeering extends Construct {
  public readonly peering: ec2.CfnVPCPeeringConnection;
  /** The primary VPC's id, as read from SSM. */
  public readonly peerVpcId: string;

  constructor(scope: Construct, id: string, props: CrossRegionVpcPeeringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validate(this, props, stack.region);
    const vpcCidr = props.vpcCidr ?? props.vpc.vpcCidrBlock;

    this.peerVpcId = readParameter(this, 'PeerVpcId', props.peerRegion, props.peerVpcIdParameterName, props.logEncryptionKey);
    this.peering = new ec2.CfnVPCPeeringConnection(this, 'Resource', {
      vpcId: props.vpc.vpcId,
      peerVpcId: this.peerVpcId,
      peerRegion: props.peerRegion,
      tags: [{ key: 'Name', value: `${stack.region} to ${props.peerRegion}` }],
    });

    // This side: every routed subnet's route table sends the primary's CIDR over the peering.
    const routeTables = new Set<string>();
    for (const selection of props.routedSubnets ?? [
      { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ]) {
      for (const subnet of props.vpc.selectSubnets(selection).subnets) routeTables.add(subnet.routeTable.routeTableId);
    }
    [...routeTables].forEach((routeTableId, index) => {
      new ec2.CfnRoute(this, `RouteToPeer${index}`, {
        routeTableId,
        destinationCidrBlock: props.peerCidr,
        vpcPeeringConnectionId: this.peering.ref,
      });
    });

    // The primary's side, in its region.
    const peerRouteTableIds = Fn.split(
      ',',
      readParameter(this, 'PeerRouteTableIds', props.peerRegion, props.peerRouteTableIdsParameterName, props.logEncryptionKey),
      props.peerRouteTableCount,
    );
    const peeringArn = Arn.format(
      { service: 'ec2', region: props.peerRegion, resource: 'vpc-peering-connection', resourceName: this.peering.ref },
      stack,
    );
    peerRouteTableIds.forEach((routeTableId, index) => {
      const routeScope = new Construct(this, `PeerRouteBack${index}`);
      const route = { RouteTableId: routeTableId, DestinationCidrBlock: vpcCidr };
      // One route per (table, CIDR): a new peering connection (this VPC replaced) replaces the route's
      // target in place. A different table or CIDR is a different route: give it a new construct id.
      const call = (action: string): cr.AwsSdkCall => ({
        service: 'EC2',
        action,
        parameters: { ...route, VpcPeeringConnectionId: this.peering.ref },
        region: props.peerRegion,
        physicalResourceId: cr.PhysicalResourceId.of(`${props.peerRegion}:${routeTableId}:${vpcCidr}`),
      });
      sdkCallResource(routeScope, {
        resourceType: 'Custom::PeerRoute',
        description: `Routes ${stack.region}'s CIDR over the peering in a route table of ${props.peerRegion}`,
        onCreate: call('createRoute'),
        onUpdate: call('replaceRoute'),
        onDelete: { service: 'EC2', action: 'deleteRoute', parameters: route, region: props.peerRegion },
        logEncryptionKey: props.logEncryptionKey,
        statements: [
          new iam.PolicyStatement({
            actions: ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute'],
            resources: [
              Arn.format({ service: 'ec2', region: props.peerRegion, resource: 'route-table', resourceName: routeTableId }, stack),
            ],
          }),
          new iam.PolicyStatement({ actions: ['ec2:CreateRoute', 'ec2:ReplaceRoute'], resources: [peeringArn] }),
        ],
      });
    });
  }

  get peeringConnectionId(): string {
    return this.peering.ref;
  }
}

/**
 * The value of an SSM parameter in another region, read once at deploy time (and again only when the
 * region or name changes).
 */
function readParameter(scope: Construct, id: string, region: string, name: string, logEncryptionKey: kms.IKey): string {
  const lookup = new Construct(scope, `${pascalCase(id)}Lookup`);
  const resource = sdkCallResource(lookup, {
    resourceType: 'Custom::CrossRegionParameter',
    description: `Reads ${name} in ${region}`,
    onCreate: {
      service: 'SSM',
      action: 'getParameter',
      parameters: { Name: name },
      region,
      physicalResourceId: cr.PhysicalResourceId.of(`${region}:${name}`),
    },
    logEncryptionKey,
    statements: [
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [Arn.format({ service: 'ssm', region, resource: 'parameter', resourceName: name.replace(/^\//, '') }, Stack.of(scope))],
      }),
    ],
  });
  return resource.getResponseField('Parameter.Value');
}

function validate(scope: Construct, props: CrossRegionVpcPeeringProps, region: string): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  if (!Token.isUnresolved(region) && props.peerRegion === region) {
    fail(`peerRegion is ${region}, this stack's own region; the peering is cross-region, built in the secondary's stack`);
  }
  if (!Number.isInteger(props.peerRouteTableCount) || props.peerRouteTableCount < 1) {
    fail(`peerRouteTableCount must be a positive integer, got ${props.peerRouteTableCount}`);
  }
  const peer = parseCidr(props.peerCidr);
  if (peer === undefined) fail(`peerCidr must be an IPv4 CIDR block such as 10.64.0.0/16, got ${props.peerCidr}`);
  const own = props.vpcCidr === undefined || Token.isUnresolved(props.vpcCidr) ? undefined : parseCidr(props.vpcCidr);
  if (props.vpcCidr !== undefined && !Token.isUnresolved(props.vpcCidr) && own === undefined) {
    fail(`vpcCidr must be an IPv4 CIDR block, got ${props.vpcCidr}`);
  }
  if (peer !== undefined && own !== undefined && overlaps(peer, own)) {
    fail(`peerCidr ${props.peerCidr} overlaps this VPC's ${props.vpcCidr}; peered VPCs need disjoint address ranges`);
  }
}

interface Block {
  readonly start: number;
  readonly size: number;
}

function parseCidr(cidr: string): Block | undefined {
  const match = CIDR.exec(cidr);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  return { start: address - (address % size), size };
}

function overlaps(a: Block, b: Block): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}
