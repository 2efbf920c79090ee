import type { TierName } from './types';

/**
 * Names shared across regions. Stacks in different regions never hold references to each other
 * (no `crossRegionReferences`); they agree on these names instead.
 */
export type RegionalLayer = 'network' | 'data' | 'compute' | 'resilience';

/** `Mlp-<tier>-<regionCode>-<layer>`, e.g. `Mlp-tier1-use1-network`. */
export function regionalStackName(tier: TierName, regionCode: string, layer: RegionalLayer): string {
  return `Mlp-${tier}-${regionCode}-${layer}`;
}

/** `Mlp-<tier>-global`, deployed in us-east-1. */
export function globalStackName(tier: TierName): string {
  return `Mlp-${tier}-global`;
}

/**
 * Artifact bucket of one region. A physical name because replication rules in other regions must
 * name it; account and region make it globally unique.
 */
export function artifactBucketName(tier: TierName, account: string, region: string): string {
  return `mlp-${tier}-artifacts-${account}-${region}`;
}

/**
 * Alias of the regional data key. S3 replication names the destination region's key by this alias,
 * because the key id itself is only known after that region deploys.
 */
export function dataKeyAlias(tier: TierName): string {
  return `alias/mlp-${tier}-data`;
}

/** Prefix of every SSM parameter the platform publishes for its runbooks, e.g. `/mlp/tier1/`. */
export function parameterPrefix(tier: TierName): string {
  return `/mlp/${tier}`;
}
