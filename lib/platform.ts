import type { Construct } from 'constructs';
import { type PlatformConfig, WRITE_GATE_PATH } from './config';
import { ComputeStack, DataStack, GlobalStack, NetworkStack, ResilienceStack, WitnessStack } from './stacks';

/** The stacks of one region. */
export interface RegionStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  /** Absent only when `BuildOptions.compute` is off. */
  readonly compute?: ComputeStack;
  readonly resilience: ResilienceStack;
}

export interface BuildOptions {
  /**
   * Build the compute stacks. Off only for checks that compare the other layers across many
   * layouts (the compute stacks are most of the synthesis time, and hold no store whose shape
   * depends on which region is primary).
   * @default true
   */
  readonly compute?: boolean;
  /**
   * Build the runbooks in the resilience stacks. Off only for checks that compare many layouts:
   * the runbooks' stores (state table, keys, log groups) take the same shape whatever the primary.
   * @default true
   */
  readonly runbooks?: boolean;
}

/** Every stack of one tier, by region name, in the configured region order. */
export interface Platform {
  readonly config: PlatformConfig;
  readonly regions: ReadonlyMap<string, RegionStacks>;
  /** Route 53 health checks and records, in us-east-1. */
  readonly global: GlobalStack;
  /** A two-region deployment's witness state table (`PlatformConfig.witnessRegion`). */
  readonly witness?: WitnessStack;
}

/**
 * Compose the stacks of one tier across its regions.
 *
 * Deploy order (encoded as stack dependencies, which `cdk deploy` follows):
 *   network -> data (primary region) -> data (secondaries) -> compute, resilience -> global.
 * Resilience waits for the data stacks of all regions because its replication rules and Kafka flows
 * name their buckets and clusters. On a first deployment the primary is the home region, whose data
 * stack also creates what the others join (the cache's global datastore, the keyspace).
 */
export function buildPlatform(scope: Construct, config: PlatformConfig, options: BuildOptions = {}): Platform {
  const regions = new Map<string, RegionStacks>();
  for (const region of config.regions) {
    const network = new NetworkStack(scope, { config, region });
    const data = new DataStack(scope, { config, region, vpc: network.vpc });
    data.addStackDependency(network, "data stores are placed in the network stack's subnets");
    let compute: ComputeStack | undefined;
    if (options.compute ?? true) {
      compute = new ComputeStack(scope, { config, region, vpc: network.vpc, data });
      compute.addStackDependency(data, 'services are granted access to the data stores by their ids');
    }
    const resilience = new ResilienceStack(scope, { config, region, data, vpc: network.vpc, runbooks: options.runbooks ?? true });
    compute?.addApiOperations(resilience.paging.alarmAction);
    if (compute && resilience.runbooks) {
      // Route 53's write-gate check probes the region's API name; the runbooks' function answers it.
      compute.endpoint.serveFromFunction('WriteGate', WRITE_GATE_PATH, resilience.runbooks.writeGateEndpoint);
    }
    regions.set(region.name, { network, data, compute, resilience });
  }
  const primary = regions.get(config.primaryRegion.name);
  if (!primary) throw new Error('unreachable: the config always has a primary region');
  for (const { data } of regions.values()) {
    if (data !== primary.data) {
      data.addStackDependency(primary.data, "a new replica in a secondary's data stack replicates the primary's database");
    }
  }
  for (const { resilience } of regions.values()) {
    for (const { data } of regions.values()) {
      resilience.addStackDependency(data, 'replication rules need every destination bucket to exist');
    }
  }
  // Independent of every other stack: the runbooks reach it by name when they run, not when they deploy.
  const witness = config.witnessRegion ? new WitnessStack(scope, { config, region: config.witnessRegion }) : undefined;
  const global = new GlobalStack(scope, { config });
  for (const { compute } of regions.values()) {
    if (compute) global.addStackDependency(compute, 'records point at every region’s api.<code> name, which its compute stack creates');
  }
  return witness ? { config, regions, global, witness } : { config, regions, global };
}
