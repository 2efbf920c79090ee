import { type DatabaseEngine, findSupportedRegion, TIER_PRESETS, type TierName } from '../../lib/config';
import type { Layout } from './layouts';

/** One step an operator deploys, from one layout to the next. */
export interface Transition {
  readonly id: string;
  readonly from: Layout;
  readonly to: Layout;
}

interface MatrixBase {
  readonly id: string;
  readonly tier: TierName;
  readonly regions: readonly string[];
  /** Synthesize the compute stacks too (the full app). */
  readonly compute: boolean;
  /** Synthesize the runbooks in the resilience stacks. */
  readonly runbooks: boolean;
  /** Further context of every layout of the base (e.g. the database engine). */
  readonly context?: Readonly<Record<string, string>>;
}

/**
 * The deployments the change-safety check is run over: every tier preset on its engine (tier3 also
 * across five regions), tier1 and tier3 on RDS PostgreSQL too, and tier1 once more as the whole app.
 * The other bases leave out, for time, the compute stacks and (but for tier1) the runbooks: neither
 * holds a store whose shape follows the primary, which the whole-app tier1 base checks.
 */
const RDS = { databaseEngine: 'rds-postgresql' } as const;
const BASES: readonly MatrixBase[] = [
  { id: 'dev', tier: 'dev', regions: ['us-east-1', 'us-west-2'], compute: false, runbooks: false },
  { id: 'tier1', tier: 'tier1', regions: ['us-east-1', 'us-west-2'], compute: false, runbooks: true },
  { id: 'tier1-rds', tier: 'tier1', regions: ['us-east-1', 'us-west-2'], compute: false, runbooks: true, context: RDS },
  { id: 'tier2', tier: 'tier2', regions: ['us-east-1', 'us-west-2'], compute: false, runbooks: false },
  { id: 'tier3', tier: 'tier3', regions: ['us-east-1', 'us-west-2', 'eu-west-1'], compute: false, runbooks: false },
  { id: 'tier3-rds', tier: 'tier3', regions: ['us-east-1', 'us-west-2', 'eu-west-1'], compute: false, runbooks: false, context: RDS },
  {
    id: 'tier3-5regions',
    tier: 'tier3',
    regions: ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2', 'eu-central-1'],
    compute: false,
    runbooks: false,
  },
  { id: 'tier1-full', tier: 'tier1', regions: ['us-east-1', 'us-west-2'], compute: true, runbooks: true },
];

/** The database engine a layout synthesizes: its `-c databaseEngine`, else its tier's. */
export function engineOf(layout: { readonly tier: TierName; readonly context?: Readonly<Record<string, string>> }): DatabaseEngine {
  return (layout.context?.databaseEngine as DatabaseEngine | undefined) ?? TIER_PRESETS[layout.tier].database.engine;
}

/** A region to add to a layout: the first supported one it does not use yet, in a fixed order. */
const ADDABLE = ['eu-west-1', 'eu-central-1', 'us-east-2', 'ap-southeast-2'];

const code = (region: string) => findSupportedRegion(region)?.code ?? region;

/**
 * For each base: home -> failed over to each secondary -> that region's old primary re-protected
 * (and every other secondary re-pointed) -> failed back home; adding a region; removing a
 * secondary; and for tier1, retiring the old primary after failback.
 */
export function transitionMatrix(): { layouts: Layout[]; transitions: Transition[] } {
  const layouts = new Map<string, Layout>();
  const transitions: Transition[] = [];
  const layout = (base: MatrixBase, state: string, regions: readonly string[], context: Record<string, string> = {}): Layout => {
    const id = `${base.id}@${state}`;
    const made: Layout = {
      id,
      tier: base.tier,
      regions,
      context: { ...base.context, ...context },
      compute: base.compute,
      runbooks: base.runbooks,
      gates: false,
    };
    if (!layouts.has(id)) layouts.set(id, made);
    return made;
  };
  const step = (from: Layout, to: Layout) => transitions.push({ id: `${from.id} -> ${to.id.split('@')[1]}`, from, to });

  for (const base of BASES) {
    const [home, ...secondaries] = base.regions as [string, ...string[]];
    const atHome = layout(base, 'home', base.regions);
    // An Aurora global database: a failover and a failback are only -c primaryRegion; Aurora rejoins the old primary itself.
    const aurora = engineOf(base) === 'aurora-postgresql-global';
    for (const target of secondaries) {
      if (aurora) {
        const failedOver = layout(base, `failed-over-${code(target)}`, base.regions, { primaryRegion: target });
        step(atHome, failedOver);
        step(failedOver, atHome);
        continue;
      }
      const others = secondaries.filter((r) => r !== target);
      const rebuilt = [home, ...others].map((r) => `${r}:${target}`).join(',');
      const failedOver = layout(base, `failed-over-${code(target)}`, base.regions, { primaryRegion: target });
      const reprotected = layout(base, `reprotected-${code(target)}`, base.regions, { primaryRegion: target, rebuiltReplicas: rebuilt });
      const failedBack = layout(base, `failed-back-${code(target)}`, base.regions, { rebuiltReplicas: rebuilt });
      step(atHome, failedOver);
      step(failedOver, reprotected);
      step(reprotected, failedBack);
      if (base.id === 'tier1-rds' && target === secondaries[0]) {
        const retired = layout(base, `retired-${code(home)}`, base.regions, {
          rebuiltReplicas: rebuilt,
          retiredDatabases: `mlp-${base.tier}-pg-${code(home)}`,
        });
        step(failedBack, retired);
      }
    }
    if (base.regions.length < 5) {
      const added = ADDABLE.find((r) => !base.regions.includes(r)) as string;
      const withAdded = layout(base, `added-${code(added)}`, [...base.regions, added]);
      step(atHome, withAdded);
      // Removing a secondary: from three regions or more, the last one goes.
      if (base.regions.length < 3) step(withAdded, atHome);
    }
    if (base.regions.length >= 3) {
      const removed = base.regions[base.regions.length - 1] as string;
      step(atHome, layout(base, `removed-${code(removed)}`, base.regions.slice(0, -1)));
    }
  }
  return { layouts: [...layouts.values()], transitions };
}
