import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { clientSecurityGroup, DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { ValidationError } from '../private/validation-error';
import {
  acknowledgeDefaultPort,
  BACKUP_WINDOW,
  enhancedMonitoringRole,
  instanceDefaults,
  instanceLogGroups,
  POSTGRES_PORT,
  postgresParameters,
} from './instance-support';
import { RegionalDatabaseBase } from './regional-database';

const IDENTIFIER_PATTERN = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;
const INSTANCE_CLASS_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

export interface PostgresDatabaseProps extends DataStoreNetworkProps {
  /**
   * Physical identifier of the primary. Fixed, because replicas in other regions name it by ARN.
   * 1-63 lower-case letters, digits and single hyphens, starting with a letter.
   */
  readonly instanceIdentifier: string;
  readonly engineVersion: rds.PostgresEngineVersion;
  /** Instance class without the `db.` prefix, e.g. `m7g.2xlarge`. */
  readonly instanceClass: string;
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling; at least `allocatedStorageGiB`. */
  readonly maxAllocatedStorageGiB: number;
  /** `max_connections` of every instance. */
  readonly maxConnections: number;
  /** Automated backups and point-in-time recovery window, 1 to 35 days. */
  readonly backupRetention: Duration;
  /**
   * Encrypts storage, Performance Insights, the master user secret and the log groups. Its policy
   * must admit CloudWatch Logs of the region (`cloudWatchLogsKeyStatement`).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Master user; its password is generated, stored and rotated by RDS in Secrets Manager.
   * @default 'mlp_admin'
   */
  readonly masterUsername?: string;
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
 * The platform's PostgreSQL system of record as first created in its home region: a Multi-AZ
 * primary with point-in-time recovery. Its in-region read replicas and pooler are
 * `PrimaryReadScaling`, which follows whichever region is the primary.
 *
 * Clients authenticate with IAM; the master password exists for break-glass use only, generated and
 * rotated by RDS in Secrets Manager. After a failover this instance stays as it is (fenced by the
 * runbook, retained by its stack): promotion elsewhere never turns it back into a replica.
 */
export class PostgresDatabase extends RegionalDatabaseBase {
  public readonly instance: rds.DatabaseInstance;
  public readonly instanceIdentifier: string;
  public readonly instanceArn: string;
  public readonly endpoint: string;
  public readonly dbiResourceId: string;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly subnetGroup: rds.SubnetGroup;
  public readonly parameterGroup: rds.ParameterGroup;
  public readonly monitoringRole: iam.Role;
  /** ARN of the RDS-managed master user secret. */
  public readonly masterSecretArn: string;
  /** The RDS-managed master user secret (JSON with `username` and `password`), encrypted with `encryptionKey`. */
  public readonly masterSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    validate(this, props);
    const vpcSubnets = props.vpcSubnets ?? DATA_SUBNETS;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: props.engineVersion });

    this.securityGroup = clientSecurityGroup(this, 'SecurityGroup', {
      ...props,
      description: `PostgreSQL ${props.instanceIdentifier} and its replicas`,
      port: POSTGRES_PORT,
      protocol: 'PostgreSQL',
    });
    this.subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets,
      description: `Subnets of ${props.instanceIdentifier}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `Parameters of ${props.instanceIdentifier} and its replicas`,
      parameters: postgresParameters(props.maxConnections),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.monitoringRole = enhancedMonitoringRole(this, 'MonitoringRole');

    const primaryLogs = instanceLogGroups(this, props.instanceIdentifier, logRetention, props.encryptionKey);
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      ...instanceDefaults(props.encryptionKey),
      engine,
      instanceType: new ec2.InstanceType(props.instanceClass),
      vpc: props.vpc,
      vpcSubnets,
      subnetGroup: this.subnetGroup,
      securityGroups: [this.securityGroup],
      parameterGroup: this.parameterGroup,
      monitoringInterval: props.monitoringInterval ?? Duration.seconds(60),
      monitoringRole: this.monitoringRole,
      multiAz: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      instanceIdentifier: props.instanceIdentifier,
      allocatedStorage: props.allocatedStorageGiB,
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      storageEncryptionKey: props.encryptionKey,
      credentials: rds.Credentials.fromUsername(props.masterUsername ?? 'mlp_admin', {
        encryptionKey: props.encryptionKey,
      }),
      manageMasterUserPassword: true,
      backupRetention: props.backupRetention,
      preferredBackupWindow: BACKUP_WINDOW,
    });
    this.instance.node.addDependency(...primaryLogs);
    acknowledgeDefaultPort(this.instance);
    const cfnInstance = this.instance.node.defaultChild as rds.CfnDBInstance;
    this.masterSecretArn = cfnInstance.attrMasterUserSecretSecretArn;
    this.masterSecret = secretsmanager.Secret.fromSecretAttributes(this, 'MasterSecret', {
      secretCompleteArn: this.masterSecretArn,
      encryptionKey: props.encryptionKey,
    });
    this.instanceIdentifier = props.instanceIdentifier;
    this.instanceArn = this.instance.instanceArn;
    this.endpoint = this.instance.instanceEndpoint.socketAddress;
    this.dbiResourceId = cfnInstance.attrDbiResourceId;
  }
}

/** Fails on an identifier RDS would reject. */
export function validateInstanceIdentifier(scope: Construct, identifier: string): void {
  if (!Token.isUnresolved(identifier) && !IDENTIFIER_PATTERN.test(identifier)) {
    throw new ValidationError(
      `instance identifier "${identifier}" is invalid: expected 1-63 lower-case letters, digits and single hyphens, starting with a letter`,
      scope,
    );
  }
}

function validate(scope: Construct, props: PostgresDatabaseProps): void {
  const fail = (message: string) => {
    throw new ValidationError(message, scope);
  };
  validateInstanceIdentifier(scope, props.instanceIdentifier);
  if (!INSTANCE_CLASS_PATTERN.test(props.instanceClass)) {
    fail(`instanceClass must look like m7g.2xlarge (no db. prefix), got ${props.instanceClass}`);
  }
  if (props.allocatedStorageGiB < 20 || props.allocatedStorageGiB > 65_536) {
    fail(`allocatedStorageGiB must be 20 to 65536 (gp3), got ${props.allocatedStorageGiB}`);
  }
  if (props.maxAllocatedStorageGiB < props.allocatedStorageGiB || props.maxAllocatedStorageGiB > 65_536) {
    fail(
      `maxAllocatedStorageGiB must be between allocatedStorageGiB (${props.allocatedStorageGiB}) and 65536, got ${props.maxAllocatedStorageGiB}`,
    );
  }
  if (!Number.isInteger(props.maxConnections) || props.maxConnections < 10) {
    fail(`maxConnections must be an integer of at least 10, got ${props.maxConnections}`);
  }
  const backupDays = props.backupRetention.toDays();
  if (backupDays < 1 || backupDays > 35) {
    fail(`backupRetention must be 1 to 35 days (point-in-time recovery needs at least 1), got ${backupDays}`);
  }
}
