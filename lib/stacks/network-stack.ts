import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { KARPENTER_DISCOVERY_TAG } from '../../constructs/eks';
import { PlatformVpc } from '../../constructs/network';
import { accountKeyPolicy, cloudWatchLogsKeyStatement } from '../../constructs/private/kms';
import { clusterName } from '../config';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/**
 * The region's VPC: subnets, NAT, endpoints, flow logs. Safe to replace, except that the flow log
 * group and its key are retained (they hold the record of what happened).
 */
export class NetworkStack extends RegionalStack {
  public readonly vpc: ec2.IVpc;
  /** Encrypts the flow logs. The data stack's key cannot: the data stack is deployed after this one. */
  public readonly flowLogsKey: kms.Key;

  constructor(scope: Construct, props: RegionalStackProps) {
    super(scope, 'network', props);
    this.flowLogsKey = new kms.Key(this, 'FlowLogsKey', {
      description: `Encrypts the ${this.config.tier.name} platform's VPC flow logs in ${this.region}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: accountKeyPolicy(),
    });
    this.flowLogsKey.addToResourcePolicy(cloudWatchLogsKeyStatement(this));
    const network = new PlatformVpc(this, 'Network', {
      cidr: this.regionPlan.vpcCidr,
      availabilityZones: this.regionPlan.availabilityZones,
      natGateways: this.config.tier.network.natGateways,
      flowLogRetention: this.config.tier.network.flowLogRetentionDays as logs.RetentionDays,
      logEncryptionKey: this.flowLogsKey,
    });
    this.vpc = network.vpc;
    // Karpenter launches the EKS cluster's nodes in the subnets that carry this tag.
    for (const subnet of network.vpc.privateSubnets) {
      Tags.of(subnet).add(KARPENTER_DISCOVERY_TAG, clusterName(this.config.tier.name, this.regionPlan.code));
    }
    // What another region needs to peer with this VPC (MirrorMaker 2 mode) and what runbooks inspect.
    this.publishRunbookParameter('network', 'vpc-id', network.vpc.vpcId);
    this.publishRunbookParameter(
      'network',
      'route-table-ids',
      [...network.vpc.privateSubnets, ...network.vpc.isolatedSubnets].map((s) => s.routeTable.routeTableId).join(','),
    );
  }
}
