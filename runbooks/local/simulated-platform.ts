import type { DatabasePlane } from '../core/database';
import type { RunbookDeps, RunbookEnv } from '../core/env';
import { FakeAws } from './fake-aws';
import { type LocalRunResult, type LocalStateMachine, runLocally } from './local-runbooks';
import { MemoryDatabasePlane } from './memory-database';

const ACCOUNT = '111122223333';

export const HOME = 'us-east-1';
export const TARGET = 'us-west-2';
const CODES: Record<string, string> = { [HOME]: 'use1', [TARGET]: 'usw2' };
export const HOME_DB = 'mlp-tier1-pg-use1';
export const TARGET_DB = 'mlp-tier1-pg-usw2';
export const STATE_TABLE = 'mlp-tier1-dr-state';
const T0 = Date.parse('2026-12-01T12:00:00Z');

/**
 * A simulated tier1 across us-east-1 (primary) and us-west-2 (its replica), as the stacks deploy it: the
 * runbook parameters, the databases, the cache's global datastore, Kafka, Batch queues, node groups,
 * and heartbeats written every second to the primary and replicated `lagSeconds` behind.
 */
export class SimulatedPlatform {
  readonly aws = new FakeAws();
  readonly db = new MemoryDatabasePlane();
  private seq = 0;

  /**
   * `machines`: the state machines of tier1's us-west-2 resilience stack, as synthesized.
   * `database`: the data plane under the runbooks; the in-memory one unless the drill brings real servers.
   */
  constructor(
    readonly machines: Readonly<Record<string, LocalStateMachine>>,
    private readonly database?: DatabasePlane,
  ) {
    for (const region of [HOME, TARGET]) {
      const code = CODES[region] as string;
      const id = `mlp-tier1-pg-${code}`;
      const p = (key: string, value: string) => this.aws.parameters.set(`${region}:/mlp/tier1/${key}`, value);
      p('postgres/instance-id', id);
      p('postgres/source-arn', region === HOME ? 'none' : `arn:aws:rds:${HOME}:${ACCOUNT}:db:${HOME_DB}`);
      p('redis/replication-group-id', `mlp-tier1-cache-${code}`);
      p('redis/global-datastore-id', 'ldgnf-mlp-tier1-cache');
      p('kafka/cluster-arn', `arn:aws:kafka:${region}:${ACCOUNT}:cluster/mlp-tier1-${code}/uuid`);
      p('compute/batch-queues', 'mlp-tier1-priority,mlp-tier1-standard');
      p('compute/cluster-name', `mlp-tier1-${code}`);
      p('feature-store/keyspace', 'mlp_tier1_features');
      p('topology/rebuilt-replicas', 'none');
      p('topology/primary-region', HOME);
      this.aws.instances.set(`${region}:${id}`, {
        id,
        region,
        arn: `arn:aws:rds:${region}:${ACCOUNT}:db:${id}`,
        status: 'available',
        source: region === HOME ? undefined : `arn:aws:rds:${HOME}:${ACCOUNT}:db:${HOME_DB}`,
        multiAz: true,
        zone: `${region}a`,
        host: `${id}.local`,
        port: 5432,
      });
      this.aws.cacheGroups.set(`${region}:mlp-tier1-cache-${code}`, { id: `mlp-tier1-cache-${code}`, region, status: 'available' });
      this.aws.nodegroups.set(`${region}:mlp-tier1-${code}:General`, { desired: 4, max: 12, min: 3 });
      this.db.add(id, region === HOME ? undefined : HOME_DB);
    }
    this.aws.globalDatastores.set('ldgnf-mlp-tier1-cache', {
      id: 'ldgnf-mlp-tier1-cache',
      status: 'available',
      members: [
        { groupId: 'mlp-tier1-cache-use1', region: HOME, role: 'PRIMARY' },
        { groupId: 'mlp-tier1-cache-usw2', region: TARGET, role: 'SECONDARY' },
      ],
    });
    this.aws.onPromoted = (instance) => this.db.promote(instance.id);
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

  now = (): Date => new Date(T0 + this.aws.clock * 1000);

  env(region = TARGET): RunbookEnv {
    return {
      tier: 'tier1',
      region,
      regions: [HOME, TARGET],
      stateTable: STATE_TABLE,
      rpoSeconds: 60,
      rtoSeconds: 300,
      reportBucket: `mlp-tier1-artifacts-${ACCOUNT}-${region}`,
      reportTopicArn: `arn:aws:sns:${region}:${ACCOUNT}:reports`,
      databaseUser: 'mlp_dr',
      databaseName: 'mlp',
    };
  }

  deps(region = TARGET): RunbookDeps {
    return { env: this.env(region), clients: this.aws.asClients(), database: this.database ?? this.db, now: this.now };
  }

  /** `seconds` of heartbeats on the primary, one a second; the replica has everything but the last `lagSeconds`. */
  heartbeats(seconds: number, lagSeconds = 0, primary = HOME_DB): void {
    for (let i = 0; i < seconds; i++) {
      this.aws.advance(1);
      this.db.write(primary, 'platform', ++this.seq, this.now().toISOString());
      if (i === seconds - 1 - lagSeconds) this.db.replicate();
    }
    if (lagSeconds === 0) this.db.replicate();
  }

  /** Run a runbook as started in `region` (by default the target, us-west-2). */
  run(machine: string, input: unknown, options: Partial<Parameters<typeof runLocally>[2]> = {}, region = TARGET): Promise<LocalRunResult> {
    const stateMachine = this.machines[machine];
    if (!stateMachine) throw new Error(`no state machine ${machine}; have ${Object.keys(this.machines).join(', ')}`);
    return runLocally(stateMachine, input, {
      deps: this.deps(region),
      machines: this.machines,
      advance: (s) => this.aws.advance(s),
      ...options,
    });
  }

  /**
   * What `cdk deploy -c rebuiltReplicas=<region>:<source>` creates: the region's next database
   * generation, a replica of the source's current instance, published as the region's instance.
   */
  reprotect(region: string, source: string, sourceId: string): string {
    const code = CODES[region] as string;
    const id = `mlp-tier1-pg-${code}-g2`;
    const sourceArn = `arn:aws:rds:${source}:${ACCOUNT}:db:${sourceId}`;
    this.aws.instances.set(`${region}:${id}`, {
      id,
      region,
      arn: `arn:aws:rds:${region}:${ACCOUNT}:db:${id}`,
      status: 'available',
      source: sourceArn,
      multiAz: true,
      zone: `${region}a`,
      host: `${id}.local`,
      port: 5432,
    });
    this.aws.parameters.set(`${region}:/mlp/tier1/postgres/instance-id`, id);
    this.aws.parameters.set(`${region}:/mlp/tier1/postgres/source-arn`, sourceArn);
    this.db.add(id, sourceId);
    return id;
  }

  /** The order in which calls of these commands reached AWS. */
  order(...commands: string[]): string[] {
    return this.aws.calls.filter((c) => !c.error && commands.includes(c.command)).map((c) => `${c.command}@${c.region}`);
  }

  gate(region: string): boolean | undefined {
    return this.aws.tables.get(`${region}:${STATE_TABLE}`)?.get('gate')?.open?.BOOL;
  }

  restore(): void {
    this.aws.restore();
  }
}
