import type { Redis } from 'ioredis';
import pg from 'pg';
import { regionalApiDomainName, serviceDomainName } from '../../constructs/routing/host-names';
import { HEALTH_PATH } from '../../constructs/routing/regional-health-checks';
import { type PlatformConfig, WRITE_GATE_PATH, WRITE_HOSTS } from '../../lib/config';
import { CONNECT_TIMEOUT_MS, directDatabasePlane, HEARTBEAT_SQL, PLATFORM_WRITER, STATEMENT_TIMEOUT_MS } from '../core/database';
import { gateServedOpen } from '../core/state-table';
import { WRITE_LEASE } from '../definitions/catalogue';
import type { DeployedAssembly } from '../local/deployed-assembly';
import type { LocalRunResult, TaskRecord } from '../local/local-runbooks';
import { SimulatedRoute53 } from '../local/route53';
import { SimulatedPlatform } from '../local/simulated-platform';
import { STEPS } from '../steps';
import { Blackhole } from './blackhole';
import { CLIENT_ROLE, DRILL_DATABASE, DRILL_USER, LocalPostgresCluster } from './local-postgres';
import { findCacheServer, LocalCacheCluster } from './local-redis';
import { PrimarySampler } from './sampler';

const SCHEDULED = { state: {}, execution: { id: 'schedule', startTime: '' } } as never;

export const HEARTBEAT_INTERVAL_MS = 100;

/** A write the platform's writer had acknowledged: by which region, when (wall clock) and as of when (the drill's clock). */
export interface Ack {
  readonly seq: number;
  readonly region: string;
  /** Wall time the write was sent, and the time its acknowledgement arrived. */
  readonly sentAt: number;
  readonly at: number;
  readonly writtenAt: number;
}

/** Where heartbeats go: one data store of one region at a time. */
interface HeartbeatSink {
  open(region: string): Promise<void>;
  write(region: string, seq: number, writtenAt: string): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Close a client without waiting on a server that may never answer (a frozen region). */
const closeQuietly = (client: pg.Client | undefined) =>
  client ? Promise.race([client.end().catch(() => undefined), sleep(200)]) : Promise.resolve();

class PostgresSink implements HeartbeatSink {
  private client?: pg.Client;
  constructor(
    private readonly cluster: LocalPostgresCluster,
    private readonly writer: string,
  ) {}
  async open(region: string): Promise<void> {
    const client = new pg.Client({
      ...this.cluster.clientConfig(region, { user: CLIENT_ROLE }),
      connectionTimeoutMillis: 500,
      query_timeout: 500,
    });
    client.on('error', () => undefined);
    this.client = client;
    await client.connect();
  }
  async write(region: string, seq: number, writtenAt: string): Promise<void> {
    await this.client?.query(HEARTBEAT_SQL.insert, [this.writer, seq, writtenAt, region]);
  }
  async close(): Promise<void> {
    await closeQuietly(this.client);
    this.client = undefined;
  }
}

class CacheSink implements HeartbeatSink {
  private client?: Redis;
  /** Writes as the platform's clients do: authenticated as the cache's application user. */
  constructor(
    private readonly cluster: LocalCacheCluster,
    private readonly user: string,
  ) {}
  async open(region: string): Promise<void> {
    this.client = this.cluster.client(region, this.user);
    await this.client.connect();
  }
  async write(_region: string, seq: number): Promise<void> {
    await this.client?.rpush('mlp:dr:heartbeat', seq);
  }
  async close(): Promise<void> {
    this.client?.disconnect();
    this.client = undefined;
  }
}

/**
 * A client of the platform writing a heartbeat every 100 ms to the region `target()` names (the
 * region whose write gate is open, as clients following the gated DNS names do), recording every
 * acknowledged write. A write that fails is not retried: its sequence number is skipped.
 */
export class HeartbeatWriter {
  readonly acks: Ack[] = [];
  private seq = 0;
  private connected?: string;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly sink: HeartbeatSink,
    private readonly target: () => string | undefined,
    private readonly clock: () => Date,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_INTERVAL_MS);
    return this;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const region = this.target();
    const seq = ++this.seq;
    try {
      if (!region) return;
      if (this.connected !== region) {
        await this.sink.close();
        this.connected = region;
        await this.sink.open(region);
      }
      const writtenAt = this.clock();
      const sentAt = Date.now();
      await this.sink.write(region, seq, writtenAt.toISOString());
      this.acks.push({ seq, region, sentAt, at: Date.now(), writtenAt: writtenAt.getTime() });
    } catch {
      await this.sink.close();
      this.connected = undefined;
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await sleep(10);
    await this.sink.close();
  }
}

export interface DrillWorldOptions {
  readonly config: PlatformConfig;
  /** A config's synthesized stacks: the simulated world's names, parameters, roles and state machines, and later deploys'. */
  readonly synthesize: (config: PlatformConfig) => DeployedAssembly;
  readonly log: (line: string) => void;
  /** How long the writers run before the fault. */
  readonly warmUpMs: number;
}

/** A runbook execution of a drill, for the report. */
export interface ExecutionRecord {
  readonly machine: string;
  readonly region: string;
  readonly input: unknown;
  readonly result: LocalRunResult;
}

/**
 * One drill's world: a real PostgreSQL server per region (the primary's streaming to the others), a
 * real cache server per region when Redis or Valkey is installed, the simulated AWS control plane
 * around them, and the platform's heartbeat writers following the write gates. `close()` stops
 * every process.
 */
export class DrillWorld {
  readonly platform: SimulatedPlatform;
  /** Synthesizes a config's stacks, for the deploys a scenario makes. */
  readonly synthesize: (config: PlatformConfig) => DeployedAssembly;
  readonly pgWriter: HeartbeatWriter;
  readonly cacheWriter?: HeartbeatWriter;
  readonly tasks: (TaskRecord & { region: string })[] = [];
  readonly executions: ExecutionRecord[] = [];
  readonly started = Date.now();
  /** Regions whose servers the drill has frozen. */
  readonly lost = new Set<string>();
  /** Whether each region's database takes a client's write and its gate is open, every 500 ms of the drill. */
  readonly sampler: PrimarySampler;
  /** Route 53 as the global stack configures it: the platform's clients resolve the write names through it. */
  readonly route53: SimulatedRoute53;
  /** The clients' resolver cache: the write name's answer, until its TTL runs out (platform clock, ms). */
  private cachedWriteAnswer?: { readonly region?: string; readonly until: number };
  private lastKeeperPassAt?: number;
  private route53Timer?: NodeJS.Timeout;
  /** Promotions and rebuilds of the real servers still running: `close()` waits for them before stopping the servers. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Regions whose gate keeper the scenario runs itself, at its own times: `gateKeeperPass` leaves them out. */
  readonly keepersRunByScenario = new Set<string>();
  /** Lost regions that came back, and when on the drill clock. */
  readonly returns: { readonly region: string; readonly at: number }[] = [];
  private blackhole?: Blackhole;

  private constructor(
    readonly options: DrillWorldOptions,
    readonly postgres: LocalPostgresCluster,
    readonly cache: LocalCacheCluster | undefined,
    readonly cacheServer: string | undefined,
  ) {
    const { config } = options;
    // The runbooks connect as their own role, exactly as the bootstrap plan made it.
    const plane = directDatabasePlane(async (endpoint) => ({
      host: endpoint.host,
      port: endpoint.port,
      user: DRILL_USER,
      database: DRILL_DATABASE,
      // As in AWS (a timeout shorter than the runbooks' own would fail steps on a busy machine that AWS would not).
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
    }));
    const primary = config.primaryRegion.name;
    this.synthesize = options.synthesize;
    this.platform = new SimulatedPlatform({ config, assembly: options.synthesize(config), database: plane, clock: 'wall' });
    for (const region of this.regions) {
      this.platform.setEndpoint(this.platform.databaseOf(region).instanceIdentifier, '127.0.0.1', postgres.server(region).port);
    }
    const aws = this.platform.aws;
    // The real standby starts promoting when RDS is asked to (unless the drill made the promotion
    // stuck); RDS reports it available once the modelled duration has passed and the server takes writes.
    const promoted = new Set<string>();
    aws.onPromotionRequested = (instance) => {
      if (aws.stuckPromotions.has(instance.id)) return;
      this.track(postgres.promote(instance.region).then(() => promoted.add(instance.id)));
    };
    aws.dataPlanePromoted = (instance) => promoted.has(instance.id);
    aws.onPromoted = () => undefined;
    // Aurora: the target's real server is promoted when the switchover or failover is asked for; the global
    // database's operation completes once it takes writes. Aurora's storage replication is played by streaming
    // replication: a member that follows the new writer (the old writer after a switchover, the others, a former
    // primary Aurora rejoins) is rebuilt as a standby of the new writer's server, as Aurora rebuilds its volume.
    aws.onGlobalPromotionRequested = (cluster) => {
      if (this.lost.has(cluster.region)) return;
      this.track(postgres.promote(cluster.region).then(() => promoted.add(cluster.id)));
    };
    aws.globalDataPlanePromoted = (cluster) => promoted.has(cluster.id);
    const follow = (cluster: { id: string; region: string }, writerRegion: string) => {
      if (this.lost.has(cluster.region)) return;
      promoted.delete(cluster.id);
      this.track(
        postgres
          .rebuild(cluster.region, cluster.id, writerRegion)
          .then(() => this.platform.setEndpoint(cluster.id, '127.0.0.1', postgres.server(cluster.region).port)),
      );
    };
    aws.onGlobalPromoted = (target) => {
      const listed = new Set([...aws.globalClusters.values()].flatMap((g) => g.members.map((m) => m.clusterArn)));
      for (const cluster of aws.dbClusters.values()) if (cluster !== target && listed.has(cluster.arn)) follow(cluster, target.region);
    };
    aws.onGlobalRejoined = (cluster, writer) => follow(cluster, writer.region);
    // ElastiCache applies a user's access string on every node of the region; the drill on its one server.
    aws.onCacheAccess = async (region, userId, accessString) => {
      if (cache && !this.lost.has(region)) await cache.setUser(region, userId, accessString);
    };
    aws.onCachePromoted = (region, _group, former) => {
      if (!cache) return;
      this.track(
        cache.promote(region).then(() => (former && !this.lost.has(former.region) ? cache.follow(former.region, region) : undefined)),
      );
    };
    // The deployment as it stands: the primary's gate open since the start, every other one closed.
    aws.tables.set(
      `${primary}:${this.platform.stateTable(primary)}`,
      new Map([
        [
          'gate',
          {
            pk: { S: 'gate' },
            open: { BOOL: true },
            epoch: { N: '0' },
            updatedAt: { S: this.platform.now().toISOString() },
            // As its gate keeper's last pass left it.
            openUntil: { S: new Date(this.platform.now().getTime() + WRITE_LEASE.gateValiditySeconds * 1000).toISOString() },
          },
        ],
      ]),
    );
    const clock = () => this.platform.now();
    this.route53 = new SimulatedRoute53(this.platform.assembly, (fqdn, path) => this.probe(fqdn, path), clock);
    this.pgWriter = new HeartbeatWriter(new PostgresSink(postgres, PLATFORM_WRITER), () => this.writeRegion(), clock);
    if (cache) this.cacheWriter = new HeartbeatWriter(new CacheSink(cache, this.cacheUser), () => this.writeRegion(), clock);
    this.sampler = new PrimarySampler({
      regions: this.regions,
      isLost: (region) => this.lost.has(region),
      gateOpen: (region) => this.gateOpen(region),
      clientConfig: (region) => postgres.clientConfig(region, { user: CLIENT_ROLE }),
      now: clock,
    });
  }

  static async start(options: DrillWorldOptions): Promise<DrillWorld> {
    const { config } = options;
    const primary = config.primaryRegion.name;
    const regions = [primary, ...config.regions.map((r) => r.name).filter((r) => r !== primary)];
    const postgres = await LocalPostgresCluster.start({
      regions,
      instanceIdentifier: (r) => config.databases[r]?.current.instanceIdentifier ?? r,
    });
    let cache: LocalCacheCluster | undefined;
    const cacheServer = findCacheServer();
    try {
      if (cacheServer) cache = await LocalCacheCluster.start(cacheServer, regions);
      const world = new DrillWorld(options, postgres, cache, cacheServer);
      // Each region's cache user as its data stack creates it.
      for (const [key, user] of world.platform.aws.cacheUsers) {
        const [region, userId] = key.split(':') as [string, string];
        await cache?.setUser(region, userId, user.accessString);
      }
      await postgres.prepareHeartbeats(primary);
      await world.startRoute53();
      return world;
    } catch (error) {
      await cache?.stop();
      await postgres.stop();
      throw error;
    }
  }

  /** The RBAC user the platform's clients authenticate to the cache as, as the data stacks name it. */
  get cacheUser(): string {
    const [key] = this.platform.aws.cacheUsers.keys();
    if (!key) throw new Error('the synthesized data stacks create no ElastiCache user');
    return key.split(':')[1] as string;
  }

  get config(): PlatformConfig {
    return this.options.config;
  }

  get regions(): readonly string[] {
    return this.platform.regions;
  }

  log(line: string): void {
    this.options.log(`${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)} s  ${line}`);
  }

  /** Keep `work` (a promotion or rebuild of a real server) in flight until it settles; its failure is the scenario's to notice. */
  private track(work: Promise<unknown>): void {
    const settled: Promise<unknown> = work.catch(() => undefined).finally(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
  }

  /**
   * A region's write-gate endpoint answers open now: its gate is open in its state table, its lease
   * renewed recently enough (`gateServedOpen`), and the region answers (it is not lost or blackholed).
   */
  gateOpen(region: string): boolean {
    return !this.lost.has(region) && gateServedOpen(this.platform.gateItem(region), this.platform.now());
  }

  /**
   * Where the platform's clients write: the region Route 53 answers the first write name with, as
   * their resolver cached it (for the answer's TTL), or nowhere (the write gates' closed name).
   */
  writeRegion(): string | undefined {
    const now = this.platform.now().getTime();
    if (!this.cachedWriteAnswer || now >= this.cachedWriteAnswer.until) {
      const answer = this.route53.resolve(serviceDomainName(WRITE_HOSTS[0] as string, this.config.domain));
      const region = this.config.regions.find((r) => regionalApiDomainName(r.code, this.config.domain) === answer.target)?.name;
      this.cachedWriteAnswer = { ...(region ? { region } : {}), until: now + answer.ttl * 1000 };
    }
    return this.cachedWriteAnswer.region;
  }

  /** What Route 53's health checkers get from a region's endpoint now: `/health` while it answers, the write gate's own answer. */
  private async probe(fqdn: string, path: string): Promise<boolean> {
    const region = this.config.regions.find((r) => regionalApiDomainName(r.code, this.config.domain) === fqdn)?.name;
    if (!region || this.lost.has(region)) return false;
    if (path === HEALTH_PATH) return true;
    if (path !== WRITE_GATE_PATH) return false;
    const answer = await STEPS.ServeWriteGate({} as never, this.platform.deps(region, 'ServeWriteGate'));
    return answer.statusCode >= 200 && answer.statusCode < 400;
  }

  /** Route 53's checks, evaluated every 200 ms of the wall clock from now on (and settled once first). */
  async startRoute53(): Promise<void> {
    await this.route53.evaluate();
    let busy = false;
    this.route53Timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.route53.evaluate().finally(() => {
        busy = false;
      });
    }, 200);
  }

  startWriters(): void {
    this.pgWriter.start();
    this.cacheWriter?.start();
  }

  async stopWriters(): Promise<void> {
    await Promise.all([this.pgWriter.stop(), this.cacheWriter?.stop()]);
  }

  /**
   * One pass of every region's gate keeper (RefreshGate), as EventBridge Scheduler runs it every
   * `WRITE_LEASE.renewalSeconds`: the primary renews its write lease, a superseded region fences
   * itself. A lost or blackholed region runs nothing; a partitioned one runs in its own region.
   */
  async gateKeeperPass(): Promise<void> {
    this.lastKeeperPassAt = this.platform.now().getTime();
    for (const region of this.regions.filter((r) => !this.lost.has(r) && !this.keepersRunByScenario.has(r))) {
      const out = await STEPS.RefreshGate(SCHEDULED, this.platform.deps(region, 'RefreshGate')).catch((error: Error) => ({
        error: error.message,
      }));
      if ('error' in out || out.supersededBy || out.fenced) this.log(`RefreshGate in ${region}: ${JSON.stringify(out)}`);
    }
  }

  /**
   * Modelled time passes on the drill clock (`seconds`), the gate keepers running through it every
   * renewal period as they would in AWS: for the wait between a fault and the decision to start, or a
   * stall the scenario sets up.
   */
  async pass(seconds: number): Promise<void> {
    const end = this.platform.now().getTime() + seconds * 1000;
    for (;;) {
      const now = this.platform.now().getTime();
      const due = this.nextKeeperPassAt();
      if (due > end) {
        if (end > now) this.platform.aws.advance((end - now) / 1000);
        return;
      }
      if (due > now) this.platform.aws.advance((due - now) / 1000);
      await this.gateKeeperPass();
    }
  }

  /** The gate keepers' pass, if one is due on the drill clock. */
  async keepersIfDue(): Promise<void> {
    if (this.platform.now().getTime() >= this.nextKeeperPassAt()) await this.gateKeeperPass();
  }

  /** When the gate keepers' next pass is due: a renewal period after the last. */
  private nextKeeperPassAt(): number {
    return (this.lastKeeperPassAt ?? this.platform.now().getTime()) + WRITE_LEASE.renewalSeconds * 1000;
  }

  /** The region is lost: its servers freeze mid-write and its AWS endpoints stop answering. */
  loseRegion(region: string): void {
    this.lost.add(region);
    this.postgres.kill(region);
    this.cache?.freeze(region);
    this.platform.aws.unreachable.add(region);
  }

  /**
   * A lost region comes back as it was: its servers answer again (a former primary still writable
   * until its gate keeper fences it), its AWS endpoints too. Recorded on the drill clock.
   */
  restoreRegion(region: string): void {
    this.lost.delete(region);
    this.platform.aws.unreachable.delete(region);
    this.postgres.freeze(region, false);
    this.cache?.freeze(region, false);
    this.returns.push({ region, at: this.platform.now().getTime() });
  }

  /**
   * The region's packets go nowhere: its servers freeze, and its AWS endpoints accept no connection
   * and answer nothing, so every call waits for the runbook clients' own timeouts (a blackhole on
   * loopback, stopped with the world).
   */
  async blackholeRegion(region: string): Promise<void> {
    this.lost.add(region);
    this.postgres.kill(region);
    this.cache?.freeze(region);
    this.blackhole ??= await Blackhole.start();
    this.platform.aws.blackholed.set(region, this.blackhole.port);
  }

  /**
   * The region is cut off from the others: its servers keep running and serving its own clients, its
   * own AWS endpoints answer its own functions, but no call crosses between it and another region, and
   * the other regions' replicas stop receiving its WAL.
   */
  async partition(region: string): Promise<void> {
    this.platform.aws.partitioned.add(region);
    await Promise.all(this.regions.filter((r) => r !== region).map((r) => this.postgres.cutReplication(r)));
  }

  /** Whether a region's PostgreSQL takes a write now from a platform client (a probe row, as the client role). */
  async acceptsWrites(region: string): Promise<boolean> {
    return this.postgres
      .query(
        region,
        'INSERT INTO mlp_dr.heartbeat (writer, seq, written_at, region) VALUES ($1, $2, $3, $4)',
        ['probe', Date.now(), new Date().toISOString(), region],
        { user: CLIENT_ROLE },
      )
      .then(() => true)
      .catch(() => false);
  }

  /** Run a runbook in `region` with the state machines of that region's resilience stack, logging every step. */
  async run(machine: string, input: unknown, region: string, options: Parameters<SimulatedPlatform['run']>[2] = {}) {
    if (!this.platform.machines[region]?.[machine]) throw new Error(`no state machine ${machine} in the ${region} resilience stack`);
    this.log(`${machine} started in ${region} with ${JSON.stringify(input)}`);
    // The gate keepers keep running every renewal period while the runbook does, as EventBridge Scheduler runs them.
    const result = await this.platform.alongside(
      WRITE_LEASE.renewalSeconds,
      this.nextKeeperPassAt(),
      () => this.gateKeeperPass(),
      () =>
        this.platform.run(
          machine,
          input,
          {
            retryDelayMs: 20,
            ...options,
            onTask: (task) => {
              this.tasks.push({ ...task, region });
              this.log(`  ${task.state.padEnd(28)} ${task.outcome}${task.error ? ` (${task.error})` : ''}`);
              options.onTask?.(task);
            },
          },
          region,
        ),
    );
    this.log(`${machine} in ${region}: ${result.status}${result.cause ? ` (${result.cause.slice(0, 200)})` : ''}`);
    this.executions.push({ machine, region, input, result });
    return result;
  }

  /** The platform writer's sequence numbers a region's PostgreSQL holds. */
  async heartbeatsOn(region: string): Promise<Set<number>> {
    const rows = await this.postgres.query<{ seq: string }>(
      region,
      'SELECT seq FROM mlp_dr.heartbeat WHERE writer = $1',
      [PLATFORM_WRITER],
      { user: DRILL_USER },
    );
    return new Set(rows.map((r) => Number(r.seq)));
  }

  /** The cache writer's sequence numbers a region's cache holds. */
  async cacheHeartbeatsOn(region: string): Promise<Set<number>> {
    if (!this.cache) return new Set();
    const values = (await this.cache.command(region, 'LRANGE', 'mlp:dr:heartbeat', 0, -1)) as string[];
    return new Set(values.map(Number));
  }

  async isWritablePrimary(region: string): Promise<boolean> {
    const rows = await this.postgres.query<{ r: boolean }>(region, 'SELECT pg_is_in_recovery() AS r').catch(() => [{ r: true }]);
    return rows[0]?.r === false;
  }

  /**
   * Wait (up to `ms` of the wall clock) until the writer has an acknowledged write in `region` after
   * `since`. Meanwhile the drill clock runs on a second every 50 ms, the gate keepers with it, so
   * Route 53's checks and the clients' cached answers move as they would in AWS without the drill
   * waiting them out on the wall clock.
   */
  async waitForWriteIn(region: string, since: number, ms = 5_000): Promise<Ack | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const ack = this.pgWriter.acks.find((a) => a.region === region && a.at >= since);
      if (ack || Date.now() > deadline) return ack;
      await this.pass(1);
      await this.route53.evaluate();
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.route53Timer);
    await this.stopWriters().catch(() => undefined);
    await Promise.all([...this.inFlight]);
    await this.sampler.stop();
    await this.blackhole?.stop();
    await this.cache?.stop();
    await this.postgres.stop();
  }
}
