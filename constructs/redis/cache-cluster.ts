import { ArnFormat, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CACHE_ACCESS } from '../../lib/config/naming';
import { clientSecurityGroup, DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { ValidationError } from '../private/validation-error';

/** ElastiCache's limits for cluster mode enabled. */
export const MAX_SHARDS = 500;
export const MAX_REPLICAS_PER_SHARD = 5;
export const CACHE_PORT = 6379;

const NODE_TYPE_PATTERN = /^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const ID_PATTERN = /^[a-z](?!.*--)[a-z0-9-]{0,38}[a-z0-9]$/;

export interface CacheClusterProps extends DataStoreNetworkProps {
  /** Physical id (1-40 lower-case letters, digits, hyphens); runbooks fail over by this name. */
  readonly replicationGroupId: string;
  /** Engine version, e.g. `8.0`; set on the global primary only, members inherit it. */
  readonly engineVersion: string;
  /** Node type, e.g. `cache.r7g.xlarge`; set on the global primary only, members inherit it. */
  readonly nodeType: string;
  /** Shards (node groups); members of a global datastore inherit the primary's. */
  readonly shards: number;
  /** Replicas per shard; at least 1 so every shard survives the loss of a node or zone. */
  readonly replicasPerShard: number;
  /**
   * Encrypts the cache at rest, its snapshots and its slow log. Its policy must admit CloudWatch
   * Logs of the region (`cloudWatchLogsKeyStatement`).
   */
  readonly encryptionKey: kms.IKey;
  /** Daily snapshots kept; 0 turns snapshots off. */
  readonly snapshotRetentionDays: number;
  /** RBAC user the applications authenticate as, with an IAM token. Lower case; unique in the region. */
  readonly applicationUserId: string;
  /**
   * Join this Global Datastore as a secondary member instead of creating a primary. Engine, engine
   * version, node type, shard count and at-rest encryption then come from the global group, and
   * CloudFormation rejects them here.
   * @default - a standalone group, or the primary of a global datastore created around it
   */
  readonly globalDatastoreId?: string;
  /**
   * Retention of the slow log.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Valkey replication group in cluster mode: shards with replicas spread over the zones, automatic
 * failover, TLS required, encrypted at rest with a customer key, and RBAC with IAM-authenticated
 * users (no shared AUTH token).
 *
 * Valkey's RBAC user groups need no `default` user, so none exists that could be left open.
 */
/** A region's cache, and what may be granted on it. */
export interface ICacheCluster {
  /** Allow `grantee` to connect (IAM authentication) to the group as its application user. */
  grantConnect(grantee: iam.IGrantable): iam.Grant;
}

export class CacheCluster extends Construct implements ICacheCluster {
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly applicationUser: elasticache.CfnUser;
  /** True when this group is a secondary member of a global datastore. */
  public readonly isGlobalMember: boolean;

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    validate(this, props);
    this.isGlobalMember = props.globalDatastoreId !== undefined;

    this.securityGroup = clientSecurityGroup(this, 'SecurityGroup', {
      ...props,
      description: `Cache ${props.replicationGroupId}`,
      port: CACHE_PORT,
      protocol: 'Valkey',
    });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of ${props.replicationGroupId}`,
      subnetIds: props.vpc.selectSubnets(props.vpcSubnets ?? DATA_SUBNETS).subnetIds,
    });

    this.applicationUser = new elasticache.CfnUser(this, 'ApplicationUser', {
      userId: props.applicationUserId,
      userName: props.applicationUserId, // IAM authentication requires the name to equal the id
      engine: 'valkey',
      authenticationMode: { Type: 'iam' },
      // Everything an application cache needs; no administration or dangerous commands.
      accessString: CACHE_ACCESS.application,
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      userGroupId: props.replicationGroupId,
      engine: 'valkey',
      userIds: [this.applicationUser.userId],
    });
    userGroup.addResourceDependency(this.applicationUser);

    const slowLog = new logs.LogGroup(this, 'SlowLog', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const common: elasticache.CfnReplicationGroupProps = {
      replicationGroupId: props.replicationGroupId,
      replicationGroupDescription: `Platform cache ${props.replicationGroupId}`,
      replicasPerNodeGroup: props.replicasPerShard,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      port: CACHE_PORT,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      kmsKeyId: props.encryptionKey.keyArn,
      userGroupIds: [userGroup.ref],
      snapshotRetentionLimit: props.snapshotRetentionDays,
      snapshotWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:06:30-sun:07:30',
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        {
          destinationType: 'cloudwatch-logs',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
          logFormat: 'json',
          logType: 'slow-log',
        },
      ],
    };

    if (props.globalDatastoreId !== undefined) {
      this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
        ...common,
        globalReplicationGroupId: props.globalDatastoreId,
      });
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC3',
        reason:
          'A Global Datastore member inherits at-rest encryption from the encrypted global group (CloudFormation rejects AtRestEncryptionEnabled on members); KmsKeyId re-keys it in this region and TLS is required.',
      });
      // The rule reads a group without an engine as Redis, and Redis on 6379 as the default port; a
      // Valkey group that states its engine (the primary's) has no finding.
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC5',
        reason:
          'A Global Datastore member states no engine (it inherits Valkey from the global group), so the rule reads it as Redis on its default port. A non-default port adds no protection: the cache sits in isolated subnets behind its security group and requires TLS and IAM-authenticated RBAC users.',
      });
    } else {
      const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
        cacheParameterGroupFamily: `valkey${props.engineVersion.split('.')[0]}`,
        description: `Parameters of ${props.replicationGroupId}`,
        properties: { 'cluster-enabled': 'yes', 'maxmemory-policy': 'allkeys-lru' },
      });
      this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
        ...common,
        engine: 'valkey',
        engineVersion: props.engineVersion,
        cacheNodeType: props.nodeType,
        cacheParameterGroupName: parameters.ref,
        numNodeGroups: props.shards,
        clusterMode: 'enabled',
        atRestEncryptionEnabled: true,
      });
    }
    this.replicationGroup.addResourceDependency(userGroup);
    this.replicationGroup.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.replicationGroup).acknowledge({
      id: 'AwsSolutions-AEC6',
      reason:
        'Clients authenticate as RBAC users with short-lived IAM tokens (UserGroupIds), which replaces the single shared AUTH token this rule looks for.',
    });
  }

  /** `host:port` clients connect to in cluster mode. */
  get configurationEndpoint(): string {
    return `${this.replicationGroup.attrConfigurationEndPointAddress}:${this.replicationGroup.attrConfigurationEndPointPort}`;
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    const group = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: this.replicationGroup.ref,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticache:Connect'],
      resourceArns: [group, this.applicationUser.attrArn],
    });
  }
}

function validate(scope: Construct, props: CacheClusterProps): void {
  const fail = (message: string) => {
    throw new ValidationError(message, scope);
  };
  if (!Token.isUnresolved(props.replicationGroupId) && !ID_PATTERN.test(props.replicationGroupId)) {
    fail(
      `replicationGroupId "${props.replicationGroupId}" is invalid: expected 1-40 lower-case letters, digits and single hyphens, starting with a letter`,
    );
  }
  if (!Number.isInteger(props.shards) || props.shards < 1 || props.shards > MAX_SHARDS) {
    fail(`shards must be an integer from 1 to ${MAX_SHARDS}, got ${props.shards}`);
  }
  if (!Number.isInteger(props.replicasPerShard) || props.replicasPerShard < 1 || props.replicasPerShard > MAX_REPLICAS_PER_SHARD) {
    fail(
      `replicasPerShard must be an integer from 1 to ${MAX_REPLICAS_PER_SHARD} (ElastiCache's limit; Multi-AZ failover needs at least 1), got ${props.replicasPerShard}`,
    );
  }
  if (!NODE_TYPE_PATTERN.test(props.nodeType)) {
    fail(`nodeType must look like cache.r7g.xlarge, got ${props.nodeType}`);
  }
  if (!/^\d+\.\d+$/.test(props.engineVersion)) {
    fail(`engineVersion must be <major>.<minor> such as 8.0, got ${props.engineVersion}`);
  }
  if (!Number.isInteger(props.snapshotRetentionDays) || props.snapshotRetentionDays < 0 || props.snapshotRetentionDays > 35) {
    fail(`snapshotRetentionDays must be an integer from 0 to 35, got ${props.snapshotRetentionDays}`);
  }
}
