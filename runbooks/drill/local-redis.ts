import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { disown, freePort, type OwnedServers, own, signal } from './processes';

/** The Redis (or Valkey) server binary on this machine, if any; the drill models the cache without one. */
export function findCacheServer(): string | undefined {
  for (const binary of ['valkey-server', 'redis-server']) {
    try {
      execFileSync(binary, ['--version'], { stdio: 'pipe' });
      return binary;
    } catch {
      // not installed
    }
  }
  return undefined;
}

interface CacheServer {
  readonly region: string;
  readonly port: number;
  process?: ChildProcess;
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * Real cache servers, one per region, as the Global Datastore's members: the first region's the
 * primary, the others replicas of it (asynchronous, as a Global Datastore replicates). Loopback
 * only, no persistence, ports picked free; promoting, freezing and stopping act on the processes.
 */
export class LocalCacheCluster implements OwnedServers {
  readonly servers = new Map<string, CacheServer>();
  /** Working directories: a replica keeps the snapshot it synced from in its own. */
  private readonly root = mkdtempSync(join(tmpdir(), 'mlp-drill-cache-'));

  private constructor(private readonly binary: string) {}

  static async start(binary: string, regions: readonly string[]): Promise<LocalCacheCluster> {
    const cluster = new LocalCacheCluster(binary);
    own(cluster);
    try {
      const [primary, ...replicas] = regions as [string, ...string[]];
      await cluster.launch(primary);
      for (const region of replicas) await cluster.launch(region, primary);
      for (const region of replicas) await cluster.waitForSync(region);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async launch(region: string, replicaOf?: string): Promise<void> {
    const port = await freePort();
    const dir = join(this.root, region);
    mkdirSync(dir, { recursive: true });
    // A primary waits 5 s (the default delay) for more replicas before a diskless full sync: none comes here.
    const args = [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      ...['--repl-diskless-sync-delay', '0'],
    ];
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(this.server(replicaOf).port));
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const server: CacheServer = { region, port, process: child };
    this.servers.set(region, server);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!alive(child)) throw new Error(`${this.binary} for ${region} exited (${child.exitCode})`);
      try {
        await this.command(region, 'PING');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${this.binary} for ${region} did not answer in 10 s: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private async waitForSync(region: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!String(await this.command(region, 'INFO', 'replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error(`the cache replica in ${region} did not sync in 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  server(region: string): CacheServer {
    const server = this.servers.get(region);
    if (!server) throw new Error(`no local cache server for ${region}`);
    return server;
  }

  /**
   * Create or change a user on a region's server as ElastiCache applies an RBAC access string: the
   * string's rules from a clean slate, no password (IAM authentication stands in for it here).
   */
  async setUser(region: string, userId: string, accessString: string): Promise<void> {
    const rules = accessString.split(/\s+/).filter(Boolean);
    await this.command(region, 'ACL', 'SETUSER', userId, 'reset', ...(rules.includes('on') ? ['nopass'] : []), ...rules);
  }

  /** A client of a region's server that fails fast instead of queueing while the server is away. */
  client(region: string, user?: string): Redis {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.server(region).port,
      // The application user holds no @dangerous command, INFO (ioredis's ready check) among them.
      ...(user ? { username: user, password: 'iam-auth-token', enableReadyCheck: false } : {}),
      lazyConnect: true,
      connectTimeout: 500,
      commandTimeout: 500,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    return client;
  }

  /** One command on a fresh connection. */
  async command(region: string, name: string, ...args: (string | number)[]): Promise<unknown> {
    const client = this.client(region);
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  /** A replica becomes a primary (a Global Datastore secondary detached or failed over to). */
  async promote(region: string): Promise<void> {
    await this.command(region, 'REPLICAOF', 'NO', 'ONE');
  }

  /** A former primary follows the new one (a planned Global Datastore failover). */
  async follow(region: string, primary: string): Promise<void> {
    await this.command(region, 'REPLICAOF', '127.0.0.1', this.server(primary).port);
  }

  /** The region is lost or partitioned: the server stops answering (SIGSTOP), or answers again. */
  freeze(region: string, frozen = true): void {
    const pid = this.server(region).process?.pid;
    if (pid) signal(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  killNow(): void {
    for (const server of this.servers.values()) {
      const child = server.process;
      if (child?.pid && alive(child)) {
        signal(child.pid, 'SIGCONT');
        signal(child.pid, 'SIGKILL');
      }
    }
    rmSync(this.root, { recursive: true, force: true });
    disown(this);
  }

  async stop(): Promise<void> {
    const exits = [...this.servers.values()].map((server) => {
      const child = server.process;
      if (!child?.pid || !alive(child)) return undefined;
      const exited = new Promise((r) => child.once('exit', r));
      signal(child.pid, 'SIGCONT');
      signal(child.pid, 'SIGKILL');
      return exited;
    });
    await Promise.all(exits);
    rmSync(this.root, { recursive: true, force: true });
    disown(this);
  }
}
