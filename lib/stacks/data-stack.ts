import { Arn, ArnFormat, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AccessLogsBucket, ArtifactBucket } from '../../constructs/artifacts';
import { RegionalBackupPlan } from '../../constructs/backup';
import { FeatureKeyspace } from '../../constructs/feature-store';
import { MskCluster, MskReplicator } from '../../constructs/kafka';
import { RemoteParameter } from '../../constructs/lookup';
import { CrossRegionReadReplica, PostgresDatabase } from '../../constructs/postgres';
import { CacheCluster, GlobalDatastore, MAX_GLOBAL_DATASTORE_SECONDARIES } from '../../constructs/redis';
import {
  artifactBucketName,
  backupVaultName,
  cacheGlobalDatastoreSuffix,
  cacheReplicationGroupId,
  dataKeyAlias,
  featureKeyspaceName,
  kafkaClusterName,
  postgresInstanceId,
  postgresReadReplicaId,
  type RegionPlan,
  runbookParameterName,
} from '../config';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

export interface DataStackProps extends RegionalStackProps {
  /** The region's VPC, from its network stack. */
  readonly vpc: ec2.IVpc;
}

const POSTGRES_VERSIONS = {
  '16': rds.PostgresEngineVersion.VER_16,
  '17': rds.PostgresEngineVersion.VER_17,
} as const;

/**
 * The region's stateful resources. Termination protection is on, every store is retained on delete,
 * and the construct ids below are part of the stack's contract: renaming one replaces the resource
 * (test/gates/stateful-logical-ids.json pins them).
 *
 * The primary region holds the writable stores: the PostgreSQL primary with its in-region replicas
 * and pooler, the global primary of the cache, and the multi-Region feature keyspace. Every
 * secondary holds a cross-region PostgreSQL replica and a cache that is a Global Datastore member
 * (the first two secondaries; ElastiCache allows no more) or a regional cache of its own.
 */
export class DataStack extends RegionalStack {
  public readonly dataKey: kms.Key;
  public readonly artifactBucket: s3.Bucket;
  public readonly postgres: PostgresDatabase | CrossRegionReadReplica;
  public readonly cache: CacheCluster;
  public readonly featureStore?: FeatureKeyspace;
  public readonly backups: RegionalBackupPlan;
  public readonly kafka: MskCluster;
  /** Pulls the primary's topics into this region (secondaries, `msk-replicator` mode). */
  public readonly kafkaReplicator?: MskReplicator;

  constructor(scope: Construct, props: DataStackProps) {
    super(scope, 'data', { ...props, terminationProtection: true });
    const tier = this.config.tier;
    const primaryRegion = this.primaryRegion;
    const clientCidrs = props.vpc.privateSubnets.map((subnet) => subnet.ipv4CidrBlock);
    const logRetention = tier.network.flowLogRetentionDays as logs.RetentionDays;

    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: dataKeyAlias(tier.name),
      description: `Encrypts the ${tier.name} platform's data stores in ${this.region}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const accessLogs = new AccessLogsBucket(this, 'AccessLogs');
    this.artifactBucket = new ArtifactBucket(this, 'Artifacts', {
      bucketName: artifactBucketName(tier.name, this.account, this.region),
      encryptionKey: this.dataKey,
      accessLogsBucket: accessLogs.bucket,
      lifecycle: tier.artifacts,
    }).bucket;

    // PostgreSQL
    const pg = tier.postgres;
    const instanceIdentifier = postgresInstanceId(tier.name, this.regionPlan.code);
    const engineVersion = POSTGRES_VERSIONS[pg.engineMajorVersion];
    if (this.regionPlan.isPrimary) {
      const roleCounts = new Map<string, number>();
      const database = new PostgresDatabase(this, 'Metadata', {
        instanceIdentifier,
        engineVersion,
        instanceClass: pg.instanceClass,
        allocatedStorageGiB: pg.allocatedStorageGiB,
        maxAllocatedStorageGiB: pg.maxAllocatedStorageGiB,
        maxConnections: pg.maxConnections,
        backupRetention: Duration.days(pg.backupRetentionDays),
        encryptionKey: this.dataKey,
        vpc: props.vpc,
        clientCidrs,
        readReplicas: pg.readReplicaRoles.map((role) => {
          const index = (roleCounts.get(role) ?? 0) + 1;
          roleCounts.set(role, index);
          return { role, instanceIdentifier: postgresReadReplicaId(tier.name, this.regionPlan.code, role, index) };
        }),
        connectionPooler: pg.connectionPooler,
        logRetention,
      });
      this.postgres = database;
      this.publishRunbookParameter('postgres', 'instance-arn', database.instance.instanceArn);
      this.publishRunbookParameter('postgres', 'endpoint', database.instance.instanceEndpoint.socketAddress);
      this.publishRunbookParameter('postgres', 'master-secret-arn', database.masterSecretArn);
      this.publishRunbookParameter(
        'postgres',
        'read-replica-ids',
        database.readReplicas.map((r) => r.instanceIdentifier).join(',') || 'none',
      );
      if (database.proxy) this.publishRunbookParameter('postgres', 'proxy-endpoint', database.proxy.endpoint);
    } else {
      const sourceDbInstanceArn = Arn.format(
        {
          service: 'rds',
          region: primaryRegion.name,
          resource: 'db',
          resourceName: postgresInstanceId(tier.name, primaryRegion.code),
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          partition: 'aws', // every supported region is in the commercial partition; the replica parses this ARN
        },
        this,
      );
      const replica = new CrossRegionReadReplica(this, 'Metadata', {
        sourceDbInstanceArn,
        instanceIdentifier,
        engineVersion,
        instanceClass: pg.instanceClass,
        maxConnections: pg.maxConnections,
        encryptionKey: this.dataKey,
        vpc: props.vpc,
        clientCidrs,
        multiAz: pg.crossRegionReplicaMultiAz,
        logRetention,
      });
      this.postgres = replica;
      this.publishRunbookParameter('postgres', 'source-arn', sourceDbInstanceArn);
      this.publishRunbookParameter(
        'postgres',
        'instance-arn',
        this.formatArn({ service: 'rds', resource: 'db', resourceName: instanceIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      );
      this.publishRunbookParameter('postgres', 'endpoint', `${replica.instance.attrEndpointAddress}:${replica.instance.attrEndpointPort}`);
    }
    this.publishRunbookParameter('postgres', 'instance-id', instanceIdentifier);
    this.publishRunbookParameter('postgres', 'role', this.regionPlan.isPrimary ? 'primary' : 'replica');

    // Cache
    const cacheSpec = tier.redis;
    const globalSecondaries = this.config.regions.filter((r) => !r.isPrimary).slice(0, MAX_GLOBAL_DATASTORE_SECONDARIES);
    const isGlobalMember = globalSecondaries.some((r) => r.name === this.region);
    const globalIdParameter = runbookParameterName(tier.name, 'redis', 'global-datastore-id');
    let globalDatastoreId: string | undefined;
    if (isGlobalMember) {
      globalDatastoreId = new RemoteParameter(this, 'CacheGlobalDatastoreId', {
        parameterName: globalIdParameter,
        region: primaryRegion.name,
      }).value;
    }
    this.cache = new CacheCluster(this, 'Cache', {
      replicationGroupId: cacheReplicationGroupId(tier.name, this.regionPlan.code),
      engineVersion: cacheSpec.engineVersion,
      nodeType: cacheSpec.nodeType,
      shards: cacheSpec.shards,
      replicasPerShard: cacheSpec.replicasPerShard,
      encryptionKey: this.dataKey,
      vpc: props.vpc,
      clientCidrs,
      snapshotRetentionDays: cacheSpec.snapshotRetentionDays,
      applicationUserId: `mlp-${tier.name}-app`,
      globalDatastoreId,
      logRetention,
    });
    if (this.regionPlan.isPrimary) {
      const global = new GlobalDatastore(this, 'CacheGlobal', {
        primary: this.cache,
        idSuffix: cacheGlobalDatastoreSuffix(tier.name),
        secondaryRegions: globalSecondaries.map((r) => r.name),
        nodeType: cacheSpec.nodeType,
        engineVersion: cacheSpec.engineVersion,
      });
      globalDatastoreId = global.globalDatastoreId;
    }
    this.publishRunbookParameter('redis', 'replication-group-id', this.cache.replicationGroup.ref);
    this.publishRunbookParameter('redis', 'configuration-endpoint', this.cache.configurationEndpoint);
    this.publishRunbookParameter('redis', 'global-datastore-id', globalDatastoreId ?? 'none');
    this.publishRunbookParameter('redis', 'role', this.regionPlan.isPrimary ? 'primary' : isGlobalMember ? 'member' : 'regional');

    // Feature store: one multi-Region keyspace, created from the primary region.
    const features = tier.featureStore;
    if (this.regionPlan.isPrimary) {
      this.featureStore = new FeatureKeyspace(this, 'FeatureStore', {
        keyspaceName: featureKeyspaceName(tier.name),
        regions: this.config.regions.map((r) => r.name),
        tables: features.tables,
        capacity:
          features.capacityMode === 'PAY_PER_REQUEST'
            ? { mode: 'PAY_PER_REQUEST' }
            : {
                mode: 'PROVISIONED',
                minReadCapacityUnits: features.readCapacityUnits,
                maxReadCapacityUnits: features.maxReadCapacityUnits,
                minWriteCapacityUnits: features.writeCapacityUnits,
                maxWriteCapacityUnits: features.maxWriteCapacityUnits,
                targetUtilizationPercent: features.targetUtilizationPercent,
              },
      });
    }
    // Every region publishes the keyspace: it is readable and writable in each of them.
    this.publishRunbookParameter('feature-store', 'keyspace', featureKeyspaceName(tier.name));
    this.publishRunbookParameter('feature-store', 'tables', features.tables.map((t) => t.name).join(','));
    this.publishRunbookParameter('feature-store', 'regions', this.config.regions.map((r) => r.name).join(','));

    const kafka = this.addKafka(props.vpc, clientCidrs, logRetention);
    this.kafka = kafka.cluster;
    this.kafkaReplicator = kafka.replicator;

    // Backups
    const copyRegion = this.nextRegion;
    const backups = tier.backups;
    const resources = [backup.BackupResource.fromArn(this.artifactBucket.bucketArn)];
    if (this.postgres instanceof PostgresDatabase) {
      resources.push(backup.BackupResource.fromRdsDatabaseInstance(this.postgres.instance));
    }
    this.backups = new RegionalBackupPlan(this, 'Backups', {
      vaultName: backupVaultName(tier.name),
      encryptionKey: this.dataKey,
      copyRegion: copyRegion.name,
      vaultLock: this.config.backupVaultLock,
      resources,
      rules: [
        { name: 'hourly', schedule: backups.hourlySchedule, retention: Duration.days(backups.hourlyRetentionDays) },
        {
          name: 'daily',
          schedule: backups.dailySchedule,
          retention: Duration.days(backups.dailyRetentionDays),
          copyToOtherRegion: true,
        },
        {
          name: 'weekly',
          schedule: backups.weeklySchedule,
          retention: Duration.days(backups.weeklyRetentionDays),
          copyToOtherRegion: true,
        },
      ],
    });
    this.publishRunbookParameter('backup', 'vault-name', this.backups.vault.backupVaultName);
    this.publishRunbookParameter('backup', 'plan-id', this.backups.plan.backupPlanId);
    this.publishRunbookParameter('backup', 'copy-region', copyRegion.name);
  }

  /**
   * The region's MSK cluster. In `msk-replicator` mode every secondary runs an MSK Replicator that
   * pulls the primary's topics (identical names, consumer group offsets synchronised); the source's
   * ARN, subnets and security group come from an SSM parameter the primary publishes.
   */
  private addKafka(
    vpc: ec2.IVpc,
    clientCidrs: string[],
    logRetention: logs.RetentionDays,
  ): { cluster: MskCluster; replicator?: MskReplicator } {
    const tier = this.config.tier;
    const sizing = tier.kafka;
    const replicator = this.config.kafkaReplicationMode === 'msk-replicator' && this.config.kafkaReplication;
    const kafka = new MskCluster(this, 'Kafka', {
      clusterName: kafkaClusterName(tier.name, this.regionPlan.code),
      kafkaVersion: sizing.kafkaVersion,
      brokers: sizing.brokers,
      brokerInstanceType: sizing.brokerInstanceType,
      storageGiB: sizing.brokerStorageGiB,
      maxStorageGiB: sizing.maxBrokerStorageGiB,
      storageUtilizationTargetPercent: sizing.storageUtilizationTargetPercent,
      defaultReplicationFactor: sizing.defaultReplicationFactor,
      minInsyncReplicas: sizing.minInsyncReplicas,
      retentionHours: sizing.retentionHours,
      topics: sizing.topics,
      encryptionKey: this.dataKey,
      vpc,
      clientCidrs,
      logRetention,
      // Every region can be a source: the primary now, a secondary after failover (for failback).
      replicationSource: replicator,
    });
    this.publishRunbookParameter('kafka', 'cluster-arn', kafka.clusterArn);
    this.publishRunbookParameter('kafka', 'bootstrap-brokers', kafka.bootstrapBrokersSaslIam);
    this.publishRunbookParameter('kafka', 'replication-mode', this.config.kafkaReplicationMode);
    this.publishRunbookParameter(
      'kafka',
      'replication-source',
      [kafka.clusterArn, kafka.clientSubnetIds.join(','), kafka.securityGroup.securityGroupId].join('|'),
    );

    if (!replicator || this.regionPlan.isPrimary) return { cluster: kafka };

    const primary = this.primaryRegion;
    const source = new RemoteParameter(this, 'KafkaReplicationSource', {
      parameterName: runbookParameterName(tier.name, 'kafka', 'replication-source'),
      region: primary.name,
    }).value;
    const part = (index: number) => Fn.select(index, Fn.split('|', source, 3));
    const replication = new MskReplicator(this, 'KafkaReplicator', {
      replicatorName: `mlp-${tier.name}-${primary.code}-to-${this.regionPlan.code}`,
      source: {
        clusterArn: part(0),
        subnetIds: Fn.split(',', part(1), vpc.availabilityZones.length),
        securityGroupIds: [part(2)],
        region: primary.name,
      },
      target: kafka,
      logRetention,
    });
    this.publishRunbookParameter('kafka', 'replicator-arn', replication.replicator.attrReplicatorArn);
    return { cluster: kafka, replicator: replication };
  }

  /** The region after this one in the configured order (the last wraps to the first). */
  private get nextRegion(): RegionPlan {
    const regions = this.config.regions;
    const index = regions.findIndex((r) => r.name === this.region);
    return regions[(index + 1) % regions.length] as RegionPlan;
  }
}
