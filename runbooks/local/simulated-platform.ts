import { findSupportedRegion, type PlatformConfig, resolvePlatformConfig } from '../../lib/config';
import type { DatabasePlane } from '../core/database';
import type { RunbookDeps, RunbookEnv } from '../core/env';
import { FakeAws } from './fake-aws';
import { type LocalRunResult, type LocalStateMachine, runLocally } from './local-runbooks';
import { MemoryDatabasePlane } from './memory-database';

const ACCOUNT = '111122223333';

export const HOME = 'us-east-1';
export const TARGET = 'us-west-2';
export const HOME_DB = 'mlp-tier1-pg-use1';
export const TARGET_DB = 'mlp-tier1-pg-usw2';
export const STATE_TABLE = 'mlp-tier1-dr-state';
const T0 = Date.parse('2026-12-01T12:00:00Z');

/** The number of Global Datastore members besides the home region, as the stacks deploy them. */
const CACHE_SECONDARIES = 2;

export interface SimulatedPlatformOptions {
  /** The deployment to simulate. @default tier1 across us-east-1 (primary) and us-west-2 */
  readonly config?: PlatformConfig;
  /** The data plane under the runbooks. @default an in-memory one */
  readonly database?: DatabasePlane;
  /**
   * `virtual`: time stands still but for the modelled durations (tests, from a fixed instant);
   * `wall`: the wall clock plus the modelled durations, so real servers' timestamps compare with it (the drill).
   * @default 'virtual'
   */
  readonly clock?: 'virtual' | 'wall';
}

const codeOf = (region: string) => findSupportedRegion(region)?.code ?? region;

/**
 * A simulated deployment, as the stacks deploy it: the runbook parameters, each region's database
 * (generations and sources from the config's topology), the cache's Global Datastore, Kafka, Batch
 * queues, node groups; and, in the in-memory data plane, heartbeats written to the primary.
 */
export class SimulatedPlatform {
  readonly aws = new FakeAws();
  readonly db = new MemoryDatabasePlane();
  readonly config: PlatformConfig;
  readonly tier: string;
  readonly regions: readonly string[];
  readonly stateTable: string;
  private readonly database?: DatabasePlane;
  private readonly origin: number;
  private seq = 0;

  /** `machines`: the state machines of a resilience stack of the deployment, as synthesized. */
  constructor(
    readonly machines: Readonly<Record<string, LocalStateMachine>>,
    databaseOrOptions?: DatabasePlane | SimulatedPlatformOptions,
  ) {
    const options: SimulatedPlatformOptions =
      databaseOrOptions && 'latestHeartbeat' in databaseOrOptions ? { database: databaseOrOptions } : (databaseOrOptions ?? {});
    this.config = options.config ?? resolvePlatformConfig({ tier: 'tier1', account: ACCOUNT }).config;
    this.database = options.database;
    this.origin = options.clock === 'wall' ? Date.now() : T0;
    if (options.clock === 'wall') this.now = () => new Date(Date.now() + this.aws.clock * 1000);
    this.tier = this.config.tier.name;
    this.regions = this.config.regions.map((r) => r.name);
    this.stateTable = `mlp-${this.tier}-dr-state`;
    const home = this.regions[0] as string;
    const primary = this.primaryRegion;
    const globalId = `ldgnf-mlp-${this.tier}-cache`;
    const members = [home, ...this.regions.filter((r) => r !== home).slice(0, CACHE_SECONDARIES)];
    for (const region of this.regions) {
      const code = codeOf(region);
      const database = this.databaseOf(region);
      const source = database.createdFrom;
      const sourceArn = source ? this.arnOf(source.region, source.instanceIdentifier) : undefined;
      // A region's database replicates from the primary unless the config says it was promoted or left stale.
      const replicating = region !== primary && database.role === 'replica' ? sourceArn : undefined;
      const p = (key: string, value: string) => this.aws.parameters.set(`${region}:/mlp/${this.tier}/${key}`, value);
      p('postgres/instance-id', database.instanceIdentifier);
      p('postgres/source-arn', sourceArn ?? 'none');
      p('redis/replication-group-id', `mlp-${this.tier}-cache-${code}`);
      p('redis/global-datastore-id', members.includes(region) ? globalId : 'none');
      p('kafka/cluster-arn', `arn:aws:kafka:${region}:${ACCOUNT}:cluster/mlp-${this.tier}-${code}/uuid`);
      p('compute/batch-queues', `mlp-${this.tier}-priority,mlp-${this.tier}-standard`);
      p('compute/cluster-name', `mlp-${this.tier}-${code}`);
      p('feature-store/keyspace', `mlp_${this.tier}_features`);
      p('topology/rebuilt-replicas', 'none');
      p('topology/primary-region', primary);
      this.addInstance(region, database.instanceIdentifier, replicating);
      this.aws.cacheGroups.set(`${region}:mlp-${this.tier}-cache-${code}`, {
        id: `mlp-${this.tier}-cache-${code}`,
        region,
        status: 'available',
      });
      this.aws.nodegroups.set(`${region}:mlp-${this.tier}-${code}:General`, { desired: 4, max: 12, min: 3 });
    }
    this.aws.globalDatastores.set(globalId, {
      id: globalId,
      status: 'available',
      members: members.map((region) => ({
        groupId: `mlp-${this.tier}-cache-${codeOf(region)}`,
        region,
        role: region === primary ? 'PRIMARY' : 'SECONDARY',
      })),
    });
    this.aws.onPromoted = (instance) => this.db.promote(instance.id);
  }

  /** The region whose database the config makes primary. */
  get primaryRegion(): string {
    return this.config.primaryRegion.name;
  }

  /** The current database generation of a region. */
  databaseOf(region: string) {
    const databases = this.config.databases[region];
    if (!databases) throw new Error(`${region} is not a region of this deployment (${this.regions.join(', ')})`);
    return databases.current;
  }

  private arnOf(region: string, id: string): string {
    return `arn:aws:rds:${region}:${ACCOUNT}:db:${id}`;
  }

  private addInstance(region: string, id: string, sourceArn: string | undefined): void {
    this.aws.instances.set(`${region}:${id}`, {
      id,
      region,
      arn: this.arnOf(region, id),
      status: 'available',
      source: sourceArn,
      multiAz: true,
      zone: `${region}a`,
      host: `${id}.local`,
      port: 5432,
    });
    this.db.add(id, sourceArn?.split(':').pop());
  }

  /** Where the fake RDS says each instance answers, by instance identifier (the drill points them at its servers). */
  setEndpoint(instanceIdentifier: string, host: string, port: number): void {
    for (const instance of this.aws.instances.values()) {
      if (instance.id === instanceIdentifier) {
        instance.host = host;
        instance.port = port;
      }
    }
  }

  now = (): Date => new Date(this.origin + this.aws.clock * 1000);

  env(region = this.defaultTarget): RunbookEnv {
    return {
      tier: this.tier,
      region,
      regions: this.regions,
      stateTable: this.stateTable,
      rpoSeconds: this.config.tier.recovery.region.rpoSeconds,
      rtoSeconds: this.config.tier.recovery.region.rtoSeconds,
      reportBucket: `mlp-${this.tier}-artifacts-${ACCOUNT}-${region}`,
      reportTopicArn: `arn:aws:sns:${region}:${ACCOUNT}:reports`,
      databaseUser: 'mlp_dr',
      databaseName: 'mlp',
    };
  }

  /** The first region other than the primary: where runbooks start unless told otherwise. */
  get defaultTarget(): string {
    return this.regions.find((r) => r !== this.primaryRegion) as string;
  }

  deps(region = this.defaultTarget): RunbookDeps {
    return { env: this.env(region), clients: this.aws.asClients(), database: this.database ?? this.db, now: this.now };
  }

  /** `seconds` of heartbeats on the primary, one a second; the replica has everything but the last `lagSeconds`. */
  heartbeats(seconds: number, lagSeconds = 0, primary = this.databaseOf(this.primaryRegion).instanceIdentifier): void {
    for (let i = 0; i < seconds; i++) {
      this.aws.advance(1);
      this.db.write(primary, 'platform', ++this.seq, this.now().toISOString());
      if (i === seconds - 1 - lagSeconds) this.db.replicate();
    }
    if (lagSeconds === 0) this.db.replicate();
  }

  /** Run a runbook as started in `region` (by default the first secondary). */
  run(
    machine: string,
    input: unknown,
    options: Partial<Parameters<typeof runLocally>[2]> = {},
    region = this.defaultTarget,
  ): Promise<LocalRunResult> {
    const stateMachine = this.machines[machine];
    if (!stateMachine) throw new Error(`no state machine ${machine}; have ${Object.keys(this.machines).join(', ')}`);
    return runLocally(stateMachine, input, {
      deps: this.deps(region),
      machines: this.machines,
      advance: (s) => this.aws.advance(s),
      history: this.aws.executionHistories,
      ...options,
    });
  }

  /**
   * What `cdk deploy -c rebuiltReplicas=<region>:<source>` creates: the region's next database
   * generation, a replica of the source's current instance, published as the region's instance.
   */
  reprotect(region: string, source: string, sourceId: string, generation = 2): string {
    const id = `mlp-${this.tier}-pg-${codeOf(region)}-g${generation}`;
    const sourceArn = this.arnOf(source, sourceId);
    this.addInstance(region, id, sourceArn);
    this.aws.parameters.set(`${region}:/mlp/${this.tier}/postgres/instance-id`, id);
    this.aws.parameters.set(`${region}:/mlp/${this.tier}/postgres/source-arn`, sourceArn);
    return id;
  }

  /** The order in which calls of these commands reached AWS. */
  order(...commands: string[]): string[] {
    return this.aws.calls.filter((c) => !c.error && commands.includes(c.command)).map((c) => `${c.command}@${c.region}`);
  }

  gate(region: string): boolean | undefined {
    return this.aws.tables.get(`${region}:${this.stateTable}`)?.get('gate')?.open?.BOOL;
  }

  restore(): void {
    this.aws.restore();
  }
}
