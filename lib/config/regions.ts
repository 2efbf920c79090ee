/**
 * The AWS regions this platform can be deployed to.
 *
 * A region is listed only if it has at least three availability zones in every account and offers
 * every service the platform uses (EKS, MSK and MSK Replicator, ElastiCache global datastores,
 * Keyspaces multi-region keyspaces, AWS Batch, RDS cross-region read replicas). us-west-1 is absent
 * on purpose: new accounts only get two of its zones.
 *
 * The zone names are fixed so that synthesis never performs an availability-zone lookup. They are
 * zone *names*, which every account has, not zone ids.
 */
export interface SupportedRegion {
  /** Region name, e.g. `us-east-1`. */
  readonly name: string;
  /** Short code used in stack names and host names, e.g. `use1`. */
  readonly code: string;
  /** Three availability zones used by every VPC and subnet group in the region. */
  readonly availabilityZones: readonly [string, string, string];
  /**
   * Stable slot of the region in the address plan (0-63). Never renumber a slot: VPC CIDRs are
   * derived from it, and a VPC's CIDR cannot change in place.
   */
  readonly cidrSlot: number;
}

function zones(region: string, letters: string): readonly [string, string, string] {
  const [a, b, c] = letters.split('');
  return [`${region}${a}`, `${region}${b}`, `${region}${c}`];
}

export const SUPPORTED_REGIONS: readonly SupportedRegion[] = [
  { name: 'us-east-1', code: 'use1', availabilityZones: zones('us-east-1', 'abc'), cidrSlot: 0 },
  { name: 'us-west-2', code: 'usw2', availabilityZones: zones('us-west-2', 'abc'), cidrSlot: 1 },
  { name: 'eu-west-1', code: 'euw1', availabilityZones: zones('eu-west-1', 'abc'), cidrSlot: 2 },
  { name: 'us-east-2', code: 'use2', availabilityZones: zones('us-east-2', 'abc'), cidrSlot: 3 },
  { name: 'eu-central-1', code: 'euc1', availabilityZones: zones('eu-central-1', 'abc'), cidrSlot: 4 },
  { name: 'eu-west-2', code: 'euw2', availabilityZones: zones('eu-west-2', 'abc'), cidrSlot: 5 },
  { name: 'eu-north-1', code: 'eun1', availabilityZones: zones('eu-north-1', 'abc'), cidrSlot: 6 },
  { name: 'ap-southeast-1', code: 'apse1', availabilityZones: zones('ap-southeast-1', 'abc'), cidrSlot: 7 },
  { name: 'ap-southeast-2', code: 'apse2', availabilityZones: zones('ap-southeast-2', 'abc'), cidrSlot: 8 },
  // ap-northeast-1b does not exist for accounts created after 2012.
  { name: 'ap-northeast-1', code: 'apne1', availabilityZones: zones('ap-northeast-1', 'acd'), cidrSlot: 9 },
  { name: 'ap-south-1', code: 'aps1', availabilityZones: zones('ap-south-1', 'abc'), cidrSlot: 10 },
  // ca-central-1c does not exist; the third zone is ca-central-1d.
  { name: 'ca-central-1', code: 'cac1', availabilityZones: zones('ca-central-1', 'abd'), cidrSlot: 11 },
  { name: 'sa-east-1', code: 'sae1', availabilityZones: zones('sa-east-1', 'abc'), cidrSlot: 12 },
];

const BY_NAME = new Map(SUPPORTED_REGIONS.map((r) => [r.name, r]));

/** The supported region with this name, or `undefined`. */
export function findSupportedRegion(name: string): SupportedRegion | undefined {
  return BY_NAME.get(name);
}

/** Shape of an AWS commercial region name, e.g. `us-east-1`, `ap-southeast-2`. */
export const REGION_NAME_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
