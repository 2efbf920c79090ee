import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';

/** Where a data store is placed and who may reach it. */
export interface DataStoreNetworkProps {
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the store.
   * @default - the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** CIDR blocks of the clients (the application subnets) allowed to connect. */
  readonly clientCidrs: readonly string[];
}

/** The subnets a data store goes in when the caller names none. */
export const DATA_SUBNETS: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

export interface ClientSecurityGroupOptions extends DataStoreNetworkProps {
  readonly description: string;
  /** The store's TCP port. */
  readonly port: number;
  /** Protocol name for the rule descriptions, e.g. `PostgreSQL`. */
  readonly protocol: string;
}

/**
 * A security group that admits the clients' CIDR blocks on the store's port only, and sends nothing
 * out: a data store answers connections, it never opens any.
 */
export function clientSecurityGroup(scope: Construct, id: string, options: ClientSecurityGroupOptions): ec2.SecurityGroup {
  if (options.clientCidrs.length === 0) {
    throw new ValidationError('clientCidrs must name at least one client CIDR block, or nothing could connect', scope);
  }
  const group = new ec2.SecurityGroup(scope, id, {
    vpc: options.vpc,
    description: options.description,
    allowAllOutbound: false,
  });
  for (const cidr of options.clientCidrs) {
    group.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(options.port), `${options.protocol} from ${cidr}`);
  }
  return group;
}
