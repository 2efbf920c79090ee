import type { SupportedRegion } from './regions';
import type { TierName } from './types';

/**
 * The platform's IPv4 address plan: one /16 per (tier, region) inside 10.0.0.0/8.
 *
 * The second octet is `64 * tierIndex + region.cidrSlot`, so every VPC of every tier in every
 * region is distinct. A CIDR depends only on the tier and the region itself, never on the region's
 * position in `-c regions`: reordering or adding regions never renumbers an existing VPC, and any two
 * VPCs can be peered (MirrorMaker 2 mode) without overlap.
 */
const TIER_BLOCK: Record<TierName, number> = { dev: 0, tier1: 1, tier2: 2, tier3: 3 };
const SLOTS_PER_TIER = 64;

export function vpcCidrFor(tier: TierName, region: SupportedRegion): string {
  if (region.cidrSlot < 0 || region.cidrSlot >= SLOTS_PER_TIER) {
    throw new Error(`region ${region.name} has cidrSlot ${region.cidrSlot}; slots run from 0 to ${SLOTS_PER_TIER - 1}`);
  }
  return `10.${TIER_BLOCK[tier] * SLOTS_PER_TIER + region.cidrSlot}.0.0/16`;
}
