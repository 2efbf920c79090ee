import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PlatformVpc } from '../../constructs/network';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/** The region's VPC: subnets, NAT, endpoints, flow logs. Stateless: safe to replace. */
export class NetworkStack extends RegionalStack {
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, props: RegionalStackProps) {
    super(scope, 'network', props);
    const network = new PlatformVpc(this, 'Network', {
      cidr: this.regionPlan.vpcCidr,
      availabilityZones: this.regionPlan.availabilityZones,
      natGateways: this.config.tier.network.natGateways,
      flowLogRetention: this.config.tier.network.flowLogRetentionDays as logs.RetentionDays,
    });
    this.vpc = network.vpc;
    // What another region needs to peer with this VPC (MirrorMaker 2 mode) and what runbooks inspect.
    this.publishRunbookParameter('network', 'vpc-id', network.vpc.vpcId);
    this.publishRunbookParameter(
      'network',
      'route-table-ids',
      [...network.vpc.privateSubnets, ...network.vpc.isolatedSubnets].map((s) => s.routeTable.routeTableId).join(','),
    );
  }
}
