import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AccessLogsBucket, ArtifactBucket } from '../../constructs/artifacts';
import { RegionalBackupPlan, tieredBackupRules } from '../../constructs/backup';
import { FeatureKeyspace } from '../../constructs/feature-store';
import { MskCluster } from '../../constructs/kafka';
import { AuroraDatabaseRegion, type IDatabaseRegion, type IRegionalPostgres, RdsDatabaseLineage } from '../../constructs/postgres';
import { accountKeyPolicy, cloudWatchAlarmsKeyStatement, cloudWatchLogsKeyStatement } from '../../constructs/private/kms';
import { acknowledgeNist } from '../../constructs/private/nag';
import { type CacheCluster, CacheRegion } from '../../constructs/redis';
import {
  artifactBucketName,
  backupVaultName,
  dataKeyAlias,
  featureKeyspaceName,
  kafkaClusterName,
  type RegionDatabases,
  type RegionPlan,
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
  /** The region's PostgreSQL: its current database, what stands beside it, and its clients' grants. */
  public readonly database: IDatabaseRegion;
  /** The region's current database, of whatever role and engine. */
  public readonly postgres: IRegionalPostgres;
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

    const network = { encryptionKey: this.dataKey, vpc: props.vpc, clientCidrs, logRetention };
    this.database =
      this.config.databaseEngine === 'aurora-postgresql-global'
        ? new AuroraDatabaseRegion(this, {
            ...network,
            tier: tier.name,
            regionCode: this.regionPlan.code,
            isHome: this.regionPlan.isHome,
            isPrimary: this.regionPlan.isPrimary,
            aurora: tier.database.aurora,
            sizing: tier.postgres,
          })
        : new RdsDatabaseLineage(this, {
            ...network,
            lineage: this.regionDatabases,
            sizing: tier.postgres,
            primaryRegionName: this.config.primaryRegion.name,
          });
    this.postgres = this.database.current;
    this.publishRunbookParameters('postgres', { engine: this.config.databaseEngine, ...this.database.runbookParameters });

    const cache = new CacheRegion(this, { ...network, config: this.config, regionPlan: this.regionPlan });
    this.cache = cache.cache;
    this.publishRunbookParameters('redis', cache.runbookParameters);
    const features = tier.featureStore;
    if (this.regionPlan.isHome) {
      // Owned by the home region whatever the primary, and readable and writable in every region.
      this.featureStore = new FeatureKeyspace(this, 'FeatureStore', {
        keyspaceName: featureKeyspaceName(tier.name),
        regions: this.config.regions.map((r) => r.name),
        tables: features.tables,
        capacity: features.capacity,
        logEncryptionKey: this.dataKey,
      });
    }
    this.publishRunbookParameters('feature-store', {
      keyspace: featureKeyspaceName(tier.name),
      tables: features.tables.map((t) => t.name).join(','),
      regions: this.config.regions.map((r) => r.name).join(','),
    });

    // Every cluster is a replication source (multi-VPC connectivity and a cluster policy), so the
    // flows of the resilience stacks can read it in either direction.
    const kafka = tier.kafka;
    this.kafka = new MskCluster(this, 'Kafka', {
      ...network,
      clusterName: kafkaClusterName(tier.name, this.regionPlan.code),
      kafkaVersion: kafka.kafkaVersion,
      brokers: kafka.brokers,
      brokerInstanceType: kafka.brokerInstanceType,
      storageGiB: kafka.brokerStorageGiB,
      maxStorageGiB: kafka.maxBrokerStorageGiB,
      storageUtilizationTargetPercent: kafka.storageUtilizationTargetPercent,
      defaultReplicationFactor: kafka.defaultReplicationFactor,
      minInsyncReplicas: kafka.minInsyncReplicas,
      retentionHours: kafka.retentionHours,
      topics: kafka.topics,
      replicationSource: this.config.kafkaReplicationMode === 'msk-replicator' && this.config.kafkaReplication,
    });
    this.publishRunbookParameters('kafka', {
      'cluster-arn': this.kafka.clusterArn,
      'bootstrap-brokers': this.kafka.bootstrapBrokersSaslIam,
      'replication-mode': this.config.kafkaReplicationMode,
      'replication-source': [this.kafka.clusterArn, this.kafka.clientSubnetIds.join(','), this.kafka.securityGroup.securityGroupId].join(
        '|',
      ),
    });

    // Backups: the primary's database, and every region's artifacts.
    const copyRegion = this.nextRegion;
    const resources = [backup.BackupResource.fromArn(this.artifactBucket.bucketArn)];
    if (this.regionPlan.isPrimary) resources.push(backup.BackupResource.fromArn(this.postgres.databaseArn));
    this.backups = new RegionalBackupPlan(this, 'Backups', {
      vaultName: backupVaultName(tier.name),
      encryptionKey: this.dataKey,
      copyRegion: copyRegion.name,
      vaultLock: this.config.backupVaultLock,
      resources,
      rules: tieredBackupRules(tier.backups),
    });
    this.publishRunbookParameters('backup', {
      'vault-name': this.backups.vault.backupVaultName,
      'plan-id': this.backups.plan.backupPlanId,
      'copy-region': copyRegion.name,
    });

    // What the runbooks need to know about the deployment as a whole, as deployed.
    this.publishRunbookParameters('topology', {
      'primary-region': this.config.primaryRegion.name,
      regions: this.config.regions.map((r) => r.name).join(','),
      'rebuilt-replicas': this.config.rebuiltReplicas.map((e) => `${e.region}:${e.source}`).join(',') || 'none',
    });
  }

  /** The region's RDS database generations (see `resolveDatabaseTopology`). */
  private get regionDatabases(): RegionDatabases {
    const lineage = this.config.databases[this.region];
    if (!lineage) throw new Error(`unreachable: the topology covers every region, not ${this.region}`);
    return lineage;
  }

  /** The region after this one in the configured order (the last wraps to the first). */
  private get nextRegion(): RegionPlan {
    const regions = this.config.regions;
    const index = regions.findIndex((r) => r.name === this.region);
    return regions[(index + 1) % regions.length] as RegionPlan;
  }
}
