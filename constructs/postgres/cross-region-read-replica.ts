import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';

export interface CrossRegionReadReplicaProps {
  /**
   * ARN of the source (primary) DB instance in another region. An ARN string, not a reference:
   * stacks in different regions cannot reference each other.
   */
  readonly sourceDbInstanceArn: string;
  /** Instance class without the `db.` prefix, e.g. `m7g.2xlarge`; the same as the source's. */
  readonly instanceClass: string;
  /** Key in this replica's region that encrypts its storage and Performance Insights data. */
  readonly encryptionKey: kms.IKey;
  /** VPC of the replica. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the replica.
   * @default - the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups of the replica; set explicitly so a stack update never reverts them. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * Run the replica Multi-AZ, so that once promoted it already survives an AZ loss.
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * Database port, the same as the source's.
   * @default 5432
   */
  readonly port?: number;
  /**
   * Enhanced Monitoring interval.
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;
}

/**
 * An RDS PostgreSQL read replica of a primary in another region, ready to be promoted by a failover
 * runbook. Storage encryption is inherited from the source and re-keyed with `encryptionKey`.
 *
 * Promotion is one-way: failback builds a new replica in the old primary region.
 */
export class CrossRegionReadReplica extends Construct {
  public readonly instance: rds.CfnDBInstance;
  /** Region of the source instance, parsed from its ARN. */
  public readonly sourceRegion: string;

  constructor(scope: Construct, id: string, props: CrossRegionReadReplicaProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(props.sourceDbInstanceArn)) {
      throw new ValidationError('sourceDbInstanceArn must be a literal ARN: the source region is read from it', this);
    }
    const arn = Arn.split(props.sourceDbInstanceArn, ArnFormat.COLON_RESOURCE_NAME);
    if (arn.service !== 'rds' || arn.resource !== 'db' || !arn.region || !arn.resourceName) {
      throw new ValidationError(
        `sourceDbInstanceArn must be an RDS DB instance ARN (arn:<partition>:rds:<region>:<account>:db:<id>), got ${props.sourceDbInstanceArn}`,
        this,
      );
    }
    if (!Token.isUnresolved(stack.region) && arn.region === stack.region) {
      throw new ValidationError(
        `the source instance is in ${arn.region}, this replica's own region; a cross-region replica needs another region`,
        this,
      );
    }
    this.sourceRegion = arn.region;

    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      description: `Cross-region replica of ${arn.resourceName}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    Validations.of(monitoringRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'AWS-maintained policy that only lets RDS publish Enhanced Monitoring metrics to CloudWatch Logs.',
    });

    this.instance = new rds.CfnDBInstance(this, 'Resource', {
      sourceDbInstanceIdentifier: props.sourceDbInstanceArn,
      sourceRegion: arn.region,
      dbInstanceClass: `db.${props.instanceClass}`,
      kmsKeyId: props.encryptionKey.keyArn,
      multiAz: props.multiAz ?? true,
      port: String(props.port ?? 5432),
      dbSubnetGroupName: subnetGroup.subnetGroupName,
      vpcSecurityGroups: props.securityGroups.map((sg) => sg.securityGroupId),
      publiclyAccessible: false,
      storageType: 'gp3',
      enableIamDatabaseAuthentication: true,
      deletionProtection: true,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      enablePerformanceInsights: true,
      performanceInsightsKmsKeyId: props.encryptionKey.keyArn,
      monitoringInterval: (props.monitoringInterval ?? Duration.seconds(60)).toSeconds(),
      monitoringRoleArn: monitoringRole.roleArn,
    });
    // CloudFormation ignores deletion policies on read replicas, but a promoted replica is a primary.
    this.instance.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'A non-default port adds no protection: the replica sits in isolated subnets behind its security groups, with TLS and IAM auth.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS2',
      reason:
        'Encryption is inherited from the encrypted source; CloudFormation forbids StorageEncrypted on replicas, KmsKeyId re-keys it here.',
    });
  }
}
