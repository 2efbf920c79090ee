import type { TierName } from '../../lib/config';

/** A deployment shape the quality gates are held to. */
export interface Layout {
  readonly id: string;
  readonly tier: TierName;
  /** `-c regions`; the tier's default regions when absent. */
  readonly regions?: readonly string[];
  /** Further context keys, as `-c key=value` would give them. */
  readonly context?: Readonly<Record<string, string>>;
  /**
   * Build the compute stacks.
   * @default true
   */
  readonly compute?: boolean;
  /**
   * Build the runbooks in the resilience stacks.
   * @default true
   */
  readonly runbooks?: boolean;
  /**
   * Run the quality gates (cdk-nag, the stateful-resource guard) while synthesizing.
   * @default true
   */
  readonly gates?: boolean;
}

/**
 * Every tier preset at its default regions (dev on RDS PostgreSQL, tiers 1-3 on an Aurora global
 * database), tier1 on RDS PostgreSQL too, the other Kafka replication mode, the largest supported
 * layout, and the shapes a failover leaves behind: an Aurora tier failed over (only the primary
 * moves; opted into game days), and on RDS a re-protected region holding two generations and a
 * failed-back tier3.
 */
export const LAYOUTS: readonly Layout[] = [
  { id: 'dev', tier: 'dev' },
  { id: 'tier1', tier: 'tier1' },
  { id: 'tier2', tier: 'tier2' },
  { id: 'tier3', tier: 'tier3' },
  { id: 'tier1-rds', tier: 'tier1', context: { databaseEngine: 'rds-postgresql' } },
  { id: 'tier1-mirrormaker2', tier: 'tier1', regions: ['us-east-1', 'us-west-2'], context: { kafkaReplicationMode: 'mirrormaker2' } },
  { id: 'tier3-5regions', tier: 'tier3', regions: ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2', 'eu-central-1'] },
  // Opted into game days too (dev has them by default), so the gates hold the Aurora experiment templates and the
  // game-day schedules of a tier whose primary is not its home.
  { id: 'tier1-failed-over', tier: 'tier1', context: { primaryRegion: 'us-west-2', gameDays: 'on' } },
  {
    id: 'tier1-rds-reprotected',
    tier: 'tier1',
    context: { databaseEngine: 'rds-postgresql', primaryRegion: 'us-west-2', rebuiltReplicas: 'us-east-1:us-west-2' },
  },
  {
    id: 'tier3-rds-failed-back',
    tier: 'tier3',
    context: {
      databaseEngine: 'rds-postgresql',
      rebuiltReplicas: 'us-east-1:us-west-2,eu-west-1:us-west-2',
      retiredDatabases: 'mlp-tier3-pg-euw1',
    },
  },
];

/** The fixed account used by every synthesized test layout. */
export const TEST_ACCOUNT = '111122223333';

/** The context a layout is synthesized with (what `-c` would give `bin/platform.ts`). */
export function layoutContext(layout: Layout): Record<string, unknown> {
  return { tier: layout.tier, regions: layout.regions?.join(','), account: TEST_ACCOUNT, ...layout.context };
}
