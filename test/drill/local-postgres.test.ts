import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { directDatabasePlane } from '../../runbooks/core/database';
import { DRILL_DATABASE, LocalPostgresCluster } from '../../runbooks/drill/local-postgres';
import { findCacheServer } from '../../runbooks/drill/local-redis';

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
  beforeAll(async () => {
    cluster = await LocalPostgresCluster.start({ regions: REGIONS, instanceIdentifier: id });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const plane = () => directDatabasePlane(async (endpoint) => cluster.clientConfig(endpoint.region), DRILL_DATABASE);
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
    await cluster.promote('us-west-2');
    await plane().writeHeartbeat(endpoint('us-west-2'), 'platform', 2, new Date().toISOString());
    // The old primary still accepts writes: nothing stopped it yet.
    await plane().writeHeartbeat(endpoint('us-east-1'), 'platform', 3, new Date().toISOString());
    await plane().fence(endpoint('us-east-1'));
    await expect(plane().writeHeartbeat(endpoint('us-east-1'), 'platform', 4, new Date().toISOString())).rejects.toThrow(/read-only/);
  });

  test('a killed region does not answer', async () => {
    cluster.kill('us-east-1');
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
