import { type Stack, Tags } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import {
  CACHE_TAG,
  cacheApplicationUser,
  cacheGlobalDatastoreSuffix,
  cacheReplicationGroupId,
  cacheRoleOf,
  type PlatformConfig,
  type RegionPlan,
  type RunbookParameters,
  runbookParameterName,
} from '../../lib/config';
import { RemoteParameter } from '../lookup';
import { acknowledgeNist } from '../private/nag';
import { CacheCluster } from './cache-cluster';
import { GlobalDatastore, MAX_GLOBAL_DATASTORE_SECONDARIES } from './global-datastore';

export interface CacheRegionProps {
  /** The tier's sizing and regions: the home region owns the Global Datastore, the next two join it. */
  readonly config: PlatformConfig;
  readonly regionPlan: RegionPlan;
  /** Encrypts the cache, its snapshots, its slow log and the remote-parameter lookup's log. */
  readonly encryptionKey: kms.IKey;
  readonly vpc: ec2.IVpc;
  readonly clientCidrs: string[];
  readonly logRetention: logs.RetentionDays;
}

/**
 * A region's cache. Every region's group keeps the shape it was created with. The home region
 * creates its group standalone and wraps it in the Global Datastore; the first two other regions join
 * it as members (ElastiCache allows two), reading its id from the home region once, at creation; the
 * rest keep a regional cache.
 *
 * Not a construct: the group and the datastore are created directly in `stack`, under the ids they
 * have always had (`Cache`, `CacheGlobal`, `CacheGlobalDatastoreId`).
 */
export class CacheRegion {
  public readonly cache: CacheCluster;
  /** The Global Datastore, where this region created it (the home region). */
  public readonly globalDatastore?: GlobalDatastore;
  /** The `redis` runbook parameters of the region, for its stack to publish. */
  public readonly runbookParameters: RunbookParameters<'redis'>;

  constructor(stack: Stack, props: CacheRegionProps) {
    const { config, regionPlan } = props;
    const tier = config.tier.name;
    const spec = config.tier.redis;
    const home = config.regions.find((r) => r.isHome) ?? (config.regions[0] as RegionPlan);
    const members = config.regions.filter((r) => !r.isHome).slice(0, MAX_GLOBAL_DATASTORE_SECONDARIES);
    const replicationGroupId = cacheReplicationGroupId(tier, regionPlan.code);
    let globalDatastoreId = members.some((r) => r.name === regionPlan.name)
      ? new RemoteParameter(stack, 'CacheGlobalDatastoreId', {
          parameterName: runbookParameterName(tier, 'redis', 'global-datastore-id'),
          region: home.name,
          logEncryptionKey: props.encryptionKey,
        }).value
      : undefined;
    this.cache = new CacheCluster(stack, 'Cache', {
      replicationGroupId,
      engineVersion: spec.engineVersion,
      nodeType: spec.nodeType,
      shards: spec.shards,
      replicasPerShard: spec.replicasPerShard,
      encryptionKey: props.encryptionKey,
      vpc: props.vpc,
      clientCidrs: props.clientCidrs,
      snapshotRetentionDays: spec.snapshotRetentionDays,
      applicationUserId: cacheApplicationUser(tier),
      globalDatastoreId,
      logRetention: props.logRetention,
    });
    // What AWS FIS's cache experiments select the group by.
    Tags.of(this.cache.replicationGroup).add(CACHE_TAG, replicationGroupId);
    acknowledgeNist(
      this.cache.replicationGroup,
      'ElastiCacheRedisClusterAutomaticBackup',
      `Snapshots kept ${spec.snapshotRetentionDays} day(s), as seed 004 keeps its RDB snapshots 24 h: the cache holds copies of the feature store's rows (Keyspaces, with PITR) and is refilled from it, so older snapshots would restore stale data.`,
    );
    if (regionPlan.isHome) {
      // The datastore's primary follows the platform's primary when that region is in it; a primary
      // outside it (a third or later secondary) runs on its regional cache, and the datastore stays.
      const primary = config.primaryRegion;
      const datastorePrimary = primary.isHome || members.some((r) => r.name === primary.name) ? primary : home;
      this.globalDatastore = new GlobalDatastore(stack, 'CacheGlobal', {
        primary: this.cache,
        idSuffix: cacheGlobalDatastoreSuffix(tier),
        secondaryRegions: members.map((r) => r.name),
        nodeType: spec.nodeType,
        engineVersion: spec.engineVersion,
        currentPrimary: datastorePrimary.isHome
          ? undefined
          : { replicationGroupId: cacheReplicationGroupId(tier, datastorePrimary.code), region: datastorePrimary.name },
      });
      globalDatastoreId = this.globalDatastore.globalDatastoreId;
    }
    this.runbookParameters = {
      'replication-group-id': this.cache.replicationGroup.ref,
      'configuration-endpoint': this.cache.configurationEndpoint,
      'global-datastore-id': globalDatastoreId ?? 'none',
      role: cacheRoleOf(config, regionPlan),
      'application-user-id': this.cache.applicationUser.userId,
    };
  }
}
