import { Arn, ArnFormat, type Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { clientSecurityGroup, DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { markDerivedCopy } from '../private/derived-copy';
import { acknowledgeNist } from '../private/nag';
import { sdkCallResource } from '../private/sdk-call';
import { ValidationError } from '../private/validation-error';
import { addIamAuthProxy, type IamAuthProxy } from './iam-auth-proxy';
import { BACKUP_WINDOW, enhancedMonitoringRole, MAINTENANCE_WINDOW, POSTGRES_PORT } from './instance-support';
import { validateInstanceIdentifier } from './postgres-database';
import { type IPostgresClientAccess, RegionalPostgresBase } from './regional-database';

const ENGINE = 'aurora-postgresql';
/** Aurora PostgreSQL versions are `<major>.<minor>`; managed switchover and failover need the same on every cluster. */
const ENGINE_VERSION_PATTERN = /^(\d{2})\.\d{1,2}$/;
/** Aurora global databases need memory-optimized classes (Aurora User Guide, configuration requirements of a global database). */
const MEMORY_OPTIMIZED_CLASS = /^(r\d+[a-z]*|x2g)\.[a-z0-9]+$/;
/** At most 15 Aurora Replicas in a cluster; in a global database's primary, 15 minus one per secondary region (same page). */
export const MAX_AURORA_REPLICAS = 15;

export interface AuroraGlobalClusterProps {
  /** Name of the global database, lower case (RDS stores it so); its global writer endpoint starts with it. */
  readonly globalClusterIdentifier: string;
  /** Aurora PostgreSQL `<major>.<minor>`, e.g. `17.9`; every member cluster runs the same. */
  readonly engineVersion: string;
}

/**
 * An Aurora global database, created empty from its engine and version: the first cluster that joins
 * it becomes its primary. `SourceDBClusterIdentifier` is never set: it is create-only (a change
 * replaces the global database), and after every switchover it would name a secondary (CloudFormation
 * coverage roadmap issue 1856). No primary is named anywhere in the templates, so a managed
 * switchover or failover needs no template change.
 */
export class AuroraGlobalCluster extends Construct {
  public readonly globalClusterIdentifier: string;
  /** `arn:<partition>:rds::<account>:global-cluster:<id>`: global, with no region (Service Authorization Reference, RDS). */
  public readonly globalClusterArn: string;
  public readonly resource: rds.CfnGlobalCluster;

  constructor(scope: Construct, id: string, props: AuroraGlobalClusterProps) {
    super(scope, id);
    validateEngineVersion(this, props.engineVersion);
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(props.globalClusterIdentifier)) {
      throw new ValidationError(
        `globalClusterIdentifier "${props.globalClusterIdentifier}" is invalid: expected 1-63 lower-case letters, digits and hyphens, starting with a letter`,
        this,
      );
    }
    this.resource = new rds.CfnGlobalCluster(this, 'Resource', {
      globalClusterIdentifier: props.globalClusterIdentifier,
      engine: ENGINE,
      engineVersion: props.engineVersion,
      storageEncrypted: true,
      deletionProtection: true,
    });
    this.resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.globalClusterIdentifier = props.globalClusterIdentifier;
    this.globalClusterArn = globalClusterArn(this, props.globalClusterIdentifier);
  }
}

export interface GlobalWriterEndpointProps {
  /** The global database whose writer endpoint is read; it exists before the resource is created. */
  readonly globalClusterIdentifier: string;
  /**
   * Encrypts the log group of the function that reads it; its policy must admit CloudWatch Logs of
   * this region (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * The global writer endpoint of an Aurora global database, read at deploy time: "a writer endpoint
 * that is automatically updated by Aurora to route requests to the current writer instance of the
 * primary DB cluster", so that "you don't have to modify your connection string after you change
 * the location of the primary Region" with a managed switchover or failover (Aurora User Guide,
 * connecting to a global database). CloudFormation gives no attribute for it, and its name holds a
 * suffix Aurora chooses, so `DescribeGlobalClusters` reads it (`GlobalCluster.Endpoint`). It is read
 * when the resource is created and never again: the name stays while the global database does.
 */
export class GlobalWriterEndpoint extends Construct {
  /** `<global database>.global-<suffix>.global.rds.amazonaws.com`. */
  public readonly hostname: string;
  /** The custom resource; depend on it from what needs the global database to exist first. */
  public readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: GlobalWriterEndpointProps) {
    super(scope, id);
    const read: cr.AwsSdkCall = {
      service: 'RDS',
      action: 'describeGlobalClusters',
      parameters: { GlobalClusterIdentifier: props.globalClusterIdentifier },
      physicalResourceId: cr.PhysicalResourceId.of(`global-writer:${props.globalClusterIdentifier}`),
      outputPaths: ['GlobalClusters.0.Endpoint'],
    };
    this.resource = sdkCallResource(this, {
      resourceType: 'Custom::GlobalWriterEndpoint',
      description: `Reads the global writer endpoint of ${props.globalClusterIdentifier}`,
      onCreate: read,
      logEncryptionKey: props.logEncryptionKey,
      // DescribeGlobalClusters: resource type global-cluster, whose ARN has no region (Service Authorization Reference, RDS).
      statements: [
        new iam.PolicyStatement({
          actions: ['rds:DescribeGlobalClusters'],
          resources: [globalClusterArn(this, props.globalClusterIdentifier)],
        }),
      ],
    });
    this.hostname = this.resource.getResponseField('GlobalClusters.0.Endpoint');
  }
}

/** The ARN of a global database, from its name. */
export function globalClusterArn(scope: Construct, globalClusterIdentifier: string): string {
  return Arn.format(
    {
      service: 'rds',
      region: '',
      resource: 'global-cluster',
      resourceName: globalClusterIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    Stack.of(scope),
  );
}

/** An Aurora Replica and the traffic it serves. */
export interface AuroraReaderSpec {
  /** Physical instance identifier. */
  readonly instanceIdentifier: string;
  /** What the reader serves, e.g. `status-api`; readers of one role share a custom endpoint named after it. */
  readonly role: string;
}

export interface AuroraRegionalClusterProps extends DataStoreNetworkProps {
  /** Cluster identifier, unique across every region of the global database (Aurora requires it). */
  readonly clusterIdentifier: string;
  /** The global database the cluster is a member of. */
  readonly globalClusterIdentifier: string;
  /** The global database's `<major>.<minor>`. */
  readonly engineVersion: string;
  /** Memory-optimized instance class without the `db.` prefix, e.g. `r7g.2xlarge`. */
  readonly instanceClass: string;
  /**
   * Identifiers of the two instances that stand ready to write, in different zones: in the primary
   * region the writer and its Multi-AZ standby, in a secondary the pair that becomes them on promotion.
   */
  readonly writerInstanceIdentifiers: readonly [string, string];
  /** Readers named by the traffic they serve, each role behind a custom endpoint. @default - none */
  readonly readers?: readonly AuroraReaderSpec[];
  /** `max_connections` of every instance. */
  readonly maxConnections: number;
  /** Automated backups and point-in-time recovery window, 1 to 35 days; applied whenever the cluster is the primary. */
  readonly backupRetention: Duration;
  /** Encrypts storage, Performance Insights and the log group; a key of this region. */
  readonly encryptionKey: kms.IKey;
  /**
   * The master user of the cluster that creates the global database (its first primary); absent for
   * a secondary, which takes the primary's users by replication (RDS rejects credentials on a
   * cross-region member: InvalidParameterCombination). Aurora cannot manage the password of a
   * global database's cluster in Secrets Manager (Aurora User Guide, Secrets Manager limitations),
   * so it is a generated secret of ours.
   * @default - a secondary member, without credentials
   */
  readonly masterCredentials?: { readonly username: string; readonly secret: secretsmanager.ISecret };
  /** Put RDS Proxy in front of the cluster (its read/write endpoint serves while the cluster is the primary). @default false */
  readonly connectionPooler?: boolean;
  /** Retention of the exported PostgreSQL log. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Enhanced Monitoring interval. @default 60 s */
  readonly monitoringInterval?: Duration;
}

/**
 * One region's cluster of an Aurora PostgreSQL global database. Every region's cluster has the same
 * shape whichever is the primary: two instances that can write, in two zones (Multi-AZ once it is the
 * primary), and the seeds' read roles as readers behind custom endpoints. A managed switchover or
 * failover changes which cluster writes, never a template.
 *
 * Storage belongs to the cluster, which is retained and deletion-protected; an instance holds no data
 * (it is compute over the cluster volume) and may be removed.
 */
export class AuroraRegionalCluster extends RegionalPostgresBase implements IPostgresClientAccess {
  public readonly databaseIdentifier: string;
  public readonly databaseArn: string;
  public readonly endpointAddress: string;
  public readonly endpointPort: string;
  public readonly endpoint: string;
  public readonly resourceId: string;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly cluster: rds.CfnDBCluster;
  public readonly instances: readonly rds.CfnDBInstance[];
  /** The reader endpoint of the whole cluster. */
  public readonly readerEndpointAddress: string;
  /** One custom endpoint per read role, by role. */
  public readonly roleEndpoints: ReadonlyMap<string, rds.CfnDBClusterEndpoint>;
  public readonly pooler?: IamAuthProxy;

  constructor(scope: Construct, id: string, props: AuroraRegionalClusterProps) {
    super(scope, id);
    validate(this, props);
    const vpcSubnets = props.vpcSubnets ?? DATA_SUBNETS;
    const major = (ENGINE_VERSION_PATTERN.exec(props.engineVersion) as RegExpExecArray)[1];
    const family = `aurora-postgresql${major}`;

    this.securityGroup = clientSecurityGroup(this, 'SecurityGroup', {
      ...props,
      description: `Aurora PostgreSQL ${props.clusterIdentifier}`,
      port: POSTGRES_PORT,
      protocol: 'PostgreSQL',
    });
    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets,
      description: `Subnets of ${props.clusterIdentifier}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const clusterParameters = new rds.CfnDBClusterParameterGroup(this, 'ClusterParameters', {
      family,
      description: `Cluster parameters of ${props.clusterIdentifier}`,
      parameters: {
        'rds.force_ssl': '1',
        ssl_min_protocol_version: 'TLSv1.2',
        password_encryption: 'scram-sha-256',
        'rds.logical_replication': '0', // replication to other regions is Aurora's storage replication
      },
    });
    const instanceParameters = new rds.CfnDBParameterGroup(this, 'InstanceParameters', {
      family,
      description: `Instance parameters of ${props.clusterIdentifier}`,
      parameters: { max_connections: String(props.maxConnections), log_min_duration_statement: '1000', log_lock_waits: '1' },
    });
    const monitoringRole = enhancedMonitoringRole(this, 'MonitoringRole');
    const logGroup = new logs.LogGroup(this, 'LogsPostgresql', {
      logGroupName: `/aws/rds/cluster/${props.clusterIdentifier}/postgresql`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const credentials = props.masterCredentials;
    this.cluster = new rds.CfnDBCluster(this, 'Cluster', {
      dbClusterIdentifier: props.clusterIdentifier,
      globalClusterIdentifier: props.globalClusterIdentifier,
      engine: ENGINE,
      engineVersion: props.engineVersion,
      port: POSTGRES_PORT,
      dbSubnetGroupName: subnetGroup.subnetGroupName,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      dbClusterParameterGroupName: clusterParameters.ref,
      storageEncrypted: true,
      kmsKeyId: props.encryptionKey.keyArn,
      enableIamDatabaseAuthentication: true,
      backupRetentionPeriod: props.backupRetention.toDays(),
      preferredBackupWindow: BACKUP_WINDOW,
      preferredMaintenanceWindow: MAINTENANCE_WINDOW,
      enableCloudwatchLogsExports: ['postgresql'],
      copyTagsToSnapshot: true,
      deletionProtection: true,
      ...(credentials
        ? {
            masterUsername: credentials.username,
            masterUserPassword: credentials.secret.secretValueFromJson('password').unsafeUnwrap(),
          }
        : {}),
    });
    this.cluster.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.cluster.node.addDependency(logGroup);

    const zones = props.vpc.availabilityZones;
    const readers = props.readers ?? [];
    const instanceSpecs = [
      ...props.writerInstanceIdentifiers.map((identifier) => ({ identifier, role: 'writer', promotionTier: 0 })),
      ...readers.map((r) => ({ identifier: r.instanceIdentifier, role: r.role, promotionTier: 15 })),
    ];
    this.instances = instanceSpecs.map((spec, index) => {
      const instance = new rds.CfnDBInstance(this, `Instance${index + 1}`, {
        dbInstanceIdentifier: spec.identifier,
        dbClusterIdentifier: this.cluster.ref,
        engine: ENGINE,
        dbInstanceClass: `db.${props.instanceClass}`,
        dbParameterGroupName: instanceParameters.ref,
        dbSubnetGroupName: subnetGroup.subnetGroupName,
        availabilityZone: zones[index % zones.length],
        // The writer pair first: Aurora fails over to the lowest tier, so a reader of a role never becomes the writer.
        promotionTier: spec.promotionTier,
        monitoringInterval: (props.monitoringInterval?.toSeconds() ?? 60) as number,
        monitoringRoleArn: monitoringRole.roleArn,
        enablePerformanceInsights: true,
        performanceInsightsKmsKeyId: props.encryptionKey.keyArn,
        publiclyAccessible: false,
        caCertificateIdentifier: 'rds-ca-rsa2048-g1',
        tags: [{ key: 'mlp:instance-role', value: spec.role }],
      });
      markDerivedCopy(
        instance,
        `Aurora instance ${spec.identifier}: compute over the volume of cluster ${props.clusterIdentifier}, which holds the data and is retained and protected`,
      );
      acknowledgeAuroraInstance(instance);
      return instance;
    });

    const endpoints = new Map<string, rds.CfnDBClusterEndpoint>();
    for (const role of new Set(readers.map((r) => r.role))) {
      const members = readers.flatMap((r, i) => (r.role === role ? [this.instances[i + 2] as rds.CfnDBInstance] : []));
      const endpoint = new rds.CfnDBClusterEndpoint(this, `Endpoint${pascal(role)}`, {
        dbClusterIdentifier: this.cluster.ref,
        dbClusterEndpointIdentifier: `${props.clusterIdentifier}-${role}`.slice(0, 63),
        customEndpointType: 'READER',
        staticMembers: members.map((m) => m.ref),
      });
      for (const member of members) endpoint.addResourceDependency(member);
      endpoints.set(role, endpoint);
    }
    this.roleEndpoints = endpoints;

    if (props.connectionPooler) {
      const imported = rds.DatabaseCluster.fromDatabaseClusterAttributes(this, 'ProxyTarget', {
        clusterIdentifier: this.cluster.ref,
        clusterEndpointAddress: this.cluster.attrEndpointAddress,
        port: POSTGRES_PORT,
        securityGroups: [this.securityGroup],
        engine: rds.DatabaseClusterEngine.auroraPostgres({
          version: rds.AuroraPostgresEngineVersion.of(props.engineVersion, major as string),
        }),
      });
      this.pooler = addIamAuthProxy(this, {
        ...props,
        vpcSubnets,
        name: props.clusterIdentifier,
        target: rds.ProxyTarget.fromCluster(imported),
        targetResourceId: this.cluster.attrDbClusterResourceId,
      });
    }

    this.databaseIdentifier = props.clusterIdentifier;
    this.databaseArn = Stack.of(this).formatArn({
      service: 'rds',
      resource: 'cluster',
      resourceName: props.clusterIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.endpointAddress = this.cluster.attrEndpointAddress;
    this.endpointPort = this.cluster.attrEndpointPort;
    this.endpoint = `${this.endpointAddress}:${POSTGRES_PORT}`;
    this.readerEndpointAddress = this.cluster.attrReadEndpointAddress;
    this.resourceId = this.cluster.attrDbClusterResourceId;
  }

  /** Allow `grantee` to connect as `databaseUser`, directly and through the pooler when there is one. */
  public grantClientConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant {
    const grant = this.grantConnect(grantee, databaseUser);
    const proxy = this.grantConnectThroughProxy(grantee, databaseUser);
    return proxy ? grant.combine(proxy) : grant;
  }

  /** Allow `grantee` to connect as `databaseUser` through the pooler, when there is one. */
  public grantConnectThroughProxy(grantee: iam.IGrantable, databaseUser: string): iam.Grant | undefined {
    return this.pooler?.grantConnect(grantee, databaseUser);
  }
}

function acknowledgeAuroraInstance(instance: rds.CfnDBInstance): void {
  acknowledgeNist(
    instance,
    'RDSInBackupPlan',
    "An Aurora instance holds no data: AWS Backup backs up the cluster (the primary region's is in its backup plan), never an instance of it.",
  );
  Validations.of(instance).acknowledge({
    id: 'CloudFormation-Validate::W3010',
    reason: 'The zone comes from the VPC, whose zones are fixed in config; pinning each instance to one spreads them across the zones.',
  });
}

function pascal(role: string): string {
  return role.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

function validateEngineVersion(scope: Construct, version: string): void {
  if (!ENGINE_VERSION_PATTERN.test(version)) {
    throw new ValidationError(`engineVersion must be an Aurora PostgreSQL <major>.<minor> such as 17.9, got "${version}"`, scope);
  }
}

function validate(scope: Construct, props: AuroraRegionalClusterProps): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  validateEngineVersion(scope, props.engineVersion);
  validateInstanceIdentifier(scope, props.clusterIdentifier);
  const identifiers = [...props.writerInstanceIdentifiers, ...(props.readers ?? []).map((r) => r.instanceIdentifier)];
  for (const identifier of identifiers) validateInstanceIdentifier(scope, identifier);
  if (new Set(identifiers).size !== identifiers.length) fail(`instance identifiers must be unique, got ${identifiers.join(', ')}`);
  if (identifiers.length - 1 > MAX_AURORA_REPLICAS)
    fail(`a cluster has at most ${MAX_AURORA_REPLICAS} Aurora Replicas, got ${identifiers.length - 1}`);
  if (!MEMORY_OPTIMIZED_CLASS.test(props.instanceClass))
    fail(
      `instanceClass must be a memory-optimized class without the db. prefix (an Aurora global database requires one), such as r7g.2xlarge, got ${props.instanceClass}`,
    );
  if (!Number.isInteger(props.maxConnections) || props.maxConnections < 10)
    fail(`maxConnections must be an integer of at least 10, got ${props.maxConnections}`);
  const days = props.backupRetention.toDays();
  if (days < 1 || days > 35) fail(`backupRetention must be 1 to 35 days, got ${days}`);
  if (props.masterCredentials && Token.isUnresolved(props.masterCredentials.username)) fail('masterCredentials.username must be a literal');
}
