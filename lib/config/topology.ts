import { ConfigError } from './errors';
import { postgresClusterId, postgresInstanceId } from './naming';
import type { DatabaseEngine, DatabaseGeneration, DatabaseTopology, PlatformConfig, RegionDatabases, RegionPlan, TierName } from './types';

/**
 * The database lineage of a deployment, replayed from its inputs.
 *
 * Every region starts with generation 1: the home region's (`regions[0]`) is created as the primary,
 * every other region's as a cross-region replica of it. A failover promotes a replica where it
 * stands (`primaryRegion`). Promotion is one-way, so putting a region back under replication builds
 * a new instance: each `rebuiltReplicas` entry `<region>:<source>` (in the order they happened)
 * gives `<region>` its next generation, created as a replica of `<source>`'s current instance.
 * Older generations stay in their stack, retained and protected, until `retiredDatabases` names
 * them.
 */
export interface TopologyInputs {
  readonly tier: TierName;
  /** Regions in home order; `regions[0]` is the home region. */
  readonly regions: readonly Pick<RegionPlan, 'name' | 'code'>[];
  readonly primaryRegion: string;
  /** `<region>:<source region>` re-protection events, oldest first. */
  readonly rebuiltReplicas: readonly { region: string; source: string }[];
  /** Instance identifiers of old generations to remove from their stacks. */
  readonly retiredDatabases: readonly string[];
}

export interface ResolvedTopology {
  readonly databases: DatabaseTopology;
  /** States the deployment can converge to, but that leave a region without replication. */
  readonly warnings: readonly string[];
}

interface MutableGeneration {
  region: string;
  regionCode: string;
  generation: number;
  instanceIdentifier: string;
  createdFrom?: { region: string; instanceIdentifier: string };
  hasBeenPrimary: boolean;
}

/** Replay the lineage and decide what each region's stack holds. */
export function resolveDatabaseTopology(inputs: TopologyInputs): ResolvedTopology {
  const home = inputs.regions[0];
  if (!home) throw new Error('unreachable: regions are validated before the topology');
  const lineage = new Map<string, MutableGeneration[]>();
  for (const region of inputs.regions) {
    const first: MutableGeneration = {
      region: region.name,
      regionCode: region.code,
      generation: 1,
      instanceIdentifier: postgresInstanceId(inputs.tier, region.code, 1),
      hasBeenPrimary: region.name === home.name,
    };
    if (region.name !== home.name) {
      first.createdFrom = { region: home.name, instanceIdentifier: postgresInstanceId(inputs.tier, home.code, 1) };
    }
    lineage.set(region.name, [first]);
  }
  const currentOf = (region: string): MutableGeneration => {
    const generations = lineage.get(region);
    const current = generations?.[generations.length - 1];
    if (!current) throw new Error(`unreachable: ${region} was validated`);
    return current;
  };

  for (const { region, source } of inputs.rebuiltReplicas) {
    // A replica is only ever built from the instance that was the primary at the time.
    const sourceInstance = currentOf(source);
    sourceInstance.hasBeenPrimary = true;
    const generations = lineage.get(region) as MutableGeneration[];
    const generation = generations.length + 1;
    const code = currentOf(region).regionCode;
    generations.push({
      region,
      regionCode: code,
      generation,
      instanceIdentifier: postgresInstanceId(inputs.tier, code, generation),
      createdFrom: { region: source, instanceIdentifier: sourceInstance.instanceIdentifier },
      hasBeenPrimary: false,
    });
  }

  const primary = currentOf(inputs.primaryRegion);
  primary.hasBeenPrimary = true;

  const retiring = new Set(inputs.retiredDatabases);
  const known = new Set<string>();
  const databases: Record<string, RegionDatabases> = {};
  const warnings: string[] = [];
  for (const region of inputs.regions) {
    const generations = lineage.get(region.name) as MutableGeneration[];
    const current = generations[generations.length - 1] as MutableGeneration;
    const older = generations.slice(0, -1);
    for (const g of generations) known.add(g.instanceIdentifier);
    if (retiring.has(current.instanceIdentifier)) {
      throw new ConfigError(
        'retiredDatabases',
        inputs.retiredDatabases.join(','),
        `${current.instanceIdentifier} is the current database of ${region.name}; only an older generation can be retired`,
      );
    }
    const freeze = (g: MutableGeneration): DatabaseGeneration => ({
      region: g.region,
      regionCode: g.regionCode,
      generation: g.generation,
      instanceIdentifier: g.instanceIdentifier,
      createdFrom: g.createdFrom,
      role: roleOf(g, primary, region.name === inputs.primaryRegion && g === current),
    });
    const currentGeneration = freeze(current);
    databases[region.name] = {
      current: currentGeneration,
      retained: older.filter((g) => !retiring.has(g.instanceIdentifier)).map(freeze),
    };
    if (currentGeneration.role === 'former-primary') {
      warnings.push(
        `${region.name}'s database ${current.instanceIdentifier} is a former primary, retained but replicating nothing: re-protect the region with -c rebuiltReplicas=${rebuiltValue(inputs, region.name, inputs.primaryRegion)}`,
      );
    } else if (currentGeneration.role === 'stale-replica') {
      warnings.push(
        `${region.name}'s database ${current.instanceIdentifier} still replicates ${current.createdFrom?.instanceIdentifier}, which is no longer the primary: re-point it with -c rebuiltReplicas=${rebuiltValue(inputs, region.name, inputs.primaryRegion)}`,
      );
    }
  }
  for (const id of inputs.retiredDatabases) {
    if (!known.has(id)) {
      throw new ConfigError(
        'retiredDatabases',
        inputs.retiredDatabases.join(','),
        `${id} is not a database of this deployment; retire one of the older generations: ${[...known].join(', ')}`,
      );
    }
  }
  return { databases, warnings };
}

function roleOf(g: MutableGeneration, primary: MutableGeneration, isPrimary: boolean): DatabaseGeneration['role'] {
  if (isPrimary) return 'primary';
  if (g.hasBeenPrimary) return 'former-primary';
  return g.createdFrom?.instanceIdentifier === primary.instanceIdentifier ? 'replica' : 'stale-replica';
}

/** The `rebuiltReplicas` value with one more event appended, for messages. */
function rebuiltValue(inputs: TopologyInputs, region: string, source: string): string {
  return [...inputs.rebuiltReplicas.map((e) => `${e.region}:${e.source}`), `${region}:${source}`].join(',');
}

/**
 * The `-c` arguments that describe a deployment's topology (beyond tier and account), exactly as an
 * operator passes them to `cdk deploy`; empty for a deployment that never failed over.
 */
export function topologyContextArgs(config: {
  readonly regions: readonly Pick<RegionPlan, 'name' | 'isHome'>[];
  readonly primaryRegion: Pick<RegionPlan, 'name'>;
  readonly rebuiltReplicas: readonly { readonly region: string; readonly source: string }[];
  readonly retiredDatabases: readonly string[];
}): string[] {
  const args = [`regions=${config.regions.map((r) => r.name).join(',')}`];
  if (!config.regions.find((r) => r.name === config.primaryRegion.name)?.isHome) args.push(`primaryRegion=${config.primaryRegion.name}`);
  if (config.rebuiltReplicas.length > 0)
    args.push(`rebuiltReplicas=${config.rebuiltReplicas.map((e) => `${e.region}:${e.source}`).join(',')}`);
  if (config.retiredDatabases.length > 0) args.push(`retiredDatabases=${config.retiredDatabases.join(',')}`);
  return args.flatMap((arg) => ['-c', arg]);
}

/**
 * The database that replicates the primary into `region`, as its replication lag is published: on an
 * Aurora global database the region's cluster while it is a secondary, on RDS the region's current
 * instance while it is a replica; none in the primary's region (or beside a stale replica).
 */
export function replicatedDatabaseOf(
  config: Pick<PlatformConfig, 'databaseEngine' | 'databases' | 'tier'>,
  region: Pick<RegionPlan, 'name' | 'code' | 'isPrimary'>,
): { readonly engine: DatabaseEngine; readonly databaseIdentifier: string } | undefined {
  const engine = config.databaseEngine;
  if (engine === 'aurora-postgresql-global') {
    return region.isPrimary ? undefined : { engine, databaseIdentifier: postgresClusterId(config.tier.name, region.code) };
  }
  const current = config.databases[region.name]?.current;
  return current?.role === 'replica' ? { engine, databaseIdentifier: current.instanceIdentifier } : undefined;
}

/** ElastiCache allows a Global Datastore two secondary regions. */
export const MAX_CACHE_DATASTORE_SECONDARIES = 2;

/**
 * A region's cache in the Global Datastore: `primary` (takes the writes), `member` (a secondary of
 * it), or `regional` (a third or later secondary, outside it). The home region and the first two other
 * regions are in it; its primary follows the platform's primary when that region is in it, else the
 * home region keeps it.
 */
export function cacheRoleOf(
  config: Pick<PlatformConfig, 'regions' | 'primaryRegion'>,
  region: Pick<RegionPlan, 'name'>,
): 'primary' | 'member' | 'regional' {
  const home = config.regions.find((r) => r.isHome) ?? config.regions[0];
  const inDatastore = [home, ...config.regions.filter((r) => !r.isHome).slice(0, MAX_CACHE_DATASTORE_SECONDARIES)].map((r) => r?.name);
  const datastorePrimary = inDatastore.includes(config.primaryRegion.name) ? config.primaryRegion.name : home?.name;
  if (region.name === datastorePrimary) return 'primary';
  return inDatastore.includes(region.name) ? 'member' : 'regional';
}

/**
 * The database a region serves from as CloudWatch names it: its Aurora cluster of the global database
 * (`DBClusterIdentifier`), or its current RDS instance (`DBInstanceIdentifier`), primary or replica.
 */
export function regionDatabaseOf(
  config: Pick<PlatformConfig, 'databaseEngine' | 'databases' | 'tier'>,
  region: Pick<RegionPlan, 'name' | 'code'>,
): { readonly engine: DatabaseEngine; readonly databaseIdentifier: string } | undefined {
  const engine = config.databaseEngine;
  if (engine === 'aurora-postgresql-global') return { engine, databaseIdentifier: postgresClusterId(config.tier.name, region.code) };
  const current = config.databases[region.name]?.current;
  return current ? { engine, databaseIdentifier: current.instanceIdentifier } : undefined;
}
