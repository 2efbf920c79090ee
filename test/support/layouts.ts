import type { TierName } from '../../lib/config';

/** A deployment shape the quality gates are held to. */
export interface Layout {
  readonly id: string;
  readonly tier: TierName;
  /** `-c regions`; the tier's default regions when absent. */
  readonly regions?: readonly string[];
}

/** Every tier preset at its default regions, plus the largest supported layout. */
export const LAYOUTS: readonly Layout[] = [
  { id: 'dev', tier: 'dev' },
  { id: 'tier1', tier: 'tier1' },
  { id: 'tier2', tier: 'tier2' },
  { id: 'tier3', tier: 'tier3' },
  { id: 'tier3-5regions', tier: 'tier3', regions: ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2', 'eu-central-1'] },
];

/** The fixed account used by every synthesized test layout. */
export const TEST_ACCOUNT = '111122223333';
