import pg from 'pg';
import { type PlatformConfig, resolvePlatformConfig, type TierName } from '../../lib/config';
import { runbookNames } from '../../lib/config/naming';
import { CLIENT_MAX_ATTEMPTS, CLIENT_TIMEOUTS } from '../core/clients';
import { HEARTBEAT_SQL } from '../core/database';
import { APPLICATION_ROLES } from '../core/database-bootstrap';
import { ERROR } from '../core/errors';
import { PRIMARY_WATCH, WRITE_LEASE } from '../definitions/catalogue';
import { awaitAutomaticStart } from '../local/automatic-start';
import { detectionLead, type LeadTime, writeGateTail } from '../local/detection';
import { MODELLED_SECONDS } from '../local/fake-aws';
import type { LocalRunResult, LocalStateMachine } from '../local/local-runbooks';
import { STEPS } from '../steps';
import { CLIENT_ROLE, DRILL_DATABASE, DRILL_USER } from './local-postgres';
import { type DrillWorld, HeartbeatWriter } from './world';

export const DRILL_SCENARIOS = [
  'region-loss',
  'planned-switchover',
  'lag-beyond-rpo',
  'crash-and-rerun',
  'throttling',
  'stuck-promotion',
  'zombie-primary',
  'fence-override',
  'concurrent-execution',
  'failback',
  'az-failover',
  'three-regions',
  'cache-failover-fails',
  'blackholed-region',
  'cache-zombie',
  'two-operators',
  'partition',
] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

export const REGION_FAILOVER = (tier: string) => runbookNames.stateMachine(tier, 'region-failover');
const FAILBACK = (tier: string) => runbookNames.stateMachine(tier, 'failback');
const AZ_FAILOVER = (tier: string) => runbookNames.stateMachine(tier, 'az-failover');

export interface Invariant {
  readonly name: string;
  readonly held: boolean;
  readonly detail: string;
}

/** What a scenario did, for the measurements and checks every scenario shares. */
export interface ScenarioOutcome {
  /** Wall and drill-clock time of the fault (or of the start of a planned runbook). */
  readonly faultAt: number;
  readonly virtualFaultAt: number;
  /** The region that took writes before, and the one expected to take them after (the same for an AZ failover). */
  readonly from: string;
  readonly to: string;
  /** The status the scenario's last execution must end with. */
  readonly expectedStatus: LocalRunResult['status'];
  readonly last: LocalRunResult;
  /** The regions that acknowledged writes, in order, when all goes well. */
  readonly expectedWriteOrder: readonly string[];
  /** The step whose end makes the new primary writable in the modelled AWS timeline, and what follows it (DNS). */
  readonly writableStep: string;
  readonly dnsTailSeconds: number;
  readonly objectives: { readonly rtoSeconds: number; readonly rpoSeconds: number };
  readonly planned: boolean;
  readonly override?: string;
  /** How many AWS calls the simulation had recorded at the fault: the calls after it are the recovery's. */
  readonly callsAtFault?: number;
  /** When an operator-started failover began on the drill clock (after the modelled detection); the fault's instant otherwise. */
  readonly virtualDecisionAt?: number;
  /** From the fault to the start as measured on the drill clock (an automatic start); absent: the operator's, modelled. */
  readonly detection?: readonly LeadTime[];
  /** The lost region, if one was lost: no call to it may have been needed. */
  readonly lostRegion?: string;
  readonly invariants: readonly Invariant[];
  readonly notes: readonly string[];
}

export interface ScenarioSpec {
  readonly summary: string;
  /** The layout it runs on unless `--tier`/`--regions` say otherwise. */
  readonly defaultLayout: { readonly tier: TierName; readonly regions?: readonly string[] };
  readonly minRegions: number;
  /**
   * The runbook state tables it needs (its regions, and a two-region tier's witness): a majority that
   * survives the loss of one.
   * @default none
   */
  readonly minStateTables?: number;
  /**
   * Runs on either database engine (RDS cross-region replicas, or an Aurora global database): a fault
   * or check that names an engine's resource or API names the one `world.config.databaseEngine` deploys.
   */
  run(world: DrillWorld): Promise<ScenarioOutcome>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The drilled layout runs an Aurora global database (else RDS cross-region read replicas). */
const onAurora = (world: DrillWorld): boolean => world.config.databaseEngine === 'aurora-postgresql-global';

/**
 * The call that makes the target writable, as the region failover's PromotePostgres makes it: RDS
 * `PromoteReadReplica`; Aurora `FailoverGlobalCluster` with `AllowDataLoss` (unplanned) or
 * `SwitchoverGlobalCluster` (planned).
 */
function promotionCommand(world: DrillWorld, planned = false): string {
  if (!onAurora(world)) return 'PromoteReadReplica';
  return planned ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster';
}

/** The promotion requests AWS accepted (of the engine's promotion call). */
const promotionsAccepted = (world: DrillWorld, planned = false) =>
  world.platform.aws.calls.filter((c) => c.command === promotionCommand(world, planned) && !c.error);

/** Aurora: a region's member cluster, as the simulated RDS holds it. */
function auroraCluster(world: DrillWorld, region: string) {
  const id = world.platform.databaseOf(region).instanceIdentifier;
  const cluster = world.platform.aws.dbClusters.get(`${region}:${id}`);
  if (!cluster) throw new Error(`no Aurora cluster ${id} in ${region}`);
  return cluster;
}

/** Aurora: the global database, as the simulated RDS holds it. */
function auroraGlobal(world: DrillWorld) {
  const id = auroraCluster(world, world.config.primaryRegion.name).globalClusterId;
  const global = id === undefined ? undefined : world.platform.aws.globalClusters.get(id);
  if (!global) throw new Error('the drilled layout has no Aurora global database');
  return global;
}

/** Aurora: how the global database lists a region's cluster now (absent: not a member, as an old writer awaiting its rejoin). */
function auroraMembership(world: DrillWorld, region: string) {
  const cluster = auroraCluster(world, region);
  return auroraGlobal(world).members.find((m) => m.clusterArn === cluster.arn);
}

/**
 * Aurora rebuilds a member that follows a new writer (the drill plays it by a new standby of the
 * writer's real server, started by the world): wait (up to `ms`) until the region's server has been
 * replaced and answers as a standby. Whether it was.
 */
async function awaitAuroraRebuild(world: DrillWorld, region: string, before: unknown, ms = 20_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) {
    if (world.postgres.server(region) === before) continue;
    const rows = await world.postgres.query<{ r: boolean }>(region, 'SELECT pg_is_in_recovery() AS r').catch(() => []);
    if (rows[0]?.r === true) return true;
  }
  return false;
}

/**
 * Aurora, after a switchover, or a failover whose old writer's region answers (Aurora rejoins it at
 * once): the old writer is a read-only secondary of the new one. Waits for the world's rebuild of its
 * server (`before`: the server it had), so nothing of it is still starting when the drill ends.
 */
async function oldWriterFollows(world: DrillWorld, roles: Roles, before: unknown): Promise<Invariant> {
  const rebuilt = await awaitAuroraRebuild(world, roles.primary, before);
  const oldWriter = auroraMembership(world, roles.primary);
  const newWriter = auroraMembership(world, roles.target);
  const readOnly = !(await world.isWritablePrimary(roles.primary));
  return {
    name: 'the old writer is a read-only secondary of the new writer',
    held: rebuilt && readOnly && oldWriter?.isWriter === false && newWriter?.isWriter === true,
    detail: `${roles.primary}: ${oldWriter ? `member, ${oldWriter.isWriter ? 'writer' : 'secondary'} (${oldWriter.synchronizationStatus})` : 'not a member'}, its server ${rebuilt ? 'rebuilt as a standby' : 'not rebuilt'}, ${readOnly ? 'read-only' : 'WRITABLE'}; ${roles.target}: ${newWriter?.isWriter ? 'writer' : 'not the writer'}`,
  };
}

/**
 * The task states of a successful unplanned RegionFailover, where `crash-and-rerun` crashes: every
 * task of the definition but the failure paths' and the planned mode's wait for catch-up.
 */
export function unplannedPath(machine: LocalStateMachine): string[] {
  return Object.keys(machine.tasks).filter((state) => !/^(Report(?!Success)|ReleaseLockAfter|CheckCaughtUp$)/.test(state));
}

interface Roles {
  readonly primary: string;
  readonly target: string;
  readonly others: readonly string[];
}

function rolesOf(world: DrillWorld, targetIndex = 0): Roles {
  const primary = world.config.primaryRegion.name;
  const secondaries = world.regions.filter((r) => r !== primary);
  const target = secondaries[targetIndex] as string;
  return { primary, target, others: secondaries.filter((r) => r !== target) };
}

/** Writers on, and a second or two of heartbeats acknowledged by the primary. */
async function warmUp(world: DrillWorld): Promise<void> {
  world.startWriters();
  await sleep(world.options.warmUpMs);
  world.log(`heartbeat writer: ${world.pgWriter.acks.length} writes acknowledged by ${world.writeRegion()}, one every 100 ms`);
  // The gate keepers' last pass before the fault: the primary's write lease renewed in every state table.
  await world.gateKeeperPass();
}

/** How the unplanned failover after a fault starts: the runbook's input and region, when, and what came before. */
interface Decision {
  readonly virtualDecisionAt: number;
  readonly start: { readonly input: Record<string, unknown>; readonly region: string };
  /** Measured on the drill clock (an automatic start); the operator's path is modelled from the config instead. */
  readonly detection?: readonly LeadTime[];
}

/**
 * The start of the unplanned failover to `roles.target` after a fault. In a tier that starts failovers
 * automatically, the drill clock runs on with every live region's watchdog, the gate keepers and the
 * synthesized alarms until the EventBridge rule on the successor's primary-lost alarm fires, and the
 * execution starts with the rule's input where the rule is. Otherwise the operator's modelled
 * detection and decision (the tier's `recovery.regionFailoverStart`, from the synthesized health check
 * and alarm) pass on the drill clock, the gate keepers running through them.
 */
async function awaitDecision(world: DrillWorld, roles: Roles): Promise<Decision> {
  const operatorInput = { mode: 'unplanned', targetRegion: roles.target };
  // The automation starts the failover in the primary's successor; an operator who takes another
  // target disables its rule first (the kill switch) and decides as in a tier without it.
  const successor = world.regions.find((r) => r !== roles.primary);
  if (world.config.tier.recovery.regionFailoverStart.kind === 'automatic' && roles.target === successor) {
    const from = world.platform.now().getTime();
    const started = await awaitAutomaticStart(world.platform, {
      live: (region) => !world.lost.has(region),
      between: () => world.keepersIfDue(),
      maxSeconds: 600,
    });
    if (!started) throw new Error('no automatic start within 600 s of the fault: the primary-lost alarm never fired');
    const alarmed = (started.alarmedAt.getTime() - from) / 1000;
    const delivered = (started.startedAt.getTime() - started.alarmedAt.getTime()) / 1000;
    world.log(`automatic start: ${started.ruleName} fired ${alarmed} s after the fault; RegionFailover starts in ${started.region}`);
    return {
      virtualDecisionAt: started.startedAt.getTime(),
      start: { input: started.input as Record<string, unknown>, region: started.region },
      detection: [
        {
          what: `${roles.primary}'s lease goes stale in a majority of the state tables and its write gate stops answering; ${started.region}'s watchdog (every ${PRIMARY_WATCH.intervalSeconds} s) publishes it, its alarms (${PRIMARY_WATCH.intervalSeconds}-second periods) and their composite go to ALARM, and ${started.ruleName} matches`,
          seconds: alarmed,
          source:
            'drill clock: the watchdog, the alarms, their composite and the rule as synthesized (WatchPrimary; CloudWatch user guide, "High-resolution alarms")',
        },
        {
          what: 'EventBridge delivers the event and Step Functions starts the execution',
          seconds: delivered,
          source: MODELLED_SECONDS.eventBridgeDelivery.source,
        },
      ],
    };
  }
  if (world.config.tier.recovery.regionFailoverStart.kind === 'automatic') {
    world.log(`the operator disables the automatic start in ${successor} and fails over to ${roles.target} instead`);
  }
  const lead = detectionLead(world.platform.assembly, world.config).reduce((sum, d) => sum + d.seconds, 0);
  await world.pass(lead);
  world.log(`the decision: ${lead} s of modelled detection and start after the fault, the failover starts`);
  return { virtualDecisionAt: world.platform.now().getTime(), start: { input: operatorInput, region: roles.target } };
}

function markFault(world: DrillWorld): { faultAt: number; virtualFaultAt: number; callsAtFault: number } {
  return { faultAt: Date.now(), virtualFaultAt: world.platform.now().getTime(), callsAtFault: world.platform.aws.calls.length };
}

/** Marks the fault, inflicts it on the primary, and awaits the start of the unplanned failover it calls for. */
async function faultAndDecision(
  world: DrillWorld,
  roles: Roles,
  inflict: () => void | Promise<void>,
  what: string,
): Promise<ReturnType<typeof markFault> & Decision> {
  const fault = markFault(world);
  await inflict();
  world.log(`fault: ${what}`);
  return { ...fault, ...(await awaitDecision(world, roles)) };
}

type RunOptions = Parameters<DrillWorld['run']>[3];

/** An unplanned RegionFailover to `target`, started there as an operator starts it. */
const failOverTo = (world: DrillWorld, target: string, options?: RunOptions) =>
  world.run(REGION_FAILOVER(world.platform.tier), { mode: 'unplanned', targetRegion: target }, target, options);

/** A planned RegionFailover to `roles.target`, from the mark of its start; with the old writer's server before it, for `oldWriterFollows`. */
async function switchOver(world: DrillWorld, roles: Roles) {
  const fault = markFault(world);
  const serverBefore = world.postgres.server(roles.primary);
  const last = await world.run(REGION_FAILOVER(world.platform.tier), { mode: 'planned', targetRegion: roles.target }, roles.target);
  return { fault, serverBefore, last };
}

/** A `beforeTask` that holds `executions` executions at AcquireLock until all have reached it, so they reach for the lock together. */
function togetherAtTheLock(executions: number): NonNullable<RunOptions>['beforeTask'] {
  let arrived = 0;
  let release: () => void = () => undefined;
  const together = new Promise<void>((resolve) => {
    release = resolve;
  });
  return (state) => {
    if (state !== 'AcquireLock') return undefined;
    if (++arrived === executions) release();
    return together;
  };
}

/** RefreshGate in `region`, as its schedule runs it. */
const refreshGate = (world: DrillWorld, region: string) =>
  STEPS.RefreshGate({ state: {}, execution: { id: 'schedule', startTime: '' } } as never, world.platform.deps(region, 'RefreshGate'));

const regionObjectives = (config: PlatformConfig) => config.tier.recovery.region;

function base(world: DrillWorld, roles: Roles, planned: boolean) {
  return {
    from: roles.primary,
    to: roles.target,
    expectedStatus: 'SUCCEEDED' as const,
    expectedWriteOrder: [roles.primary, roles.target],
    writableStep: 'VerifyWrites',
    dnsTailSeconds: writeGateTail(world.platform.assembly, world.config, roles.target).reduce((sum, part) => sum + part.seconds, 0),
    objectives: regionObjectives(world.config),
    planned,
    invariants: [] as Invariant[],
    notes: [] as string[],
  };
}

/**
 * A client that keeps writing to one region's database whatever the gates say (a stale DNS cache,
 * a pinned connection): a fresh connection for every write, so a fence that ends sessions cannot
 * simply lose it.
 */
function pinnedClient(world: DrillWorld, region: string): HeartbeatWriter {
  return pinnedWriter(world, region, {
    open: async () => undefined,
    write: (_region, seq, writtenAt) =>
      world.postgres
        .query(
          region,
          'INSERT INTO mlp_dr.heartbeat (writer, seq, written_at, region) VALUES ($1, $2, $3, $4)',
          ['pinned', seq, writtenAt, region],
          { user: CLIENT_ROLE },
        )
        .then(() => undefined),
    close: async () => undefined,
  });
}

/** Heartbeats to `region` through `sink` on the drill clock, whatever the gates say, every 100 ms from now on. */
function pinnedWriter(world: DrillWorld, region: string, sink: ConstructorParameters<typeof HeartbeatWriter>[0]): HeartbeatWriter {
  return new HeartbeatWriter(
    sink,
    () => region,
    () => world.platform.now(),
  ).start();
}

/** A second database of the platform's, where the override client also tries to write. */
const SECOND_DATABASE = 'mlp_tracking';

/** A session of the drill's client role on one database of one region's server. */
async function clientSession(world: DrillWorld, region: string, database = DRILL_DATABASE): Promise<pg.Client> {
  const client = new pg.Client({
    ...world.postgres.clientConfig(region, { user: CLIENT_ROLE, database }),
    connectionTimeoutMillis: 1_000,
    query_timeout: 2_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * What a client pinned to a fenced primary tries, in its sessions opened before the fence and in
 * new ones: read-only off for its session, a READ WRITE transaction, a new connection, a write in
 * another database. Returns each attempt and whether the server accepted the write.
 */
async function overrideAttempts(
  world: DrillWorld,
  region: string,
  sessions: { main: pg.Client; second: pg.Client },
): Promise<{ attempt: string; accepted: boolean; error?: string }[]> {
  const insert = (client: pg.Client, seq: number) =>
    client.query(HEARTBEAT_SQL.insert, ['override', seq, world.platform.now().toISOString(), region]).then(() => undefined);
  const fresh = async (database: string, work: (client: pg.Client) => Promise<void>) => {
    const client = await clientSession(world, region, database);
    try {
      await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const attempts: [string, () => Promise<void>][] = [
    [
      'SET default_transaction_read_only = off in the session opened before the fence',
      async () => {
        await sessions.main.query('SET default_transaction_read_only = off');
        await insert(sessions.main, 1);
      },
    ],
    [
      'a write in the second database’s session opened before the fence',
      () => sessions.second.query('INSERT INTO runs (id) VALUES (1)').then(() => undefined),
    ],
    [
      'BEGIN READ WRITE in a new connection',
      () =>
        fresh(DRILL_DATABASE, async (client) => {
          await client.query('BEGIN READ WRITE');
          await insert(client, 2);
          await client.query('COMMIT');
        }),
    ],
    [
      'SET default_transaction_read_only = off in a new connection',
      () =>
        fresh(DRILL_DATABASE, async (client) => {
          await client.query('SET default_transaction_read_only = off');
          await insert(client, 3);
        }),
    ],
    [
      'a new connection to the second database',
      () => fresh(SECOND_DATABASE, (client) => client.query('INSERT INTO runs (id) VALUES (2)').then(() => undefined)),
    ],
  ];
  const results: { attempt: string; accepted: boolean; error?: string }[] = [];
  for (const [attempt, work] of attempts) {
    try {
      await work();
      results.push({ attempt, accepted: true });
    } catch (error) {
      results.push({ attempt, accepted: false, error: (error as Error).message });
    }
  }
  return results;
}

/** A client of the platform pinned to one region's cache, authenticated as its application user, writing every 100 ms. */
function pinnedCacheClient(world: DrillWorld, region: string): HeartbeatWriter {
  const cache = world.cache;
  if (!cache) throw new Error('this scenario needs a real cache server (redis-server or valkey-server)');
  const client = cache.client(region, world.cacheUser);
  return pinnedWriter(world, region, {
    open: () => client.connect(),
    write: async (_region, seq) => {
      await client.rpush('mlp:dr:pinned', seq);
    },
    close: async () => {
      client.disconnect();
    },
  });
}

/**
 * The zombie scenarios: writers warmed up, replication to the target cut while a client pinned to the
 * old primary (`startZombie`) keeps writing to it, then an unplanned RegionFailover to the target. The
 * zombie is stopped half a second after the run, so it has tried to write past the fence. Returns the
 * outcome so far, what the zombie got written around the fence, and on Aurora whether the old writer
 * follows the new one.
 */
async function failOverPastZombie(
  world: DrillWorld,
  roles: Roles,
  startZombie: (world: DrillWorld, region: string) => HeartbeatWriter,
  whatItDoes: string,
) {
  await warmUp(world);
  await world.postgres.cutReplication(roles.target);
  const zombie = startZombie(world, roles.primary);
  await sleep(1_000);
  world.log(`fault: replication from ${roles.primary} cut; ${whatItDoes}`);
  const fault = markFault(world);
  const serverBefore = world.postgres.server(roles.primary);
  let fencedAt: number | undefined;
  const last = await failOverTo(world, roles.target, {
    onTask: (task) => {
      if (task.state === 'FenceSource' && task.outcome === 'succeeded') fencedAt = Date.now();
    },
  });
  await sleep(500);
  await zombie.stop();
  // Aurora: its region answering, the old writer is rejoined as a secondary as soon as the failover completes.
  const follows = onAurora(world) ? [await oldWriterFollows(world, roles, serverBefore)] : [];
  // A write sent once the fence step had finished must be refused (one in flight during it may still land).
  const afterFence = zombie.acks.filter((a) => fencedAt !== undefined && a.sentAt > fencedAt).length;
  return {
    outcome: { ...base(world, roles, false), ...fault, last },
    zombie: {
      acked: zombie.acks.length,
      afterFence,
      fenced: fencedAt !== undefined,
      detail: `${zombie.acks.length} write(s) acknowledged by ${roles.primary}, ${afterFence} sent after the fence${fencedAt === undefined ? ' (the fence step never succeeded)' : ''}`,
    },
    follows,
  };
}

/** Writers warmed up, then the primary region lost: its servers frozen mid-write, its AWS endpoints unreachable. */
async function loseThePrimary(
  world: DrillWorld,
  roles: Roles,
  also = '',
): Promise<{ faultAt: number; virtualFaultAt: number; callsAtFault: number } & Decision> {
  await warmUp(world);
  return faultAndDecision(
    world,
    roles,
    () => world.loseRegion(roles.primary),
    `${roles.primary} lost (its servers frozen mid-write, its AWS endpoints unreachable)${also}`,
  );
}

/** The unplanned loss of the primary region and an unplanned RegionFailover to `target`. */
async function regionLoss(world: DrillWorld, roles: Roles): Promise<ScenarioOutcome> {
  const { start, ...fault } = await loseThePrimary(world, roles);
  const last = await world.run(REGION_FAILOVER(world.platform.tier), start.input, start.region);
  return { ...base(world, roles, false), ...fault, last, lostRegion: roles.primary };
}

/** Re-protect `region` from `source`, as `cdk deploy -c primaryRegion=<source> -c rebuiltReplicas=<region>:<source>` does. */
async function reprotect(world: DrillWorld, region: string, source: string): Promise<string> {
  const config = resolvePlatformConfig({
    tier: world.platform.tier,
    regions: world.regions.join(','),
    primaryRegion: source,
    rebuiltReplicas: `${region}:${source}`,
    account: world.config.account,
    // The deployment's own choices carry over: the re-protection changes the lineage only.
    databaseEngine: world.config.databaseEngine,
    kafkaReplicationMode: world.config.kafkaReplicationMode,
    witnessRegion: world.config.witnessRegion?.name ?? 'none',
  }).config;
  const rebuilt = config.databases[region]?.current;
  if (!rebuilt?.createdFrom || rebuilt.createdFrom.region !== source)
    throw new Error(`the topology gives ${region} no replica of ${source}`);
  await world.postgres.rebuild(region, rebuilt.instanceIdentifier, source);
  const created = world.platform.redeploy(region, world.synthesize(config));
  if (!created.includes(rebuilt.instanceIdentifier))
    throw new Error(`the deploy created ${created.join(', ') || 'nothing'} in ${region}, not ${rebuilt.instanceIdentifier}`);
  world.platform.setEndpoint(rebuilt.instanceIdentifier, '127.0.0.1', world.postgres.server(region).port);
  world.log(`re-protected: ${rebuilt.instanceIdentifier} created in ${region} as a replica of ${rebuilt.createdFrom.instanceIdentifier}`);
  return rebuilt.instanceIdentifier;
}

/** The regions whose PostgreSQL takes a write now. */
async function writableRegions(world: DrillWorld): Promise<string[]> {
  const live = world.regions.filter((r) => !world.lost.has(r));
  const accepts = await Promise.all(live.map((r) => world.acceptsWrites(r)));
  return live.filter((_, i) => accepts[i]);
}

export const SCENARIOS: Readonly<Record<DrillScenario, ScenarioSpec>> = {
  'region-loss': {
    summary: 'The primary region is lost mid-write; an unplanned RegionFailover promotes the first secondary.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    run: (world) => regionLoss(world, rolesOf(world)),
  },

  'planned-switchover': {
    summary: 'Both regions healthy; a planned RegionFailover fences the primary, waits until the replica caught up, then promotes it.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      await warmUp(world);
      const { fault, serverBefore, last } = await switchOver(world, roles);
      // Aurora: the switchover "demotes the current primary cluster to a secondary (read-only) cluster" (RDS API Reference,
      // SwitchoverGlobalCluster).
      const invariants = onAurora(world) ? [await oldWriterFollows(world, roles, serverBefore)] : [];
      return { ...base(world, roles, true), ...fault, last, invariants };
    },
  },

  'lag-beyond-rpo': {
    summary:
      'Replication to the secondary stalls for 75 s (past the 60 s RPO) before the primary region is lost: the runbook refuses, then proceeds with an override and reports the loss.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      await warmUp(world);
      await world.postgres.cutReplication(roles.target);
      await sleep(500);
      const stalledSeconds = regionObjectives(world.config).rpoSeconds + 15;
      await world.pass(stalledSeconds);
      world.log(
        `replication to ${roles.target} stalled; ${stalledSeconds} s pass (the drill's clock jumps) while ${roles.primary} keeps writing`,
      );
      // What RDS publishes for the stalled replica: the time since its last replayed commit. Aurora publishes
      // AuroraGlobalDBRPOLag for a secondary, in milliseconds, in the secondary's region, per DBClusterIdentifier
      // (Aurora User Guide, "Cluster-level metrics for Amazon Aurora"; what Preflight reads on Aurora).
      const replica = world.platform.databaseOf(roles.target).instanceIdentifier;
      const lag: { metric: string; dimensions: Record<string, string>; value: number } = onAurora(world)
        ? { metric: 'AuroraGlobalDBRPOLag', dimensions: { DBClusterIdentifier: replica }, value: stalledSeconds * 1000 }
        : { metric: 'ReplicaLag', dimensions: { DBInstanceIdentifier: replica }, value: stalledSeconds };
      world.platform.aws.publish(roles.target, 'AWS/RDS', lag.metric, lag.dimensions, lag.value);
      await sleep(500);
      const { start, ...fault } = await faultAndDecision(world, roles, () => world.loseRegion(roles.primary), `${roles.primary} lost`);
      const machine = REGION_FAILOVER(world.platform.tier);
      const refused = await world.run(machine, start.input, start.region);
      // Refused with nothing changed: no promotion asked for before the execution with the override.
      const promotedBeforeOverride = promotionsAccepted(world).length;
      const override = 'drill lag-beyond-rpo: the primary region is gone; accepting the reported loss';
      const last = await world.run(
        machine,
        { mode: 'unplanned', targetRegion: roles.target, override: { reason: override } },
        roles.target,
      );
      return {
        ...base(world, roles, false),
        ...fault,
        last,
        override,
        lostRegion: roles.primary,
        invariants: [
          {
            name: `a failover past the RPO is refused without an override, on the heartbeat and on the ${lag.metric} CloudWatch holds`,
            held:
              refused.status === 'FAILED' &&
              /replication lag .* exceeds the RPO objective/.test(refused.cause ?? '') &&
              new RegExp(`CloudWatch reports ${lag.metric} ${stalledSeconds} s`).test(refused.cause ?? '') &&
              promotedBeforeOverride === 0,
            detail:
              `first execution ${refused.status}, ${promotionCommand(world)} accepted ${promotedBeforeOverride} time(s) before the override: ${refused.cause ?? ''}`.slice(
                0,
                360,
              ),
          },
        ],
      };
    },
  },

  'crash-and-rerun': {
    summary:
      'The primary region is lost; each execution of RegionFailover dies at the next step of the failover (Preflight to ReportSuccess), and a new one is started each time until one completes.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const fault = await loseThePrimary(world, roles);
      const machine = REGION_FAILOVER(world.platform.tier);
      const crashPoints = unplannedPath(world.platform.machines[roles.target]?.[machine] as LocalStateMachine);
      const crashed: string[] = [];
      for (const crashAt of crashPoints) {
        let reached = false;
        const result = await failOverTo(world, roles.target, {
          beforeTask: (state) => {
            if (state !== crashAt || reached) return undefined;
            reached = true;
            return 'crash';
          },
        });
        if (result.status === 'ABORTED' && reached) crashed.push(crashAt);
        world.log(`execution died at ${crashAt}`);
      }
      const last = await failOverTo(world, roles.target);
      // One promotion request in all: RDS PromoteReadReplica, or Aurora FailoverGlobalCluster (a second one while the
      // first is under way would be refused with InvalidGlobalClusterStateFault).
      const promotions = promotionsAccepted(world).length;
      return {
        ...base(world, roles, false),
        ...fault,
        last,
        lostRegion: roles.primary,
        invariants: [
          {
            name: 're-running after a crash at each step converges, with no step done twice harmfully',
            held: crashed.length === crashPoints.length && last.status === 'SUCCEEDED' && promotions === 1,
            detail: `crashed at ${crashed.length} of ${crashPoints.length} steps (${crashed.join(', ')}); the last execution ${last.status}; ${promotionCommand(world)} accepted ${promotions} time(s)`,
          },
        ],
        notes: [
          `The modelled RTO includes ${crashPoints.length} dead executions, each restarted at once; in AWS each restart waits for an operator or an alarm.`,
        ],
      };
    },
  },

  throttling: {
    summary:
      'The primary region is lost and the control plane throttles the calls the failover makes most; retries with backoff absorb it.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const aws = world.platform.aws;
      // The database calls the failover makes most, and its promotion: RDS DescribeDBInstances and PromoteReadReplica;
      // Aurora DescribeDBClusters and DescribeGlobalClusters (every look at a member) and FailoverGlobalCluster.
      const database: [string, number][] = onAurora(world)
        ? [
            ['DescribeDBClusters', 3],
            ['DescribeGlobalClusters', 2],
            ['FailoverGlobalCluster', 2],
          ]
        : [
            ['DescribeDBInstances', 3],
            ['PromoteReadReplica', 2],
          ];
      for (const [command, times] of [...database, ['GetParameter', 3], ['PutItem', 2], ['PutMetricData', 2]] as const) {
        aws.throttle(command, times);
      }
      const outcome = await regionLoss(world, roles);
      const throttled = aws.calls.filter((c) => c.error === 'ThrottlingException');
      const commands = [...new Set(throttled.map((c) => c.command))];
      const recovered = commands.every((command) => aws.calls.some((c) => c.command === command && !c.error));
      return {
        ...outcome,
        invariants: [
          {
            name: 'throttled calls were retried until they succeeded',
            held: throttled.length > 0 && recovered && outcome.last.status === 'SUCCEEDED',
            detail: `${throttled.length} throttled call(s) of ${commands.join(', ')}; each command succeeded afterwards: ${recovered}`,
          },
        ],
      };
    },
  },

  'stuck-promotion': {
    summary:
      'The primary region is lost and the replica promotion never completes: the runbook gives up after its polling budget with the write gate closed, and alerts.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const aws = world.platform.aws;
      let stuck: () => Invariant[] = () => [];
      if (onAurora(world)) {
        // Aurora: the global database's failover (FailoverGlobalCluster, AllowDataLoss) never completes: its FailoverState
        // stays failing-over toward the target, and the target cluster never becomes the writer.
        const global = auroraGlobal(world);
        const target = auroraCluster(world, roles.target);
        aws.stuckGlobalFailovers.add(global.id);
        // A stuck operation never reaches the data plane: the target's real server stays a standby (the world promotes
        // it when an operation is asked for, as it does an RDS replica unless its promotion is stuck).
        const requested = aws.onGlobalPromotionRequested;
        aws.onGlobalPromotionRequested = (cluster) => (aws.stuckGlobalFailovers.has(global.id) ? undefined : requested(cluster));
        stuck = () => {
          const state = global.failoverState;
          const writer = global.members.find((m) => m.isWriter);
          return [
            {
              name: 'the global database’s failover stayed under way toward the target, which never became the writer',
              held:
                promotionsAccepted(world).length === 1 &&
                state?.status === 'failing-over' &&
                state.toDbClusterArn === target.arn &&
                state.isDataLossAllowed &&
                writer?.clusterArn !== target.arn,
              detail: `FailoverGlobalCluster accepted ${promotionsAccepted(world).length} time(s); ${global.id} is ${global.status}, FailoverState ${state ? `${state.status} toward ${state.toDbClusterArn}` : 'empty'}; writer ${writer?.clusterArn ?? 'none'}`,
            },
          ];
        };
      } else {
        aws.stuckPromotions.add(world.platform.databaseOf(roles.target).instanceIdentifier);
      }
      const outcome = await regionLoss(world, roles);
      const opened = aws.metrics.some((m) => m.name === 'WriteGateOpen' && m.region === roles.target && m.value === 1);
      const alerts = aws.notifications.filter((n) => n.region === roles.target && /FAILED|failed/.test(`${n.subject} ${n.message}`));
      return {
        ...outcome,
        expectedStatus: 'FAILED',
        expectedWriteOrder: [roles.primary],
        invariants: [
          {
            name: 'the gate stayed closed while the promotion was stuck',
            held: !opened && world.platform.gate(roles.target) !== true,
            detail: `gate of ${roles.target}: ${world.platform.gate(roles.target) === true ? 'open' : 'closed'}; WriteGateOpen=1 published: ${opened}`,
          },
          {
            name: 'the failure was reported to the operators',
            held: alerts.length > 0,
            detail: alerts.map((a) => a.subject).join('; ') || 'no notification',
          },
          ...stuck(),
        ],
        notes: ['With the gate closed, the write-gate alarm stays in alarm: the page that makes an operator look.'],
      };
    },
  },

  'zombie-primary': {
    summary:
      'Replication is cut while the old primary keeps serving and a client keeps writing to it directly; the runbook fences it through its database agent before promoting.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const { outcome, zombie, follows } = await failOverPastZombie(
        world,
        roles,
        pinnedClient,
        `${roles.primary} keeps taking writes, and a client keeps writing to it directly`,
      );
      return {
        ...outcome,
        invariants: [
          {
            name: 'no split brain: after the fence the old primary acknowledged no write',
            held: zombie.fenced && zombie.afterFence === 0,
            detail: `the pinned client had ${zombie.detail}`,
          },
          ...follows,
        ],
      };
    },
  },

  'fence-override': {
    summary:
      'A planned RegionFailover fences the old primary while a client pinned to it holds sessions in two databases; after the fence it tries read-only off, BEGIN READ WRITE, new connections and the second database: no write is accepted.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      // The client's table in the second database, created before the fence, replicated with the rest.
      const setup = await clientSession(world, roles.primary, SECOND_DATABASE);
      await setup.query('CREATE TABLE IF NOT EXISTS runs (id int)');
      await setup.end();
      await warmUp(world);
      const sessions = {
        main: await clientSession(world, roles.primary),
        second: await clientSession(world, roles.primary, SECOND_DATABASE),
      };
      world.log(`a client pinned to ${roles.primary} holds sessions in ${DRILL_DATABASE} and ${SECOND_DATABASE}`);
      const { fault, serverBefore, last } = await switchOver(world, roles);
      const attempts = await overrideAttempts(world, roles.primary, sessions);
      await Promise.all([sessions.main.end().catch(() => undefined), sessions.second.end().catch(() => undefined)]);
      for (const a of attempts) world.log(`  override: ${a.attempt}: ${a.accepted ? 'ACCEPTED' : `refused (${a.error})`}`);
      const accepted = attempts.filter((a) => a.accepted);
      // Aurora: the switchover made the old writer a secondary of the new one, its volume a copy of the new writer's
      // (the world rebuilds its real server as a standby): wait for it, then count override rows on both.
      const follows = onAurora(world) ? await oldWriterFollows(world, roles, serverBefore) : undefined;
      const overrideRows = async (region: string) =>
        (
          await world.postgres.query<{ n: number }>(
            region,
            "SELECT count(*)::int AS n FROM mlp_dr.heartbeat WHERE writer = 'override'",
            [],
            { user: DRILL_USER },
          )
        )[0]?.n;
      const rowsIn = onAurora(world) ? [roles.primary, roles.target] : [roles.primary];
      let written: number | undefined = 0;
      for (const region of rowsIn) {
        const n = await overrideRows(region);
        written = n === undefined || written === undefined ? undefined : written + n;
      }
      const loginable = await world.postgres.query<{ rolname: string }>(
        roles.primary,
        'SELECT rolname FROM pg_roles WHERE rolname = ANY($1) AND rolcanlogin',
        [[...APPLICATION_ROLES]],
      );
      return {
        ...base(world, roles, true),
        ...fault,
        last,
        invariants: [
          {
            name: 'no override attempt wrote on the fenced old primary',
            held: last.status === 'SUCCEEDED' && accepted.length === 0 && written === 0,
            detail: `${attempts.length} attempt(s), ${accepted.length} accepted${accepted.length ? `: ${accepted.map((a) => a.attempt).join('; ')}` : ''}; ${written ?? '?'} override row(s) on ${rowsIn.join(' and ')}`,
          },
          {
            name: 'the sessions opened before the fence were ended',
            held: attempts.slice(0, 2).every((a) => !a.accepted && /terminat|Connection terminated|not queryable/i.test(a.error ?? '')),
            detail: attempts
              .slice(0, 2)
              .map((a) => `${a.attempt}: ${a.error ?? 'accepted'}`)
              .join('; '),
          },
          follows
            ? // Aurora: the fence made the old writer's roles NOLOGIN before the switchover; the switchover then made it a
              // secondary of the new writer ("demotes the current primary cluster to a secondary (read-only) cluster", RDS API
              // Reference, SwitchoverGlobalCluster), its roles those the new writer's OpenGate unfenced: read-only storage is
              // what keeps the pinned client out from then on.
              follows
            : {
                name: 'every application role of the old primary is NOLOGIN',
                held: loginable.length === 0,
                detail: loginable.length
                  ? `still LOGIN: ${loginable.map((r) => r.rolname).join(', ')}`
                  : `${APPLICATION_ROLES.length} role(s) NOLOGIN`,
              },
        ],
      };
    },
  },

  'cache-zombie': {
    summary:
      'The old primary region keeps serving, its control plane answering, while a client keeps writing to its cache; the unplanned failover fences that cache through ElastiCache (ModifyUser), so the client writes nothing after the fence.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const { outcome, zombie, follows } = await failOverPastZombie(
        world,
        roles,
        pinnedCacheClient,
        'a client keeps writing to its cache, authenticated as the application user',
      );
      const attempts =
        (outcome.last.output as { fence?: { attempts?: { what: string; ok: boolean; detail: string }[] } } | undefined)?.fence?.attempts ??
        [];
      const cacheFence = attempts.find((a) => a.what.startsWith('fence the cache'));
      return {
        ...outcome,
        invariants: [
          {
            name: 'the old primary’s cache was fenced, and the report says so',
            held: cacheFence?.ok === true,
            detail: cacheFence ? `${cacheFence.what}: ${cacheFence.detail}` : 'FenceSource made no cache fence attempt',
          },
          {
            name: 'no cache write acknowledged by the old primary after the fence',
            held: zombie.acked > 0 && zombie.fenced && zombie.afterFence === 0,
            detail: `the pinned cache client had ${zombie.detail}`,
          },
          ...follows,
        ],
      };
    },
  },

  'concurrent-execution': {
    summary:
      'The primary region is lost and two operators start RegionFailover at the same moment: one runs, the other is refused by the lock.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const fault = await loseThePrimary(world, roles, '; two executions start at once');
      const machine = REGION_FAILOVER(world.platform.tier);
      const arns = ['first', 'second'].map((name) => `arn:aws:states:${roles.target}:111122223333:execution:${machine}:${name}`);
      for (const arn of arns) world.platform.aws.runningExecutions.add(arn);
      // Both pass preflight at the same moment and reach for the lock together.
      const beforeTask = togetherAtTheLock(arns.length);
      const results = await Promise.all(
        arns.map((executionArn) =>
          failOverTo(world, roles.target, { executionArn, beforeTask }).finally(() =>
            world.platform.aws.runningExecutions.delete(executionArn),
          ),
        ),
      );
      const succeeded = results.filter((r) => r.status === 'SUCCEEDED');
      const refused = results.filter((r) => r.status === 'FAILED' && r.error === ERROR.lockHeld);
      const promotions = promotionsAccepted(world).length;
      return {
        ...base(world, roles, false),
        ...fault,
        last: succeeded[0] ?? (results[0] as LocalRunResult),
        lostRegion: roles.primary,
        invariants: [
          {
            name: 'a second execution started while one runs is refused',
            held: succeeded.length === 1 && refused.length === 1 && promotions === 1,
            detail: `${results.map((r) => `${r.status}${r.error ? ` (${r.error})` : ''}`).join(', ')}; ${promotionCommand(world)} accepted ${promotions} time(s)`,
          },
        ],
      };
    },
  },

  failback: {
    summary:
      'After a region loss and failover, the old region comes back: its gate closes itself, it is re-protected (RDS: a new replica generation, deployed; Aurora rejoins it as a secondary and rebuilds its volume), and Failback returns the primary to it with a planned switchover.',
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      const tier = world.platform.tier;
      const first = await regionLoss(world, roles);
      await world.waitForWriteIn(roles.target, first.faultAt);
      // The old region comes back as it was: its server writable, its gate still recorded open.
      const serverBefore = world.postgres.server(roles.primary);
      world.restoreRegion(roles.primary);
      world.log(`${roles.primary} is back: its old primary answers again and its gate record still says open`);
      const pinned = pinnedClient(world, roles.primary);
      await sleep(500);
      const refresh = await refreshGate(world, roles.primary);
      const fencedAt = Date.now();
      world.log(`RefreshGate in ${roles.primary}: ${JSON.stringify(refresh)}`);
      const closedItself = world.platform.gate(roles.primary) === false;
      await sleep(500);
      await pinned.stop();
      const pinnedAfter = pinned.acks.filter((a) => a.sentAt > fencedAt);
      const notes: string[] = [];
      let rejoined: Invariant | undefined;
      if (onAurora(world)) {
        // Aurora re-protects by itself: once the old writer's region is healthy it adds its cluster back as a secondary of
        // the new writer (a snapshot of the old volume first), and rebuilds its volume (pending-resync) before it can be
        // switched over to. No deploy; the rebuild's modelled time passes on the drill clock, the gate keepers running.
        const member = auroraMembership(world, roles.primary);
        const snapshot = world.platform.aws.clusterSnapshots.find((c) => c.region === roles.primary);
        const rebuilt = await awaitAuroraRebuild(world, roles.primary, serverBefore);
        rejoined = {
          name: 'Aurora rejoined the former writer as a secondary of the new one, after a snapshot of its old volume',
          held:
            member?.isWriter === false &&
            snapshot !== undefined &&
            rebuilt &&
            /secondary of .* again \(read-only\)/.test(refresh.fenced ?? ''),
          detail: `${roles.primary}: ${member ? `secondary (${member.synchronizationStatus})` : 'not a member'}; snapshot ${snapshot?.id ?? 'none'}; its server ${rebuilt ? 'rebuilt as a standby' : 'not rebuilt'}; RefreshGate: ${refresh.fenced ?? 'no fence'}`,
        };
        await world.pass(MODELLED_SECONDS.auroraGlobalRebuild.seconds);
        notes.push(
          `Aurora re-protected ${roles.primary} by itself (no deploy): rejoined as a secondary, its volume rebuilt in the modelled ${MODELLED_SECONDS.auroraGlobalRebuild.seconds} s, which passed on the drill clock before Failback started.`,
          `The ${pinned.acks.length - pinnedAfter.length} write(s) the pinned client made on the returning writer before Aurora rejoined it are in the snapshot ${snapshot?.id ?? '(none)'}, not in the global database.`,
        );
      } else {
        await reprotect(world, roles.primary, roles.target);
      }
      await world.cache?.follow(roles.primary, roles.target);
      await sleep(500);
      const fault = markFault(world);
      const last = await world.run(FAILBACK(tier), { formerPrimary: roles.primary }, roles.primary);
      const home = onAurora(world) ? promotionsAccepted(world, true).filter((c) => c.region === roles.primary) : [];
      return {
        ...base(world, roles, true),
        ...fault,
        from: roles.target,
        to: roles.primary,
        last,
        expectedWriteOrder: [roles.primary, roles.target, roles.primary],
        invariants: [
          {
            name: 'a former primary that comes back closes its own gate (another region opened one later)',
            held: closedItself,
            detail: `RefreshGate in ${roles.primary} returned ${JSON.stringify(refresh)}`,
          },
          {
            name: onAurora(world)
              ? 'and its database takes no write: a client pinned to it writes nothing after RefreshGate (Aurora made it read-only)'
              : 'and fences its database: a client pinned to it writes nothing after RefreshGate',
            held: pinned.acks.length > 0 && pinnedAfter.length === 0,
            detail: `the pinned client had ${pinned.acks.length} write(s) acknowledged by the returning ${roles.primary}, ${pinnedAfter.length} sent after RefreshGate`,
          },
          ...(rejoined ? [rejoined] : []),
          ...(onAurora(world)
            ? [
                {
                  name: 'Failback switched the writer home with SwitchoverGlobalCluster (no data loss), asked in the home region',
                  held: home.length === 1 && auroraMembership(world, roles.primary)?.isWriter === true,
                  detail: `SwitchoverGlobalCluster accepted in ${roles.primary} ${home.length} time(s); writer now ${auroraGlobal(world).members.find((m) => m.isWriter)?.region ?? 'none'}`,
                },
              ]
            : []),
        ],
        notes: [
          `The figures are the failback's (from its start); the region loss before it is what the region-loss scenario measures.`,
          ...notes,
        ],
      };
    },
  },

  'az-failover': {
    summary:
      "An in-region failover of the primary's database to its standby in another zone (RDS: a Multi-AZ reboot with failover; Aurora: FailoverDBCluster to the other instance of the writer pair): its writer stops at once and comes back from its WAL; and a test failover of its cache, while writes continue.",
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const { primary } = rolesOf(world);
      const aws = world.platform.aws;
      let outageAt: number | undefined;
      const failInPlace = (region: string) => {
        outageAt = Date.now();
        void world.postgres.failoverInPlace(region);
      };
      // Aurora: the writer's instance hands over to the reader of the lowest promotion tier, in another zone.
      const cluster = onAurora(world) ? auroraCluster(world, primary) : undefined;
      const writerBefore = cluster?.instances?.find((i) => i.writer)?.id;
      if (cluster) aws.onClusterFailover = (failed) => failInPlace(failed.region);
      else
        aws.onReboot = (instance, failover) => {
          if (failover) failInPlace(instance.region);
        };
      await warmUp(world);
      const fault = markFault(world);
      const last = await world.run(AZ_FAILOVER(world.platform.tier), { region: primary }, primary);
      await world.waitForWriteIn(primary, outageAt ?? fault.faultAt);
      const clusterFailovers = aws.calls.filter((c) => c.command === 'FailoverDBCluster' && !c.error);
      const writerAfter = cluster?.instances?.find((i) => i.writer)?.id;
      const moved: Invariant[] = cluster
        ? [
            {
              name: 'FailoverDBCluster moved the primary cluster’s writer to the other instance of its pair, and nothing else was asked',
              held:
                clusterFailovers.length === 1 &&
                clusterFailovers[0]?.region === primary &&
                writerBefore !== undefined &&
                writerAfter !== undefined &&
                writerAfter !== writerBefore &&
                !aws.calls.some((c) => /^(RebootDBInstance|FailoverGlobalCluster|SwitchoverGlobalCluster)$/.test(c.command)),
              detail: `FailoverDBCluster accepted ${clusterFailovers.length} time(s) (${clusterFailovers.map((c) => `${c.region}: ${JSON.stringify(c.input)}`).join('; ')}); writer ${writerBefore} -> ${writerAfter}`,
            },
          ]
        : [];
      return {
        ...fault,
        faultAt: outageAt ?? fault.faultAt,
        from: primary,
        to: primary,
        expectedStatus: 'SUCCEEDED',
        last,
        expectedWriteOrder: [primary],
        writableStep: 'CheckDatabaseAvailable',
        // RDS flips its own endpoint's CNAME: the 60-120 s it documents include DNS. Aurora's cluster endpoint follows the
        // new writer the same way, inside the modelled FailoverDBCluster (its 60 s the low end of those 60-120 s).
        dnsTailSeconds: 0,
        objectives: world.config.tier.recovery.availabilityZone,
        planned: false,
        invariants: [
          {
            name: 'the primary stayed in its region, and its gate open',
            held: world.platform.gate(primary) === true && (await world.isWritablePrimary(primary)),
            detail: `gate of ${primary}: ${world.platform.gate(primary) ? 'open' : 'closed'}`,
          },
          ...moved,
        ],
        notes: [
          world.cache
            ? "The cache's shard failover is modelled: the drill's cache is one server per region, without a replica in another zone."
            : 'The cache is modelled.',
        ],
      };
    },
  },

  'three-regions': {
    summary:
      'tier3 across three regions: the primary is lost, the second secondary becomes the primary, and the other secondary is re-pointed to it (RDS: a new replica generation, deployed; Aurora rebuilds it as a secondary of the new writer by itself).',
    defaultLayout: { tier: 'tier3' },
    minRegions: 3,
    async run(world) {
      const roles = rolesOf(world, 1);
      const repointed = roles.others[0] as string;
      const serverBefore = world.postgres.server(repointed);
      const outcome = await regionLoss(world, roles);
      await world.waitForWriteIn(roles.target, outcome.faultAt);
      let how: string;
      let repointedOk = true;
      if (onAurora(world)) {
        // "After Aurora promotes the new primary cluster, it automatically rebuilds all additional secondary Region
        // clusters" (Aurora User Guide, managed failover): no deploy; the world rebuilds the real server as Aurora does.
        const rebuilt = await awaitAuroraRebuild(world, repointed, serverBefore);
        const member = auroraMembership(world, repointed);
        how = `Aurora rebuilt ${repointed} (${rebuilt ? 'its server a standby of the new writer' : 'its server NOT rebuilt'}; a ${member?.isWriter === false ? `secondary, ${member.synchronizationStatus}` : 'not a secondary'})`;
        repointedOk = rebuilt && member?.isWriter === false;
      } else {
        how = `re-pointed by a deploy (${await reprotect(world, repointed, roles.target)})`;
      }
      const since = Date.now();
      await sleep(1_000);
      const written = world.pgWriter.acks.filter((a) => a.region === roles.target && a.sentAt >= since);
      // Asynchronous replication: give the new replica up to 5 s to hold them.
      let replicated: typeof written = [];
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(100)) {
        const onRepointed = await world.heartbeatsOn(repointed);
        replicated = written.filter((a) => onRepointed.has(a.seq));
        if (replicated.length === written.length) break;
      }
      return {
        ...outcome,
        invariants: [
          {
            name: 'the other secondary replicates the new primary',
            held: repointedOk && written.length > 0 && replicated.length === written.length,
            detail: `${how}; ${replicated.length} of ${written.length} writes acknowledged by ${roles.target} after the re-pointing are on ${repointed}`,
          },
        ],
      };
    },
  },

  'cache-failover-fails': {
    summary:
      "The primary region is lost and ElastiCache refuses to detach the cache's secondary: the runbook stops with the gate closed and reports; once the cache answers, a re-run converges.",
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      world.platform.aws.failNext(
        'DisassociateGlobalReplicationGroup',
        'InvalidGlobalReplicationGroupStateFault',
        'The global replication group is not in a valid state for this operation.',
        1,
      );
      const failed = await regionLoss(world, roles);
      const gateStayedClosed = world.platform.gate(roles.target) !== true;
      const reported = world.platform.aws.notifications.some((n) => n.region === roles.target && /FAILED|failed/.test(`${n.subject}`));
      const last = await failOverTo(world, roles.target);
      return {
        ...failed,
        last,
        invariants: [
          {
            name: 'a failed cache failover leaves the gate closed and is reported',
            held: failed.last.status === 'FAILED' && gateStayedClosed && reported,
            detail: `first execution ${failed.last.status} (${(failed.last.cause ?? '').slice(0, 120)}); gate closed: ${gateStayedClosed}; reported: ${reported}`,
          },
        ],
      };
    },
  },

  'blackholed-region': {
    summary:
      "The primary region's endpoints drop every packet (no connection accepted, nothing answered): each call to it waits only for the runbook clients' own timeouts, and the unplanned RegionFailover completes as it does after a region loss.",
    defaultLayout: { tier: 'tier1' },
    minRegions: 2,
    async run(world) {
      const roles = rolesOf(world);
      await warmUp(world);
      const { start, ...fault } = await faultAndDecision(
        world,
        roles,
        () => world.blackholeRegion(roles.primary),
        `${roles.primary} blackholed (its servers frozen, its AWS endpoints drop every connection)`,
      );
      const last = await world.run(REGION_FAILOVER(world.platform.tier), start.input, start.region);
      const waits = world.platform.aws.calls.filter((c) => c.error === 'blackholed').map((c) => c.waitedMs ?? 0);
      // One attempt gives up at the connect timeout (plus the event loop's lag on a busy machine, with the
      // watchdogs' and gate keepers' attempts at the region running beside the failover's): well short of
      // the request timeout, and of any Lambda timeout. The SDK makes three, with a backoff between them.
      const perAttempt = CLIENT_TIMEOUTS.connectionTimeoutMs + 1_000;
      return {
        ...base(world, roles, false),
        ...fault,
        last,
        lostRegion: roles.primary,
        invariants: [
          {
            name: 'every attempt at the blackholed region gave up at the clients’ connect timeout, not at a Lambda timeout',
            held: waits.length > 0 && Math.max(...waits) <= perAttempt,
            detail: `${waits.length} attempt(s) at ${roles.primary}, the longest ${Math.max(0, ...waits)} ms (connect timeout ${CLIENT_TIMEOUTS.connectionTimeoutMs} ms, ${CLIENT_MAX_ATTEMPTS} attempts a call)`,
          },
        ],
      };
    },
  },

  'two-operators': {
    summary:
      'tier3: the primary region is lost and two operators start unplanned RegionFailovers at the same moment, one in each secondary: the tier-wide lock lets exactly one promote; the other is refused, naming it.',
    defaultLayout: { tier: 'tier3' },
    minRegions: 3,
    async run(world) {
      const primary = world.config.primaryRegion.name;
      const secondaries = world.regions.filter((r) => r !== primary).slice(0, 2);
      const fault = await loseThePrimary(world, rolesOf(world), '; two operators start failovers in two secondaries at once');
      const machine = REGION_FAILOVER(world.platform.tier);
      const arnOf = (region: string) => `arn:aws:states:${region}:${world.config.account}:execution:${machine}:operator-in-${region}`;
      const beforeTask = togetherAtTheLock(secondaries.length);
      const results = await Promise.all(
        secondaries.map((region) => failOverTo(world, region, { executionArn: arnOf(region), beforeTask })),
      );
      const winnerIndex = results.findIndex((r) => r.status === 'SUCCEEDED');
      const winner = secondaries[winnerIndex];
      const loser = results.find((_, i) => i !== winnerIndex);
      const promotions = promotionsAccepted(world);
      const writable = await writableRegions(world);
      const roles: Roles = { primary, target: winner ?? (secondaries[0] as string), others: secondaries.filter((r) => r !== winner) };
      return {
        ...base(world, roles, false),
        ...fault,
        last: results[winnerIndex] ?? (results[0] as LocalRunResult),
        lostRegion: primary,
        invariants: [
          {
            name: 'exactly one of the two executions promoted',
            held: winner !== undefined && promotions.length === 1 && promotions[0]?.region === winner,
            detail: `${results.map((r, i) => `${secondaries[i]}: ${r.status}${r.error ? ` (${r.error})` : ''}`).join(', ')}; ${promotionCommand(world)} accepted in ${promotions.map((c) => c.region).join(', ') || 'no region'}`,
          },
          {
            name: 'the other was refused by the lock, naming the owner',
            held: winner !== undefined && loser?.error === ERROR.lockHeld && (loser.cause ?? '').includes(arnOf(winner)),
            detail: `${loser?.error ?? 'no refusal'}: ${(loser?.cause ?? '').slice(0, 240)}`,
          },
          {
            name: 'no region ends with two writable databases: one writable primary in the tier',
            held: writable.length === 1 && writable[0] === winner,
            detail: `PostgreSQL taking writes at the end: ${writable.join(', ') || 'none'}`,
          },
        ],
      };
    },
  },

  partition: {
    summary: `The primary region is cut off from the others while it keeps serving its own clients: neither the runbook nor the other regions reach it. Its gate keeper cannot renew the write lease in a majority and fences its own database; the unplanned RegionFailover revokes the lease and waits out the ${WRITE_LEASE.boundSeconds} s bound before promoting.`,
    defaultLayout: { tier: 'tier3' },
    minRegions: 2,
    minStateTables: 3,
    async run(world) {
      const roles = rolesOf(world);
      const { primary } = roles;
      await warmUp(world);
      // The last renewal before the cut: every table holds the lease.
      const renewal = await refreshGate(world, primary);
      const renewedAt = world.platform.now().getTime();
      world.log(`RefreshGate in ${primary}: ${JSON.stringify(renewal)}`);
      const fault = markFault(world);
      await world.partition(primary);
      const pinned = pinnedClient(world, primary);
      world.keepersRunByScenario.add(primary);
      world.log(`fault: ${primary} cut off from the other regions; it keeps serving its own clients, and one is pinned to its database`);
      // Its gate keeper keeps running every minute, in its own region.
      let selfFencedAt: number | undefined;
      let stop = false;
      const keeper = world.platform.repeat(
        WRITE_LEASE.renewalSeconds,
        WRITE_LEASE.boundSeconds / WRITE_LEASE.renewalSeconds + 3,
        async () => {
          if (stop) return;
          const out = await refreshGate(world, primary).catch((error: Error) => ({ error: error.message }));
          world.log(`RefreshGate in ${primary}: ${JSON.stringify(out)}`);
          if (selfFencedAt === undefined && 'fenced' in out && out.fenced) selfFencedAt = world.platform.now().getTime();
        },
      );
      const last = await failOverTo(world, roles.target);
      stop = true;
      await keeper;
      await sleep(500);
      await pinned.stop();
      const bound = renewedAt + WRITE_LEASE.boundSeconds * 1000;
      const pinnedAfterBound = pinned.acks.filter((a) => a.writtenAt > bound);
      const platformOnPrimary = world.pgWriter.acks.filter((a) => a.region === primary && a.writtenAt > fault.virtualFaultAt);
      const lostInside = [...pinned.acks.filter((a) => a.writtenAt > fault.virtualFaultAt), ...platformOnPrimary];
      const leaseWait = world.tasks.find((t) => t.state === 'WaitOutWriteLease' && t.outcome === 'succeeded');
      const fenceEnd = world.tasks.find((t) => t.state === 'FenceSource' && t.outcome === 'succeeded')?.end.getTime();
      const promotedAt = world.tasks.find((t) => t.state === 'PromotePostgres' && t.outcome === 'succeeded')?.start.getTime();
      // The cut-off region's own functions (its gate keeper, the write-gate endpoint Route 53 probes) reach its own table.
      const own = new Set(['RefreshGate', 'ServeWriteGate']);
      const crossCalls = world.platform.aws.calls.filter((c) => c.region === primary && !own.has(c.caller ?? '') && !c.error);
      const writable = await writableRegions(world);
      return {
        ...base(world, roles, false),
        ...fault,
        last,
        invariants: [
          {
            name: `the cut-off primary fenced itself within the bound (${WRITE_LEASE.boundSeconds} s after its last renewal)`,
            held: selfFencedAt !== undefined && selfFencedAt <= bound && world.platform.gate(primary) === false,
            detail: `last renewal at +0 s; self-fenced at +${selfFencedAt === undefined ? 'never' : ((selfFencedAt - renewedAt) / 1000).toFixed(0)} s; its gate ${world.platform.gate(primary) ? 'open' : 'closed'}`,
          },
          {
            name: 'no write acknowledged by the old primary after the bound',
            held: pinnedAfterBound.length === 0 && platformOnPrimary.every((a) => a.writtenAt <= bound),
            detail: `the pinned client had ${pinned.acks.length} write(s) acknowledged by ${primary}, ${pinnedAfterBound.length} after the bound`,
          },
          {
            name: 'the failover promoted only after the bound, and reached nothing in the cut-off region',
            held:
              leaseWait !== undefined &&
              promotedAt !== undefined &&
              fenceEnd !== undefined &&
              promotedAt >= bound &&
              crossCalls.length === 0,
            detail: `FenceSource ended at +${fenceEnd === undefined ? '?' : ((fenceEnd - renewedAt) / 1000).toFixed(0)} s, promotion started at +${promotedAt === undefined ? '?' : ((promotedAt - renewedAt) / 1000).toFixed(0)} s; ${crossCalls.length} call(s) into ${primary} answered`,
          },
          {
            name: 'one writable primary in the tier at the end',
            held: writable.length === 1 && writable[0] === roles.target,
            detail: `PostgreSQL taking writes at the end: ${writable.join(', ') || 'none'}`,
          },
        ],
        notes: [
          `Self-fencing bound: ${WRITE_LEASE.boundSeconds} s after the old primary's last lease renewal (${WRITE_LEASE.reason})`,
          `Writes lost inside the bound: ${lostInside.length} acknowledged by ${primary} after the cut (${platformOnPrimary.length} by the platform's writer, ${lostInside.length - platformOnPrimary.length} by the pinned client); none of them reached ${roles.target}.`,
          `The modelled RTO counts WaitOutWriteLease: ${WRITE_LEASE.boundSeconds} s from the lease's revocation.`,
        ],
      };
    },
  },
};

/** The runbook state tables of a layout: one per region, and a two-region tier's witness. */
export const stateTablesOf = (config: PlatformConfig): number => config.regions.length + (config.witnessRegion ? 1 : 0);
