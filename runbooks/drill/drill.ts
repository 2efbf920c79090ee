import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { directDatabasePlane, HEARTBEAT_SQL, PLATFORM_WRITER } from '../core/database';
import type { LocalStateMachine, TaskRecord } from '../local/local-runbooks';
import { HOME, HOME_DB, SimulatedPlatform, STATE_TABLE, TARGET, TARGET_DB } from '../local/simulated-platform';
import { DRILL_DATABASE, DRILL_USER, LocalPostgresCluster } from './local-postgres';

export const DRILL_SCENARIOS = ['region-loss', 'planned-switchover', 'zombie-primary'] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

/** After the gate opens in AWS: the gate alarm's period, Route 53 reading it, and the record TTL (seed 002). */
export const DNS_TAIL_SECONDS = 60 + 30 + 60;
const HEARTBEAT_INTERVAL_MS = 100;
const RPO_OBJECTIVE_SECONDS = 60; // seed 003
const RTO_OBJECTIVE_SECONDS = 300; // seed 003

export interface DrillReport {
  readonly scenario: DrillScenario;
  readonly tier: string;
  readonly regions: readonly string[];
  readonly primaryBefore: string;
  readonly primaryAfter: string;
  readonly status: string;
  readonly rto: { readonly measuredSeconds?: number; readonly modelledAwsSeconds?: number; readonly objectiveSeconds: number };
  readonly rpo: {
    readonly lostWrites: number;
    readonly lostSeconds: number;
    readonly acknowledgedWrites: number;
    readonly objectiveSeconds: number;
  };
  readonly invariants: readonly { readonly name: string; readonly held: boolean; readonly detail: string }[];
  readonly steps: readonly {
    readonly name: string;
    readonly region: string;
    readonly start: string;
    readonly end: string;
    readonly outcome: string;
  }[];
}

interface Ack {
  readonly seq: number;
  readonly region: string;
  readonly at: number;
}

/**
 * The platform's writes during a drill: a heartbeat every 100 ms to the region whose write gate is
 * open, as clients following the gated DNS names would; every acknowledged write is recorded.
 */
class HeartbeatWriter {
  readonly acks: Ack[] = [];
  private seq = 0;
  private client?: { region: string; client: pg.Client };
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly cluster: LocalPostgresCluster,
    private readonly writeRegion: () => string | undefined,
    private readonly writer = PLATFORM_WRITER,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_INTERVAL_MS);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const region = this.writeRegion();
    const seq = ++this.seq;
    try {
      if (!region) return;
      if (this.client?.region !== region) {
        await closeQuietly(this.client?.client);
        const client = new pg.Client({ ...this.cluster.clientConfig(region), connectionTimeoutMillis: 500, query_timeout: 500 });
        client.on('error', () => undefined);
        this.client = { region, client };
        await client.connect();
      }
      await this.client.client.query(HEARTBEAT_SQL.insert, [this.writer, seq, new Date().toISOString(), region]);
      this.acks.push({ seq, region, at: Date.now() });
    } catch {
      await closeQuietly(this.client?.client);
      this.client = undefined;
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await sleep(10);
    await closeQuietly(this.client?.client);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Close a client without waiting on a server that may never answer (a frozen region). */
const closeQuietly = (client: pg.Client | undefined) =>
  client ? Promise.race([client.end().catch(() => undefined), sleep(200)]) : Promise.resolve();

/**
 * One drill: tier1 across us-east-1 (primary) and us-west-2, real PostgreSQL 17 servers streaming
 * between them, the synthesized RegionFailover run locally over the simulated control plane, a fault
 * injected, and RTO and RPO measured on the real servers.
 */
export async function runDrill(
  scenario: DrillScenario,
  machines: Readonly<Record<string, LocalStateMachine>>,
  log: (line: string) => void,
): Promise<DrillReport> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  const cluster = await LocalPostgresCluster.start({
    regions: [HOME, TARGET],
    instanceIdentifier: (r) => (r === HOME ? HOME_DB : TARGET_DB),
  });
  log(`${elapsed()}  PostgreSQL 17 primary in ${HOME} and streaming standby in ${TARGET} started on loopback`);
  const plane = directDatabasePlane(
    async (endpoint) => ({
      host: endpoint.host,
      port: endpoint.port,
      user: DRILL_USER,
      database: DRILL_DATABASE,
      connectionTimeoutMillis: 1_000,
      query_timeout: 2_000,
    }),
    DRILL_DATABASE,
  );
  const platform = new SimulatedPlatform(machines, plane);
  try {
    for (const [region, id] of [
      [HOME, HOME_DB],
      [TARGET, TARGET_DB],
    ] as const) {
      platform.setEndpoint(id, '127.0.0.1', cluster.server(region).port);
    }
    // The real standby starts promoting when RDS is asked to; RDS reports the instance available
    // once the modelled duration has passed and the real server takes writes.
    const promoted = new Set<string>();
    platform.aws.onPromotionRequested = (instance) => {
      void cluster.promote(instance.region).then(() => promoted.add(instance.id));
    };
    platform.aws.dataPlanePromoted = (instance) => promoted.has(instance.id);
    platform.aws.onPromoted = () => undefined;
    await cluster.query(HOME, HEARTBEAT_SQL.schema);
    await cluster.query(HOME, HEARTBEAT_SQL.table);
    // The deployment as it stands: us-east-1's gate open, us-west-2's closed.
    platform.aws.tables.set(
      `${HOME}:${STATE_TABLE}`,
      new Map([['gate', { pk: { S: 'gate' }, open: { BOOL: true }, epoch: { N: '0' }, updatedAt: { S: '' } }]]),
    );
    const gateOpen = (region: string) =>
      !platform.aws.unreachable.has(region) && platform.aws.tables.get(`${region}:${STATE_TABLE}`)?.get('gate')?.open?.BOOL === true;
    const writeRegion = () => {
      const open = [HOME, TARGET].filter(gateOpen);
      return open.length === 1 ? open[0] : undefined;
    };
    const writer = new HeartbeatWriter(cluster, writeRegion);
    writer.start();
    await sleep(1_500);
    log(`${elapsed()}  heartbeat writer: ${writer.acks.length} writes acknowledged by ${HOME}, one every ${HEARTBEAT_INTERVAL_MS} ms`);

    const faultAt = Date.now();
    const virtualFault = platform.now();
    // A client that keeps writing to the old primary whatever DNS says (a stale cache, a pinned connection).
    const zombie = new HeartbeatWriter(cluster, () => HOME, 'zombie');
    if (scenario === 'region-loss') {
      cluster.kill(HOME);
      platform.aws.unreachable.add(HOME);
      log(`${elapsed()}  fault: ${HOME} lost (its PostgreSQL frozen mid-write, its AWS endpoints unreachable)`);
    } else if (scenario === 'zombie-primary') {
      // The link between the regions is cut: the standby stops receiving WAL, the old primary keeps
      // serving its clients. The runbook still reaches us-east-1's AWS endpoints (and its database agent).
      await cluster.query(TARGET, "ALTER SYSTEM SET primary_conninfo = ''");
      await cluster.query(TARGET, 'SELECT pg_reload_conf()');
      zombie.start();
      await sleep(1_000);
      log(`${elapsed()}  fault: replication from ${HOME} cut; ${HOME} keeps taking writes, and a client keeps writing to it directly`);
    }
    const ackedBeforeFault = writer.acks.filter((a) => a.region === HOME).length;
    const tasks: TaskRecord[] = [];
    let fencedAt: number | undefined;
    const mode = scenario === 'planned-switchover' ? 'planned' : 'unplanned';
    log(`${elapsed()}  RegionFailover ${mode} started in ${TARGET}`);
    const result = await platform.run(
      'mlp-tier1-region-failover',
      { mode, targetRegion: TARGET },
      {
        retryDelayMs: 50,
        onTask: (task) => {
          tasks.push(task);
          log(
            `${elapsed()}  ${task.state.padEnd(24)} ${task.outcome}${task.error ? ` (${task.error})` : ''}, modelled at ${((task.end.getTime() - virtualFault.getTime()) / 1000).toFixed(0)} s`,
          );
        },
      },
    );
    log(`${elapsed()}  RegionFailover ${result.status}${result.cause ? `: ${result.cause}` : ''}`);
    for (let i = 0; i < 50 && !writer.acks.some((a) => a.region === TARGET); i++) await sleep(100);
    await sleep(300); // the zombie keeps trying after the fence
    await writer.stop();
    await zombie.stop();
    const zombieAfterFence = zombie.acks.filter((a) => fencedAt !== undefined && a.at > fencedAt);

    const firstOnTarget = writer.acks.find((a) => a.region === TARGET);
    const onTarget = new Set(
      (await cluster.query<{ seq: string }>(TARGET, 'SELECT seq FROM mlp_dr.heartbeat WHERE writer = $1', [PLATFORM_WRITER])).map((r) =>
        Number(r.seq),
      ),
    );
    const ackedByHome = writer.acks.filter((a) => a.region === HOME);
    const lost = ackedByHome.filter((a) => !onTarget.has(a.seq));
    const lastKept = ackedByHome.filter((a) => onTarget.has(a.seq)).at(-1);
    const lastLost = lost.at(-1);
    const writable = tasks.find((t) => t.step === 'VerifyWrites' && t.outcome === 'succeeded');
    const modelled = writable ? (writable.end.getTime() - virtualFault.getTime()) / 1000 + DNS_TAIL_SECONDS : undefined;
    const invariants = [
      {
        name: 'no split brain: after the fence the old primary acknowledged no write, and no two regions took writes at once',
        held:
          zombieAfterFence.length === 0 &&
          !writer.acks.some((a) => a.region === HOME && firstOnTarget !== undefined && a.at >= firstOnTarget.at),
        detail: `${ackedByHome.length} writes acknowledged by ${HOME}, ${writer.acks.length - ackedByHome.length} by ${TARGET}${
          scenario === 'zombie-primary'
            ? `; ${zombie.acks.length} by ${HOME} from the zombie client, ${zombieAfterFence.length} of them after the fence`
            : ''
        }`,
      },
      {
        name: 'the write gate opened only on a writable primary',
        held:
          platform.aws.calls.every((c) => !(c.command === 'PutMetricData' && c.region === TARGET)) ||
          (await cluster.query<{ r: boolean }>(TARGET, 'SELECT pg_is_in_recovery() AS r'))[0]?.r === false,
        detail: `${TARGET} is ${(await cluster.query<{ r: boolean }>(TARGET, 'SELECT pg_is_in_recovery() AS r'))[0]?.r ? 'still a standby' : 'writable'}`,
      },
      {
        name: 'no call to the failed region was needed to complete',
        held:
          scenario !== 'region-loss' ||
          (result.status === 'SUCCEEDED' && platform.aws.calls.every((c) => c.region !== HOME || c.error !== undefined)),
        detail:
          scenario === 'region-loss'
            ? `${platform.aws.calls.filter((c) => c.region === HOME && c.error === undefined).length} successful calls to ${HOME} after the fault`
            : 'not applicable: the old region still answers in this scenario',
      },
      {
        name: scenario === 'planned-switchover' ? 'planned mode lost no acknowledged write' : 'data lost within the RPO objective',
        held:
          scenario === 'planned-switchover'
            ? lost.length === 0
            : (lastLost ? (lastLost.at - (lastKept?.at ?? faultAt)) / 1000 : 0) <= RPO_OBJECTIVE_SECONDS,
        detail: `${lost.length} acknowledged write(s) missing on ${TARGET}`,
      },
    ];
    return {
      scenario,
      tier: 'tier1',
      regions: [HOME, TARGET],
      primaryBefore: HOME,
      primaryAfter: result.status === 'SUCCEEDED' ? TARGET : HOME,
      status: result.status,
      rto: {
        measuredSeconds: firstOnTarget ? (firstOnTarget.at - faultAt) / 1000 : undefined,
        modelledAwsSeconds: modelled,
        objectiveSeconds: RTO_OBJECTIVE_SECONDS,
      },
      rpo: {
        lostWrites: lost.length,
        lostSeconds: lastLost ? (lastLost.at - (lastKept?.at ?? lastLost.at)) / 1000 + HEARTBEAT_INTERVAL_MS / 1000 : 0,
        acknowledgedWrites: ackedBeforeFault,
        objectiveSeconds: RPO_OBJECTIVE_SECONDS,
      },
      invariants,
      steps: tasks.map((t) => ({
        name: t.state,
        region: TARGET,
        start: t.start.toISOString(),
        end: t.end.toISOString(),
        outcome: t.outcome,
      })),
    };
  } finally {
    platform.restore();
    await cluster.stop();
  }
}

export function drillMarkdown(report: DrillReport): string {
  return [
    `# Drill ${report.scenario}: ${report.status === 'SUCCEEDED' && report.invariants.every((i) => i.held) ? 'passed' : 'FAILED'}`,
    '',
    `${report.tier} across ${report.regions.join(', ')}; primary ${report.primaryBefore} -> ${report.primaryAfter} (RegionFailover ${report.status}).`,
    '',
    '| | measured locally | modelled for AWS | objective |',
    '| --- | --- | --- | --- |',
    `| RTO | ${report.rto.measuredSeconds?.toFixed(1) ?? '-'} s | ${report.rto.modelledAwsSeconds?.toFixed(0) ?? '-'} s | ${report.rto.objectiveSeconds} s (manual runbooks: 900-1800 s, seed 003; 1380 s, seed 004) |`,
    `| RPO | ${report.rpo.lostWrites} of ${report.rpo.acknowledgedWrites} acknowledged writes, ${report.rpo.lostSeconds.toFixed(1)} s | - | ${report.rpo.objectiveSeconds} s |`,
    '',
    '## Invariants',
    '',
    ...report.invariants.map((i) => `- ${i.held ? 'held' : '**BROKEN**'}: ${i.name} (${i.detail})`),
    '',
    '## Steps (modelled AWS time)',
    '',
    '| step | region | start | end | outcome |',
    '| --- | --- | --- | --- | --- |',
    ...report.steps.map((s) => `| ${s.name} | ${s.region} | ${s.start} | ${s.end} | ${s.outcome} |`),
    '',
  ].join('\n');
}

export function writeDrillReport(report: DrillReport, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'report.md'), drillMarkdown(report));
}
