import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type { Construct } from 'constructs';
import { clientSecurityGroup, DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { acknowledgeNist } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import {
  acknowledgeReplicaFindings,
  BACKUP_WINDOW,
  EXPORTED_LOGS,
  enhancedMonitoringRole,
  instanceLogGroups,
  MAINTENANCE_WINDOW,
  POSTGRES_PORT,
  postgresParameters,
} from './instance-support';
import { validateInstanceIdentifier } from './postgres-database';
import { RegionalDatabaseBase } from './regional-database';

export interface CrossRegionReadReplicaProps extends DataStoreNetworkProps {
  /**
   * ARN of the source (primary) DB instance in another region. An ARN string, not a reference:
   * stacks in different regions cannot reference each other.
   */
  readonly sourceDbInstanceArn: string;
  /**
   * Physical identifier of the replica. Fixed, so a runbook can promote it by name.
   */
  readonly instanceIdentifier: string;
  /** The source's engine version; the replica's parameter group must be of the same family. */
  readonly engineVersion: rds.PostgresEngineVersion;
  /** Instance class without the `db.` prefix, e.g. `m7g.2xlarge`; the same as the source's. */
  readonly instanceClass: string;
  /** `max_connections`, the same as the source's, so a promoted replica takes the same load. */
  readonly maxConnections: number;
  /**
   * Key in this replica's region that encrypts its storage, Performance Insights data and log
   * groups. Its policy must admit CloudWatch Logs of the region (`cloudWatchLogsKeyStatement`).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Automated backups and point-in-time recovery window, 1 to 35 days. Kept on the replica so the
   * moment a runbook promotes it, it already has point-in-time recovery.
   */
  readonly backupRetention: Duration;
  /**
   * Run the replica Multi-AZ, so that once promoted it already survives an AZ loss.
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * Retention of the exported PostgreSQL logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
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
 * The template describes the instance as it was created, whatever its role since: a failover
 * runbook promotes it through the RDS API (`PromoteReadReplica`), and the template keeps
 * `SourceDBInstanceIdentifier`. Removing that property would make CloudFormation call
 * `PromoteReadReplica` again without first checking the instance, which fails on a promoted one
 * and leaves the stack in rollback; the property is write-only, so drift detection never reports
 * it. Promotion is one-way: failback builds a new replica (a new identifier) in the old primary
 * region, and this instance is retained until it is retired.
 */
export class CrossRegionReadReplica extends RegionalDatabaseBase {
  /** The CloudFormation instance. */
  public readonly resource: rds.CfnDBInstance;
  public readonly instance: rds.IDatabaseInstance;
  public readonly instanceIdentifier: string;
  public readonly instanceArn: string;
  public readonly endpoint: string;
  public readonly dbiResourceId: string;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly subnetGroup: rds.SubnetGroup;
  public readonly parameterGroup: rds.IParameterGroup;
  public readonly monitoringRole: iam.Role;
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
    validateInstanceIdentifier(this, props.instanceIdentifier);
    const backupDays = props.backupRetention.toDays();
    if (backupDays < 1 || backupDays > 35) {
      throw new ValidationError(
        `backupRetention must be 1 to 35 days (a promoted replica needs point-in-time recovery), got ${backupDays}`,
        this,
      );
    }

    this.securityGroup = clientSecurityGroup(this, 'SecurityGroup', {
      ...props,
      description: `PostgreSQL replica ${props.instanceIdentifier}`,
      port: POSTGRES_PORT,
      protocol: 'PostgreSQL',
    });
    this.subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? DATA_SUBNETS,
      description: `Cross-region replica of ${arn.resourceName}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const subnetGroup = this.subnetGroup;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: props.engineVersion });
    const parameterGroup = new rds.CfnDBParameterGroup(this, 'Parameters', {
      family: engine.parameterGroupFamily ?? `postgres${props.engineVersion.postgresMajorVersion}`,
      description: `Parameters of ${props.instanceIdentifier}, the same as its source's`,
      parameters: postgresParameters(props.maxConnections),
    });
    parameterGroup.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.monitoringRole = enhancedMonitoringRole(this, 'MonitoringRole');
    const monitoringRole = this.monitoringRole;
    const logGroups = instanceLogGroups(
      this,
      props.instanceIdentifier,
      props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      props.encryptionKey,
    );

    this.resource = new rds.CfnDBInstance(this, 'Resource', {
      sourceDbInstanceIdentifier: props.sourceDbInstanceArn,
      sourceRegion: arn.region,
      dbInstanceIdentifier: props.instanceIdentifier,
      dbParameterGroupName: parameterGroup.ref,
      dbInstanceClass: `db.${props.instanceClass}`,
      kmsKeyId: props.encryptionKey.keyArn,
      multiAz: props.multiAz ?? true,
      backupRetentionPeriod: backupDays,
      preferredBackupWindow: BACKUP_WINDOW,
      port: String(POSTGRES_PORT),
      dbSubnetGroupName: subnetGroup.subnetGroupName,
      vpcSecurityGroups: [this.securityGroup.securityGroupId],
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
      enableCloudwatchLogsExports: [...EXPORTED_LOGS],
      caCertificateIdentifier: rds.CaCertificate.RDS_CA_RSA2048_G1.toString(),
      preferredMaintenanceWindow: MAINTENANCE_WINDOW,
    });
    const instance = this.resource;
    // CloudFormation ignores deletion policies on read replicas, but a promoted replica is a primary.
    instance.applyRemovalPolicy(RemovalPolicy.RETAIN);
    instance.node.addDependency(...logGroups);
    acknowledgeReplicaFindings(instance);
    this.instanceIdentifier = props.instanceIdentifier;
    this.instanceArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: props.instanceIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.endpoint = `${instance.attrEndpointAddress}:${instance.attrEndpointPort}`;
    this.dbiResourceId = instance.attrDbiResourceId;
    this.parameterGroup = rds.ParameterGroup.fromParameterGroupName(this, 'ParameterGroup', parameterGroup.ref);
    this.instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
      instanceIdentifier: instance.ref,
      instanceEndpointAddress: instance.attrEndpointAddress,
      port: POSTGRES_PORT,
      securityGroups: [this.securityGroup],
      instanceResourceId: instance.attrDbiResourceId,
      engine,
    });
    if (props.multiAz === false) {
      const reason =
        'Single-AZ by explicit choice of the caller (the dev tier): the replica holds no writes until promoted, and a promoted instance can be made Multi-AZ online.';
      Validations.of(instance).acknowledge({ id: 'AwsSolutions-RDS3', reason });
      acknowledgeNist(instance, 'RDSMultiAZSupport', reason);
    }
  }
}
