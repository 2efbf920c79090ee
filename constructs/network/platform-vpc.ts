import { RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeNist } from '../private/nag';
import { ValidationError } from '../private/validation-error';

/** Interface endpoints every platform workload uses, so their traffic never leaves the VPC. */
export const DEFAULT_INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
};

export interface PlatformVpcProps {
  /** IPv4 CIDR of the VPC; must be a /16 so the subnet plan fits. */
  readonly cidr: string;
  /** Exactly three availability zone names; fixed so synthesis needs no lookup. */
  readonly availabilityZones: readonly string[];
  /**
   * NAT gateways. One per AZ keeps egress alive when an AZ fails.
   * @default 3
   */
  readonly natGateways?: number;
  /**
   * Retention of the flow log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * Encrypts the flow log group; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Interface endpoints to create, by construct id.
   * @default DEFAULT_INTERFACE_ENDPOINTS
   */
  readonly interfaceEndpoints?: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>>;
}

/**
 * The VPC of one region: public, private (egress through NAT) and isolated (data) subnets in three
 * AZs, an S3 gateway endpoint, interface endpoints for the AWS APIs workloads call, and flow logs.
 *
 * Subnet plan inside the /16: public /24 (load balancers, NAT), private /18 (EKS nodes and pods,
 * Batch), isolated /22 (databases, caches, brokers).
 */
export class PlatformVpc extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;
  /** Attached to every interface endpoint. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PlatformVpcProps) {
    super(scope, id);

    if (props.availabilityZones.length !== 3) {
      throw new ValidationError(
        `availabilityZones must list exactly 3 zones, got ${props.availabilityZones.length}: ${props.availabilityZones.join(', ')}`,
        this,
      );
    }
    if (!Token.isUnresolved(props.cidr) && !/^\d{1,3}\.\d{1,3}\.0\.0\/16$/.test(props.cidr)) {
      throw new ValidationError(`cidr must be a /16 such as 10.64.0.0/16, got ${props.cidr}`, this);
    }
    const natGateways = props.natGateways ?? 3;
    if (natGateways < 1 || natGateways > 3) {
      throw new ValidationError(`natGateways must be 1 to 3 (one per AZ at most), got ${natGateways}`, this);
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: [...props.availabilityZones],
      natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        // Allocated in this order, largest first, so the blocks pack without alignment gaps.
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 18 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });

    Validations.of(this.vpc).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'Zone names are fixed in config so synthesis needs no lookup; every account has these zone names.',
    });
    for (const subnet of this.vpc.publicSubnets) {
      acknowledgeNist(
        subnet,
        'VPCNoUnrestrictedRouteToIGW',
        'A public subnet: it holds only the internet-facing API load balancer and the NAT gateways, which need the route to the internet gateway; workloads and data stores are in the private and isolated subnets.',
      );
    }

    // One security group for all endpoints, open to the VPC's literal CIDR on 443 only.
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'HTTPS from inside the VPC to AWS API interface endpoints',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    for (const [endpointId, service] of Object.entries(props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      });
    }
  }
}
