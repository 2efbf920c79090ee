import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AccessLogsBucket, ArtifactBucket } from '../../constructs/artifacts';
import { RegionalBackupPlan } from '../../constructs/backup';
import { FeatureKeyspace } from '../../constructs/feature-store';
import { MskCluster } from '../../constructs/kafka';
import { RemoteParameter } from '../../constructs/lookup';
import {
  AuroraGlobalCluster,
  AuroraRegionalCluster,
  DatabaseBootstrap,
  GlobalWriterEndpoint,
  type IPostgresClientAccess,
  type IRegionalDatabase,
  type IRegionalPostgres,
  POSTGRES_PORT,
  type PrimaryReadScaling,
  RdsDatabaseLineage,
} from '../../constructs/postgres';
import { accountKeyPolicy, cloudWatchAlarmsKeyStatement, cloudWatchLogsKeyStatement } from '../../constructs/private/kms';
import { acknowledgeNist } from '../../constructs/private/nag';
import { CacheCluster, GlobalDatastore, MAX_GLOBAL_DATASTORE_SECONDARIES } from '../../constructs/redis';
import {
  artifactBucketName,
  backupVaultName,
  CACHE_TAG,
  cacheApplicationUser,
  cacheGlobalDatastoreSuffix,
  cacheReplicationGroupId,
  cacheRoleOf,
  dataKeyAlias,
  featureKeyspaceName,
  kafkaClusterName,
  postgresClusterId,
  postgresGlobalClusterId,
  postgresMasterSecretName,
  postgresReadReplicaId,
  postgresWriterPairId,
  type RegionPlan,
  runbookParameterName,
} from '../config';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

export interface DataStackProps extends RegionalStackProps {
  /** The region's VPC, from its network stack. */
  readonly vpc: ec2.IVpc;
}

/**
 * The region's stateful resources. Termination protection is on, every store is retained on delete,
 * and the construct ids below are part of the stack's contract: renaming one replaces the resource
 * (test/gates/stateful-logical-ids.json pins them).
 *
 * Every store keeps one construct id and physical name whatever the region's role, so a failover
 * changes what a stack holds around the stores, never the stores themselves:
 * - PostgreSQL: the region's database lineage (see `resolveDatabaseTopology`). Generation 1 is
 *   `Metadata`, a rebuilt replica `MetadataG<n>`; older generations stay until retired. The in-region
 *   read replicas and the pooler stand beside whichever instance is the primary.
 * - Cache: every region's group keeps the shape it was created with. The home region owns the
 *   Global Datastore, whose primary member follows the primary; the first two other regions are its
 *   members, the rest keep a regional cache.
 * - Feature keyspace: owned by the home region, extended to every region through UpdateKeyspace.
 * - Backups follow the primary; Kafka replication lives in the resilience stacks.
 */
export class DataStack extends RegionalStack {
  public readonly dataKey: kms.Key;
  public readonly artifactBucket: s3.Bucket;
  /** The region's current database, of whatever role and engine. */
  public readonly postgres: IRegionalPostgres;
  /** What the region's clients are granted on its PostgreSQL: IAM authentication, directly and through the pooler. */
  public readonly postgresClients: IPostgresClientAccess;
  /** Older generations of the region's database, retained until retired. */
  public readonly retainedDatabases: readonly IRegionalDatabase[];
  /** RDS: in-region read replicas and pooler, only beside the primary. */
  public readScaling?: PrimaryReadScaling;
  /** The platform's roles and databases, created at deploy time; beside a primary with a master secret (RDS), in the home region (Aurora). */
  public databaseBootstrap?: DatabaseBootstrap;
  public readonly cache: CacheCluster;
  public readonly featureStore?: FeatureKeyspace;
  public readonly backups: RegionalBackupPlan;
  public readonly kafka: MskCluster;

  constructor(scope: Construct, props: DataStackProps) {
    super(scope, 'data', { ...props, terminationProtection: true });
    const tier = this.config.tier;
    const clientCidrs = props.vpc.privateSubnets.map((subnet) => subnet.ipv4CidrBlock);
    const logRetention = tier.network.flowLogRetentionDays as logs.RetentionDays;

    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: dataKeyAlias(tier.name),
      description: `Encrypts the ${tier.name} platform's data stores in ${this.region}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: accountKeyPolicy(),
    });
    // The data key also encrypts the region's log groups: database, broker and cache logs hold query
    // text and client addresses, as sensitive as the stores. Compute and resilience use it too.
    this.dataKey.addToResourcePolicy(cloudWatchLogsKeyStatement(this));
    // It encrypts the region's paging topic (resilience stack) too, which the region's alarms publish to.
    this.dataKey.addToResourcePolicy(cloudWatchAlarmsKeyStatement(this));

    const accessLogs = new AccessLogsBucket(this, 'AccessLogs');
    this.artifactBucket = new ArtifactBucket(this, 'Artifacts', {
      bucketName: artifactBucketName(tier.name, this.account, this.region),
      encryptionKey: this.dataKey,
      accessLogsBucket: accessLogs.bucket,
      lifecycle: tier.artifacts,
    }).bucket;
    acknowledgeNist(
      this.artifactBucket,
      'S3BucketReplicationEnabled',
      "Replicated: the resilience stack's BucketReplication writes the rules, since their destinations are other regions' buckets, which this stack cannot reference and which must exist first.",
    );

    // PostgreSQL
    if (this.config.databaseEngine === 'aurora-postgresql-global') {
      const cluster = this.addAuroraDatabase(props.vpc, clientCidrs, logRetention);
      this.postgres = cluster;
      this.postgresClients = cluster;
      this.retainedDatabases = [];
    } else {
      const databases = this.addRdsDatabases(props.vpc, clientCidrs, logRetention);
      this.postgres = databases.current;
      this.postgresClients = databases;
      this.retainedDatabases = databases.retained;
      this.readScaling = databases.readScaling;
      this.databaseBootstrap = databases.bootstrap;
    }
    this.publishRunbookParameter('postgres', 'engine', this.config.databaseEngine);

    this.cache = this.addCache(props.vpc, clientCidrs, logRetention);
    this.featureStore = this.addFeatureStore();
    this.kafka = this.addKafka(props.vpc, clientCidrs, logRetention);

    // Backups: the primary's database, and every region's artifacts.
    const copyRegion = this.nextRegion;
    const backups = tier.backups;
    const resources = [backup.BackupResource.fromArn(this.artifactBucket.bucketArn)];
    if (this.regionPlan.isPrimary) resources.push(backup.BackupResource.fromArn(this.postgres.databaseArn));
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

    // What the runbooks need to know about the deployment as a whole, as deployed.
    this.publishRunbookParameter('topology', 'primary-region', this.config.primaryRegion.name);
    this.publishRunbookParameter('topology', 'regions', this.config.regions.map((r) => r.name).join(','));
    this.publishRunbookParameter(
      'topology',
      'rebuilt-replicas',
      this.config.rebuiltReplicas.map((e) => `${e.region}:${e.source}`).join(',') || 'none',
    );
  }

  /**
   * The region's cluster of the tier's Aurora global database. The home region creates the global
   * database and its first primary (the only cluster created with a master user); every other region
   * joins it as a secondary. No template names the current writer, so a switchover or failover
   * changes none: `-c primaryRegion` moves only the backup selection.
   */
  private addAuroraDatabase(vpc: ec2.IVpc, clientCidrs: string[], logRetention: logs.RetentionDays): AuroraRegionalCluster {
    const tier = this.config.tier;
    const { aurora } = tier.database;
    const globalClusterIdentifier = postgresGlobalClusterId(tier.name);
    const clusterIdentifier = postgresClusterId(tier.name, this.regionPlan.code);
    let masterCredentials: { username: string; secret: secretsmanager.ISecret } | undefined;
    if (this.regionPlan.isHome) {
      new AuroraGlobalCluster(this, 'MetadataGlobal', { globalClusterIdentifier, engineVersion: aurora.engineVersion });
      const username = 'mlp_admin';
      // L1: the L2 Secret would add a key policy statement letting the account create grants on the data key.
      const cfnSecret = new secretsmanager.CfnSecret(this, 'MetadataMasterSecret', {
        name: postgresMasterSecretName(tier.name),
        description: `Master user of the Aurora global database ${globalClusterIdentifier} (break-glass: clients and runbooks use IAM)`,
        kmsKeyId: this.dataKey.keyArn,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username }),
          generateStringKey: 'password',
          passwordLength: 40,
          excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
        },
      });
      cfnSecret.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const secret = secretsmanager.Secret.fromSecretAttributes(this, 'MetadataMasterSecretRef', {
        secretCompleteArn: cfnSecret.ref,
        encryptionKey: this.dataKey,
      });
      const notRotated =
        'Not rotated by a schedule: Aurora cannot manage the master password of a global database cluster (Aurora User Guide, Secrets Manager limitations), and a rotation function would connect to this cluster, which is read-only whenever the writer is in another region. The password is break-glass only: every client and runbook authenticates with IAM.';
      Validations.of(cfnSecret).acknowledge({ id: 'AwsSolutions-SMG4', reason: notRotated });
      acknowledgeNist(cfnSecret, 'SecretsManagerRotationEnabled', notRotated);
      masterCredentials = { username, secret };
    }
    const readers = this.config.tier.postgres.readReplicaRoles.map((role, position, roles) => {
      const index = roles.slice(0, position + 1).filter((r) => r === role).length;
      return { role, instanceIdentifier: postgresReadReplicaId(clusterIdentifier, role, index) };
    });
    const cluster = new AuroraRegionalCluster(this, 'Metadata', {
      clusterIdentifier,
      globalClusterIdentifier,
      engineVersion: aurora.engineVersion,
      instanceClass: aurora.instanceClass,
      writerInstanceIdentifiers: [postgresWriterPairId(clusterIdentifier, 1), postgresWriterPairId(clusterIdentifier, 2)],
      readers,
      maxConnections: tier.postgres.maxConnections,
      backupRetention: Duration.days(tier.postgres.backupRetentionDays),
      encryptionKey: this.dataKey,
      masterCredentials,
      connectionPooler: tier.postgres.connectionPooler,
      vpc,
      clientCidrs,
      logRetention,
    });
    // The global cluster is created in this stack (home) or exists before it (every other region deploys after the home).
    const global = this.node.tryFindChild('MetadataGlobal') as AuroraGlobalCluster | undefined;
    if (global) cluster.cluster.addResourceDependency(global.resource);
    if (masterCredentials) {
      this.databaseBootstrap = new DatabaseBootstrap(this, 'MetadataBootstrap', {
        database: cluster,
        masterSecret: masterCredentials.secret,
        vpc,
        logEncryptionKey: this.dataKey,
        logRetention,
      });
    }
    this.publishRunbookParameter('postgres', 'cluster-id', clusterIdentifier);
    this.publishRunbookParameter('postgres', 'cluster-arn', cluster.databaseArn);
    this.publishRunbookParameter('postgres', 'global-cluster-id', globalClusterIdentifier);
    this.publishRunbookParameter('postgres', 'endpoint', cluster.endpoint);
    // What services write through: Aurora moves it to the new writer in a switchover or failover, no deploy or DNS change of ours.
    const writer = new GlobalWriterEndpoint(this, 'MetadataGlobalWriter', {
      globalClusterIdentifier,
      logEncryptionKey: this.dataKey,
    });
    writer.resource.node.addDependency(cluster.cluster);
    this.publishRunbookParameter('postgres', 'writer-endpoint', `${writer.hostname}:${POSTGRES_PORT}`);
    this.publishRunbookParameter('postgres', 'reader-endpoint', `${cluster.readerEndpointAddress}:${POSTGRES_PORT}`);
    this.publishRunbookParameter('postgres', 'role', this.regionPlan.isPrimary ? 'primary' : 'replica');
    if (cluster.pooler) this.publishRunbookParameter('postgres', 'proxy-endpoint', cluster.pooler.proxy.endpoint);
    return cluster;
  }

  /** The region's RDS database lineage (see `resolveDatabaseTopology`), and beside the primary its read scaling and bootstrap. */
  private addRdsDatabases(vpc: ec2.IVpc, clientCidrs: string[], logRetention: logs.RetentionDays): RdsDatabaseLineage {
    const lineage = this.config.databases[this.region];
    if (!lineage) throw new Error(`unreachable: the topology covers every region, not ${this.region}`);
    const current = lineage.current;
    const databases = new RdsDatabaseLineage(this, {
      lineage,
      sizing: this.config.tier.postgres,
      primaryRegionName: this.config.primaryRegion.name,
      encryptionKey: this.dataKey,
      vpc,
      clientCidrs,
      logRetention,
    });
    const postgres = databases.current;
    this.publishRunbookParameter('postgres', 'instance-id', current.instanceIdentifier);
    this.publishRunbookParameter('postgres', 'instance-arn', postgres.instanceArn);
    this.publishRunbookParameter('postgres', 'endpoint', postgres.endpoint);
    this.publishRunbookParameter('postgres', 'role', current.role);
    this.publishRunbookParameter('postgres', 'generation', String(current.generation));
    this.publishRunbookParameter('postgres', 'source-arn', current.createdFrom ? databases.databaseArn(current.createdFrom) : 'none');
    this.publishRunbookParameter(
      'postgres',
      'retained-instance-ids',
      lineage.retained.map((g) => g.instanceIdentifier).join(',') || 'none',
    );
    if (databases.masterSecretArn) this.publishRunbookParameter('postgres', 'master-secret-arn', databases.masterSecretArn);
    const readScaling = databases.readScaling;
    if (readScaling) {
      this.publishRunbookParameter(
        'postgres',
        'read-replica-ids',
        readScaling.readReplicas.map((r) => r.instanceIdentifier).join(',') || 'none',
      );
      if (readScaling.proxy) this.publishRunbookParameter('postgres', 'proxy-endpoint', readScaling.proxy.endpoint);
    }
    return databases;
  }

  /**
   * The region's cache. The home region creates its group standalone and wraps it in the Global
   * Datastore; the first two other regions join it as members (ElastiCache allows two), reading its
   * id from the home region once, at creation.
   */
  private addCache(vpc: ec2.IVpc, clientCidrs: string[], logRetention: logs.RetentionDays): CacheCluster {
    const tier = this.config.tier;
    const spec = tier.redis;
    const home = this.homeRegion;
    const members = this.config.regions.filter((r) => !r.isHome).slice(0, MAX_GLOBAL_DATASTORE_SECONDARIES);
    const isMember = members.some((r) => r.name === this.region);
    const globalIdParameter = runbookParameterName(tier.name, 'redis', 'global-datastore-id');
    let globalDatastoreId: string | undefined;
    if (isMember) {
      globalDatastoreId = new RemoteParameter(this, 'CacheGlobalDatastoreId', {
        parameterName: globalIdParameter,
        region: home.name,
        logEncryptionKey: this.dataKey,
      }).value;
    }
    const cache = new CacheCluster(this, 'Cache', {
      replicationGroupId: cacheReplicationGroupId(tier.name, this.regionPlan.code),
      engineVersion: spec.engineVersion,
      nodeType: spec.nodeType,
      shards: spec.shards,
      replicasPerShard: spec.replicasPerShard,
      encryptionKey: this.dataKey,
      vpc,
      clientCidrs,
      snapshotRetentionDays: spec.snapshotRetentionDays,
      applicationUserId: cacheApplicationUser(tier.name),
      globalDatastoreId,
      logRetention,
    });
    // What AWS FIS's cache experiments select the group by (CACHE_TAG).
    Tags.of(cache.replicationGroup).add(CACHE_TAG, cacheReplicationGroupId(tier.name, this.regionPlan.code));
    acknowledgeNist(
      cache.replicationGroup,
      'ElastiCacheRedisClusterAutomaticBackup',
      `Snapshots kept ${spec.snapshotRetentionDays} day(s), as seed 004 keeps its RDB snapshots 24 h: the cache holds copies of the feature store's rows (Keyspaces, with PITR) and is refilled from it, so older snapshots would restore stale data.`,
    );
    // The datastore's primary follows the platform's primary when that region is in it; a primary
    // outside it (a third or later secondary) runs on its regional cache, and the datastore stays.
    const primary = this.config.primaryRegion;
    const datastorePrimary = primary.isHome || members.some((r) => r.name === primary.name) ? primary : home;
    if (this.regionPlan.isHome) {
      const global = new GlobalDatastore(this, 'CacheGlobal', {
        primary: cache,
        idSuffix: cacheGlobalDatastoreSuffix(tier.name),
        secondaryRegions: members.map((r) => r.name),
        nodeType: spec.nodeType,
        engineVersion: spec.engineVersion,
        currentPrimary: datastorePrimary.isHome
          ? undefined
          : { replicationGroupId: cacheReplicationGroupId(tier.name, datastorePrimary.code), region: datastorePrimary.name },
      });
      globalDatastoreId = global.globalDatastoreId;
    }
    this.publishRunbookParameter('redis', 'replication-group-id', cache.replicationGroup.ref);
    this.publishRunbookParameter('redis', 'configuration-endpoint', cache.configurationEndpoint);
    this.publishRunbookParameter('redis', 'global-datastore-id', globalDatastoreId ?? 'none');
    this.publishRunbookParameter('redis', 'role', cacheRoleOf(this.config, this.regionPlan));
    this.publishRunbookParameter('redis', 'application-user-id', cache.applicationUser.userId);
    return cache;
  }

  /** The multi-Region feature keyspace, owned by the home region whatever the primary. */
  private addFeatureStore(): FeatureKeyspace | undefined {
    const tier = this.config.tier;
    const features = tier.featureStore;
    let keyspace: FeatureKeyspace | undefined;
    if (this.regionPlan.isHome) {
      keyspace = new FeatureKeyspace(this, 'FeatureStore', {
        keyspaceName: featureKeyspaceName(tier.name),
        regions: this.config.regions.map((r) => r.name),
        tables: features.tables,
        logEncryptionKey: this.dataKey,
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
    return keyspace;
  }

  /**
   * The region's MSK cluster. Every cluster is a replication source (multi-VPC connectivity and a
   * cluster policy), so the flows of the resilience stacks can read it in either direction.
   */
  private addKafka(vpc: ec2.IVpc, clientCidrs: string[], logRetention: logs.RetentionDays): MskCluster {
    const sizing = this.config.tier.kafka;
    const replicator = this.config.kafkaReplicationMode === 'msk-replicator' && this.config.kafkaReplication;
    const kafka = new MskCluster(this, 'Kafka', {
      clusterName: kafkaClusterName(this.config.tier.name, this.regionPlan.code),
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
    return kafka;
  }

  /** The region after this one in the configured order (the last wraps to the first). */
  private get nextRegion(): RegionPlan {
    const regions = this.config.regions;
    const index = regions.findIndex((r) => r.name === this.region);
    return regions[(index + 1) % regions.length] as RegionPlan;
  }
}
