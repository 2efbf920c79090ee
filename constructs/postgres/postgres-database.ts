import { ArnFormat, Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { clientSecurityGroup, DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import {
  acknowledgeDefaultPort,
  acknowledgeReplicaFindings,
  EXPORTED_LOGS,
  enhancedMonitoringRole,
  instanceLogGroups,
  POSTGRES_PORT,
  postgresParameters,
} from './instance-support';

/** RDS allows at most 15 read replicas of one PostgreSQL instance. */
export const MAX_READ_REPLICAS = 15;

const IDENTIFIER_PATTERN = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;
const INSTANCE_CLASS_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/** An in-region read replica and the traffic it serves. */
export interface PostgresReadReplicaSpec {
  /** Physical instance identifier. */
  readonly instanceIdentifier: string;
  /** What the replica serves, e.g. `status-api`; tagged as `mlp:replica-role`. */
  readonly role: string;
}

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
  /** Encrypts storage, Performance Insights and the master user secret. */
  readonly encryptionKey: kms.IKey;
  /**
   * In-region read replicas.
   * @default - none
   */
  readonly readReplicas?: readonly PostgresReadReplicaSpec[];
  /**
   * Put an RDS Proxy in front of the primary, named like the primary.
   * @default false
   */
  readonly connectionPooler?: boolean;
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
 * The platform's PostgreSQL system of record in its primary region: a Multi-AZ primary with
 * point-in-time recovery, in-region read replicas named by the traffic they serve, and optionally
 * RDS Proxy as the connection pooler (the seeds' PgBouncer).
 *
 * Clients authenticate with IAM (to the instances and, end to end, through the proxy); the master
 * password exists for break-glass use only, generated and rotated by RDS in Secrets Manager.
 */
export class PostgresDatabase extends Construct {
  public readonly instance: rds.DatabaseInstance;
  public readonly readReplicas: rds.DatabaseInstanceReadReplica[] = [];
  public readonly proxy?: rds.DatabaseProxy;
  public readonly securityGroup: ec2.SecurityGroup;
  /** ARN of the RDS-managed master user secret. */
  public readonly masterSecretArn: string;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    validate(this, props);
    const vpcSubnets = props.vpcSubnets ?? DATA_SUBNETS;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: props.engineVersion });
    const instanceType = new ec2.InstanceType(props.instanceClass);

    this.securityGroup = clientSecurityGroup(this, 'SecurityGroup', {
      ...props,
      description: `PostgreSQL ${props.instanceIdentifier} and its replicas`,
      port: POSTGRES_PORT,
      protocol: 'PostgreSQL',
    });
    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets,
      description: `Subnets of ${props.instanceIdentifier}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `Parameters of ${props.instanceIdentifier} and its replicas`,
      parameters: postgresParameters(props.maxConnections),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const monitoringRole = enhancedMonitoringRole(this, 'MonitoringRole');
    const monitoringInterval = props.monitoringInterval ?? Duration.seconds(60);

    const common = {
      instanceType,
      vpc: props.vpc,
      vpcSubnets,
      subnetGroup,
      securityGroups: [this.securityGroup],
      port: POSTGRES_PORT,
      parameterGroup,
      multiAz: true,
      storageType: rds.StorageType.GP3,
      iamAuthentication: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: props.encryptionKey,
      monitoringInterval,
      monitoringRole,
      cloudwatchLogsExports: [...EXPORTED_LOGS],
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      publiclyAccessible: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      preferredMaintenanceWindow: 'sun:05:30-sun:06:30',
    } satisfies Partial<rds.DatabaseInstanceReadReplicaProps>;

    const primaryLogs = instanceLogGroups(this, props.instanceIdentifier, logRetention);
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      ...common,
      engine,
      instanceIdentifier: props.instanceIdentifier,
      allocatedStorage: props.allocatedStorageGiB,
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      storageEncryptionKey: props.encryptionKey,
      credentials: rds.Credentials.fromUsername(props.masterUsername ?? 'mlp_admin', {
        encryptionKey: props.encryptionKey,
      }),
      manageMasterUserPassword: true,
      backupRetention: props.backupRetention,
      preferredBackupWindow: '03:00-04:00',
    });
    this.instance.node.addDependency(...primaryLogs);
    acknowledgeDefaultPort(this.instance);
    const cfnInstance = this.instance.node.defaultChild as rds.CfnDBInstance;
    this.masterSecretArn = cfnInstance.attrMasterUserSecretSecretArn;

    const zones = props.vpc.availabilityZones;
    for (const [index, spec] of (props.readReplicas ?? []).entries()) {
      const scope = new Construct(this, `ReadReplica${index + 1}`);
      const replicaLogs = instanceLogGroups(scope, spec.instanceIdentifier, logRetention);
      const replica = new rds.DatabaseInstanceReadReplica(scope, 'Instance', {
        ...common,
        instanceIdentifier: spec.instanceIdentifier,
        sourceDatabaseInstance: this.instance,
        // Read capacity, not durability: the replicas are spread over the zones instead.
        multiAz: false,
        availabilityZone: zones[index % zones.length],
      });
      replica.node.addDependency(...replicaLogs);
      Tags.of(replica).add('mlp:replica-role', spec.role);
      acknowledgeReplicaFindings(replica);
      Validations.of(replica).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: 'The zone comes from the VPC, whose zones are fixed in config; pinning each replica to one spreads them across all three.',
      });
      Validations.of(replica).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'An in-region read replica adds read capacity only; the replicas are spread over the three zones and a lost one is rebuilt from the Multi-AZ primary.',
      });
      this.readReplicas.push(replica);
    }

    if (props.connectionPooler) {
      this.proxy = this.addProxy(props, vpcSubnets);
    }
  }

  /**
   * RDS Proxy with end-to-end IAM authentication: clients present an IAM token to the proxy, and the
   * proxy connects to PostgreSQL with an IAM token of its own role, so no database password is stored.
   */
  private addProxy(props: PostgresDatabaseProps, vpcSubnets: ec2.SubnetSelection): rds.DatabaseProxy {
    const securityGroup = clientSecurityGroup(this, 'ProxySecurityGroup', {
      ...props,
      description: `RDS Proxy of ${props.instanceIdentifier}`,
      port: POSTGRES_PORT,
      protocol: 'PostgreSQL',
    });
    const role = new iam.Role(this, 'ProxyRole', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      description: `RDS Proxy of ${props.instanceIdentifier}: connects to the database with IAM tokens`,
    });
    const cfnInstance = this.instance.node.defaultChild as rds.CfnDBInstance;
    const anyDatabaseUser = Stack.of(this).formatArn({
      service: 'rds-db',
      resource: 'dbuser',
      resourceName: `${cfnInstance.attrDbiResourceId}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['rds-db:connect'], resources: [anyDatabaseUser] }));
    acknowledgeWildcardResource(
      role,
      anyDatabaseUser,
      'With end-to-end IAM auth the proxy connects as the user each client authenticated as, so it may connect as any user of this one instance; which clients may use which user is decided by their own rds-db:connect grants on the proxy.',
    );
    const proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromInstance(this.instance),
      dbProxyName: props.instanceIdentifier,
      vpc: props.vpc,
      vpcSubnets,
      securityGroups: [securityGroup],
      role,
      defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
      iamAuth: true,
      requireTLS: true,
      idleClientTimeout: Duration.minutes(30),
      maxConnectionsPercent: 90,
      borrowTimeout: Duration.seconds(30),
    });
    return proxy;
  }
}

function validate(scope: Construct, props: PostgresDatabaseProps): void {
  const fail = (message: string) => {
    throw new ValidationError(message, scope);
  };
  const identifiers = [props.instanceIdentifier, ...(props.readReplicas ?? []).map((r) => r.instanceIdentifier)];
  for (const identifier of identifiers) {
    if (!Token.isUnresolved(identifier) && !IDENTIFIER_PATTERN.test(identifier)) {
      fail(
        `instance identifier "${identifier}" is invalid: expected 1-63 lower-case letters, digits and single hyphens, starting with a letter`,
      );
    }
  }
  if (new Set(identifiers).size !== identifiers.length) {
    fail(`instance identifiers must be unique, got ${identifiers.join(', ')}`);
  }
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
  const replicas = props.readReplicas?.length ?? 0;
  if (replicas > MAX_READ_REPLICAS) {
    fail(`readReplicas: RDS allows at most ${MAX_READ_REPLICAS} read replicas of one instance, got ${replicas}`);
  }
}
