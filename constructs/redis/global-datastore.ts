import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import { MAX_CACHE_DATASTORE_SECONDARIES as MAX_GLOBAL_DATASTORE_SECONDARIES } from '../../lib/config/topology';
import { ValidationError } from '../private/validation-error';
import type { CacheCluster } from './cache-cluster';

/** ElastiCache replicates a global datastore to at most two secondary regions. */
export { MAX_GLOBAL_DATASTORE_SECONDARIES };

export interface GlobalDatastoreProps {
  /** The primary group; it must not itself be a member of another global datastore. */
  readonly primary: CacheCluster;
  /** Suffix of the global id; ElastiCache prepends a region-specific prefix of its own. */
  readonly idSuffix: string;
  /** Regions whose cache groups will join as secondaries (they join from their own stacks). */
  readonly secondaryRegions: readonly string[];
  /**
   * Node type and engine version of every member. After creation, change them here: ElastiCache
   * rejects node type or version changes on a member of a global datastore.
   */
  readonly nodeType: string;
  readonly engineVersion: string;
  /**
   * The member that is the global primary now, after a failover. Members that have joined stay
   * members in either role, so a failover changes only which one the datastore names as primary.
   * @default - the group the datastore was created around
   */
  readonly currentPrimary?: { readonly replicationGroupId: string; readonly region: string };
}

/**
 * An ElastiCache Global Datastore around a primary group. Secondaries join from their own region's
 * stack with `CacheCluster.globalDatastoreId`; replication lag is typically under a second.
 */
export class GlobalDatastore extends Construct {
  public readonly resource: elasticache.CfnGlobalReplicationGroup;
  /** The full global id, prefix included; secondaries need it to join. */
  public readonly globalDatastoreId: string;

  constructor(scope: Construct, id: string, props: GlobalDatastoreProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (props.primary.isGlobalMember) {
      throw new ValidationError('primary must be a standalone group, not a member of another global datastore', this);
    }
    if (props.secondaryRegions.length < 1 || props.secondaryRegions.length > MAX_GLOBAL_DATASTORE_SECONDARIES) {
      throw new ValidationError(
        `secondaryRegions must list 1 to ${MAX_GLOBAL_DATASTORE_SECONDARIES} regions (ElastiCache's limit), got ${props.secondaryRegions.length}: ${props.secondaryRegions.join(', ')}`,
        this,
      );
    }
    if (!Token.isUnresolved(region) && props.secondaryRegions.includes(region)) {
      throw new ValidationError(`secondaryRegions lists ${region}, the primary's own region`, this);
    }
    if (/^cache\.t\d/.test(props.nodeType)) {
      throw new ValidationError(
        `nodeType ${props.nodeType} is burstable (T family), which Global Datastore does not support; use M5/R5 or newer`,
        this,
      );
    }
    if (props.currentPrimary && props.currentPrimary.region !== region && !props.secondaryRegions.includes(props.currentPrimary.region)) {
      throw new ValidationError(
        `currentPrimary is in ${props.currentPrimary.region}, which is not a member; members are ${[region, ...props.secondaryRegions].join(', ')}`,
        this,
      );
    }
    if (new Set(props.secondaryRegions).size !== props.secondaryRegions.length) {
      throw new ValidationError(`secondaryRegions lists a region twice: ${props.secondaryRegions.join(', ')}`, this);
    }

    const primaryMember = props.currentPrimary ?? { replicationGroupId: props.primary.replicationGroup.ref, region };
    this.resource = new elasticache.CfnGlobalReplicationGroup(this, 'Resource', {
      globalReplicationGroupIdSuffix: props.idSuffix,
      // Role-free: a description naming the primary would change, and update the group, on failover.
      globalReplicationGroupDescription: `Platform cache ${props.idSuffix}, replicated to every member region`,
      members: [{ replicationGroupId: primaryMember.replicationGroupId, replicationGroupRegion: primaryMember.region, role: 'PRIMARY' }],
      automaticFailoverEnabled: true,
      cacheNodeType: props.nodeType,
      engineVersion: props.engineVersion,
    });
    this.resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // Created around the primary group, whichever member is named primary later.
    this.resource.addResourceDependency(props.primary.replicationGroup);
    this.globalDatastoreId = this.resource.ref;
  }
}
