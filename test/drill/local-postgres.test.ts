import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { directDatabasePlane, HEARTBEAT_SQL } from '../../runbooks/core/database';
import { APPLICATION_ROLES } from '../../runbooks/core/database-bootstrap';
import {
  CLIENT_ROLE,
  DRILL_DATABASE,
  DRILL_USER,
  LocalPostgresCluster,
  MASTER_USER,
  ROOT_PREFIX,
  scratchDirectory,
} from '../../runbooks/drill/local-postgres';
import { findCacheServer } from '../../runbooks/drill/local-redis';
import { probeWrites } from '../../runbooks/drill/sampler';

const REGIONS = ['us-east-1', 'us-west-2'];
const id = (region: string) => `mlp-tier1-pg-${region}`;

/** postgres processes whose command line names a data directory of this cluster. */
function processesOf(cluster: LocalPostgresCluster): string[] {
  const dirs = [...cluster.servers.values()].map((s) => s.dataDir);
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => dirs.some((dir) => line.includes(dir)));
}

describe('real PostgreSQL 17 servers with streaming replication (the drill’s data plane)', () => {
  let cluster: LocalPostgresCluster;
  // What a drill killed before its exit handlers ran leaves behind (a process that no longer exists), and a live one's.
  const abandoned = join(scratchDirectory(), `${ROOT_PREFIX}999999999-left`);
  const live = join(scratchDirectory(), `${ROOT_PREFIX}${process.pid}-other-worker`);
  beforeAll(async () => {
    mkdirSync(join(abandoned, 'us-east-1'), { recursive: true });
    mkdirSync(live, { recursive: true });
    cluster = await LocalPostgresCluster.start({ regions: REGIONS, instanceIdentifier: id });
  }, 60_000);

  test('a new run removes the scratch data of a drill whose process is gone, and leaves a live one’s', () => {
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
  afterAll(async () => {
    rmSync(live, { recursive: true, force: true });
    await cluster?.stop();
  });

  const plane = () => directDatabasePlane(async (endpoint) => cluster.clientConfig(endpoint.region, { user: DRILL_USER }));
  const endpoint = (region: string) => ({ region, instanceIdentifier: id(region), host: '127.0.0.1', port: cluster.server(region).port });

  test('the primary runs PostgreSQL 17 on loopback and the standby replays its writes', async () => {
    const [version] = await cluster.query<{ server_version_num: string }>(REGIONS[0] as string, 'SHOW server_version_num');
    expect(Number(version?.server_version_num)).toBeGreaterThanOrEqual(170000);
    expect(Number(version?.server_version_num)).toBeLessThan(180000);
    await plane().writeHeartbeat(endpoint('us-east-1'), 'platform', 1, new Date().toISOString());
    for (let i = 0; i < 50; i++) {
      if ((await plane().latestHeartbeat(endpoint('us-west-2')))?.seq === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await plane().latestHeartbeat(endpoint('us-west-2'))).toMatchObject({ seq: 1 });
    const [recovery] = await cluster.query<{ in_recovery: boolean }>('us-west-2', 'SELECT pg_is_in_recovery() AS in_recovery');
    expect(recovery?.in_recovery).toBe(true);
  });

  test('a standby refuses writes until promoted; the old primary keeps taking them until fenced (a zombie)', async () => {
    await expect(plane().writeHeartbeat(endpoint('us-west-2'), 'platform', 2, new Date().toISOString())).rejects.toThrow(/read-only/);
    // The drill's sampler judges as a client: a standby refuses, a primary takes the write (rolled back).
    const asClient = (region: string) => probeWrites(cluster.clientConfig(region, { user: CLIENT_ROLE }));
    await cluster.prepareHeartbeats('us-east-1');
    expect(await asClient('us-west-2')).toBe('refused');
    expect(await asClient('us-east-1')).toBe('writable');
    await cluster.promote('us-west-2');
    await plane().writeHeartbeat(endpoint('us-west-2'), 'platform', 2, new Date().toISOString());
    // The old primary still accepts writes: nothing stopped it yet.
    await plane().writeHeartbeat(endpoint('us-east-1'), 'platform', 3, new Date().toISOString());
    await cluster.prepareHeartbeats('us-east-1');
    await plane().fence(endpoint('us-east-1'));
    await expect(
      cluster.query('us-east-1', HEARTBEAT_SQL.insert, ['client', 4, new Date().toISOString(), 'us-east-1'], { user: CLIENT_ROLE }),
    ).rejects.toThrow(/not permitted to log in/);
    expect(await asClient('us-east-1')).toBe('refused');
    expect(await asClient('us-west-2')).toBe('writable');
  });

  test('a killed region does not answer', async () => {
    cluster.kill('us-east-1');
    expect(await probeWrites(cluster.clientConfig('us-east-1', { user: CLIENT_ROLE }))).toBe('unreachable');
    await expect(plane().latestHeartbeat(endpoint('us-east-1'))).rejects.toThrow(/did not answer/);
  });

  test('stop leaves no server process behind', async () => {
    expect(processesOf(cluster).length).toBeGreaterThan(0);
    await cluster.stop();
    expect(processesOf(cluster)).toEqual([]);
  });
});

describe('interrupting a run', () => {
  test('Ctrl-C (SIGINT) to a process running PostgreSQL and Redis servers leaves none of them behind', async () => {
    const script = `
      import { LocalPostgresCluster } from './runbooks/drill/local-postgres.ts';
      import { findCacheServer, LocalCacheCluster } from './runbooks/drill/local-redis.ts';
      const cluster = await LocalPostgresCluster.start({ regions: ['us-east-1', 'us-west-2'], instanceIdentifier: (r) => r });
      const binary = findCacheServer();
      const cache = binary ? await LocalCacheCluster.start(binary, ['us-east-1', 'us-west-2']) : undefined;
      console.log(JSON.stringify([
        ...[...cluster.servers.values()].map((s) => s.dataDir),
        ...[...(cache?.servers.values() ?? [])].map((s) => '127.0.0.1:' + s.port),
      ]));
      setInterval(() => undefined, 1000);
    `;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const dirs = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.startsWith('['));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const alive = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => dirs.some((d) => l.includes(d)));
    expect(alive().length).toBeGreaterThan(0);
    if (findCacheServer()) expect(alive().filter((l) => l.includes('redis-server') || l.includes('valkey-server'))).toHaveLength(2);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
    expect(alive()).toEqual([]);
    expect(dirs.filter((d) => d.startsWith('/') && existsSync(d))).toEqual([]);
  }, 60_000);
});

/** A client of the platform, as the application role, on one database of one server. */
async function client(cluster: LocalPostgresCluster, region: string, database = DRILL_DATABASE): Promise<pg.Client> {
  const c = new pg.Client(cluster.clientConfig(region, { user: CLIENT_ROLE, database }));
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/**
 * What a client pinned to a fenced primary tries: turn read-only off in its session, a READ WRITE
 * transaction, a new connection, a write in another of the platform's databases. Each write that
 * was accepted is named.
 */
async function overrideAttempts(cluster: LocalPostgresCluster, region: string, existing: pg.Client): Promise<string[]> {
  const accepted: string[] = [];
  const insert = (c: pg.Client, seq: number) =>
    c.query(HEARTBEAT_SQL.insert, ['override', seq, new Date().toISOString(), region]).then(() => undefined);
  const tryWrite = async (name: string, work: () => Promise<void>) => {
    try {
      await work();
      accepted.push(name);
    } catch {
      // refused: what a fence is for
    }
  };
  await tryWrite('existing session, SET default_transaction_read_only = off', async () => {
    await existing.query('SET default_transaction_read_only = off');
    await insert(existing, 1);
  });
  await tryWrite('new connection, BEGIN READ WRITE', async () => {
    const c = await client(cluster, region);
    try {
      await c.query('BEGIN READ WRITE');
      await insert(c, 2);
      await c.query('COMMIT');
    } finally {
      await c.end().catch(() => undefined);
    }
  });
  await tryWrite('new connection, SET default_transaction_read_only = off', async () => {
    const c = await client(cluster, region);
    try {
      await c.query('SET default_transaction_read_only = off');
      await insert(c, 3);
    } finally {
      await c.end().catch(() => undefined);
    }
  });
  await tryWrite('second database (mlp_tracking)', async () => {
    const c = await client(cluster, region, 'mlp_tracking');
    try {
      await c.query('INSERT INTO runs (id) VALUES (1)');
    } finally {
      await c.end().catch(() => undefined);
    }
  });
  return accepted;
}

describe('the fence against a client that tries to write anyway (fence-override)', () => {
  let cluster: LocalPostgresCluster;
  const REGION = 'us-east-1';
  beforeAll(async () => {
    cluster = await LocalPostgresCluster.start({ regions: REGIONS, instanceIdentifier: id });
    await cluster.prepareHeartbeats(REGION);
    const c = await client(cluster, REGION, 'mlp_tracking');
    await c.query('CREATE TABLE runs (id int)');
    await c.end();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  const plane = () => directDatabasePlane(async (endpoint) => cluster.clientConfig(endpoint.region, { user: DRILL_USER }));
  const endpoint = (region: string) => ({ region, instanceIdentifier: id(region), host: '127.0.0.1', port: cluster.server(region).port });

  test('the roles are those RDS gives: the master is not a superuser, the runbook role administers the application roles only', async () => {
    const roles = await cluster.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolcanlogin: boolean }>(
      REGION,
      'SELECT rolname, rolsuper, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
      [[MASTER_USER, DRILL_USER, ...APPLICATION_ROLES]],
    );
    expect(roles.filter((r) => r.rolsuper)).toEqual([]);
    expect(roles.find((r) => r.rolname === DRILL_USER)).toMatchObject({ rolcreaterole: true, rolcanlogin: true });
    expect(roles.filter((r) => APPLICATION_ROLES.includes(r.rolname)).map((r) => [r.rolname, r.rolcreaterole, r.rolcanlogin])).toEqual(
      [...APPLICATION_ROLES].sort().map((r) => [r, false, true]),
    );
    const [me] = await cluster.query<{ rolsuper: boolean }>(REGION, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user', [], {
      user: DRILL_USER,
    });
    expect(me?.rolsuper).toBe(false);
  });

  test('the old fence (default_transaction_read_only) does not hold: every override attempt writes', async () => {
    // GIVEN a client connected before the old fence, which ran as the master (the owner of the database)
    const existing = await client(cluster, REGION);
    await cluster.query(REGION, `ALTER DATABASE ${DRILL_DATABASE} SET default_transaction_read_only = on`);
    // WHEN it and new connections try to write
    const accepted = await overrideAttempts(cluster, REGION, existing);
    await existing.end().catch(() => undefined);
    // Lifted as the old unfence did: this session starts read-only too, while the setting holds.
    const master = new pg.Client(cluster.clientConfig(REGION));
    await master.connect();
    await master.query('SET default_transaction_read_only = off');
    await master.query(`ALTER DATABASE ${DRILL_DATABASE} RESET default_transaction_read_only`);
    await master.end();
    // THEN every attempt wrote
    expect(accepted).toEqual([
      'existing session, SET default_transaction_read_only = off',
      'new connection, BEGIN READ WRITE',
      'new connection, SET default_transaction_read_only = off',
      'second database (mlp_tracking)',
    ]);
  });

  test('the new fence holds: the session is gone, no new connection, in no database; unfence lets clients in again', async () => {
    // GIVEN a client connected to each database
    const existing = await client(cluster, REGION);
    const other = await client(cluster, REGION, 'mlp_tracking');
    // WHEN the runbook role fences
    const { terminatedSessions } = await plane().fence(endpoint(REGION));
    // THEN both sessions were ended, and nothing the client tries writes
    expect(terminatedSessions).toBeGreaterThanOrEqual(2);
    await expect(other.query('SELECT 1')).rejects.toThrow();
    expect(await overrideAttempts(cluster, REGION, existing)).toEqual([]);
    await expect(client(cluster, REGION, 'mlp_tracking')).rejects.toThrow(/not permitted to log in/);
    const loginable = await cluster.query<{ rolname: string }>(
      REGION,
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1) AND rolcanlogin',
      [[...APPLICATION_ROLES]],
    );
    expect(loginable).toEqual([]);
    // AND unfencing lets the client write again
    await plane().unfence(endpoint(REGION));
    const back = await client(cluster, REGION);
    await back.query(HEARTBEAT_SQL.insert, ['override', 10, new Date().toISOString(), REGION]);
    await back.end();
  });

  test('a replica promoted after a planned fence inherits NOLOGIN, and the unfence after promotion lifts it', async () => {
    await plane().fence(endpoint(REGION));
    const standby = 'us-west-2';
    const canLogin = async () =>
      (
        await cluster.query<{ n: number }>(standby, 'SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1) AND rolcanlogin', [
          [...APPLICATION_ROLES],
        ])
      )[0]?.n;
    for (let i = 0; i < 50 && (await canLogin()) !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await canLogin()).toBe(0);
    await cluster.promote(standby);
    await expect(client(cluster, standby)).rejects.toThrow(/not permitted to log in/);
    await plane().unfence(endpoint(standby));
    const c = await client(cluster, standby);
    await c.query(HEARTBEAT_SQL.insert, ['promoted', 1, new Date().toISOString(), standby]);
    await c.end();
    // The old primary stays fenced.
    await expect(client(cluster, REGION)).rejects.toThrow(/not permitted to log in/);
  });
});
