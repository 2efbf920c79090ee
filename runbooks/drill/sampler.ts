import pg from 'pg';
import type { Invariant } from './scenarios';

/**
 * What a platform client finds when it tries to write to a region's PostgreSQL now, on a new connection:
 * - `writable`: the write was accepted;
 * - `refused`: the server answered and refused it (a replica, a read-only transaction, a NOLOGIN role, no privilege);
 * - `unreachable`: no answer to judge by (frozen, restarting, a timeout, a session ended mid-probe).
 */
export type WriteProbe = 'writable' | 'refused' | 'unreachable';

/** One instant of the drill as an omniscient observer sees it: every region's database and gate. */
export interface Sample {
  /** Wall time of the probes, and the drill clock's time (which jumps over modelled waits). */
  readonly at: number;
  readonly virtualAt: number;
  readonly probes: Readonly<Record<string, WriteProbe>>;
  /** Regions whose write gate was open both before and after the probes (a gate changing meanwhile is not judged). */
  readonly gatesOpen: readonly string[];
}

/** What the sampler watches: the drill world's regions, their servers and their gates. */
export interface SampledWorld {
  readonly regions: readonly string[];
  /** A region whose servers the drill froze: nothing answers there, so it is not probed. */
  isLost(region: string): boolean;
  gateOpen(region: string): boolean;
  /** A pg client config of a platform client (the application role) for a region's database. */
  clientConfig(region: string): pg.ClientConfig;
  now(): Date;
}

/** SQLSTATE classes of a refusal: 28 (authorization: NOLOGIN), 25006 (read-only transaction), 42501 (privilege). */
const REFUSALS = /^(28...|25006|42501)$/;

const PROBE_TIMEOUT_MS = 300;
export const SAMPLE_INTERVAL_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A write probe rolled back: proves the write would be accepted without leaving a row behind. */
export async function probeWrites(config: pg.ClientConfig): Promise<WriteProbe> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO mlp_dr.heartbeat (writer, seq, written_at, region) VALUES ($1, $2, $3, $4)', [
      'sampler',
      Date.now(),
      new Date().toISOString(),
      'probe',
    ]);
    await client.query('ROLLBACK');
    return 'writable';
  } catch (error) {
    return REFUSALS.test((error as { code?: string }).code ?? '') ? 'refused' : 'unreachable';
  } finally {
    await Promise.race([client.end().catch(() => undefined), sleep(100)]);
  }
}

/**
 * Samples, every 500 ms for the whole drill, whether each region's PostgreSQL takes a platform
 * client's write and whether its write gate is open: the facts behind the invariants every scenario
 * is judged on (at most one writable primary at any instant, no gate open on a database that refuses
 * writes).
 */
export class PrimarySampler {
  readonly samples: Sample[] = [];
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly world: SampledWorld) {}

  start(): this {
    this.running ??= this.loop();
    return this;
  }

  async stop(): Promise<readonly Sample[]> {
    this.stopped = true;
    await this.running;
    return this.samples;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      await this.sampleOnce();
      await sleep(Math.max(0, SAMPLE_INTERVAL_MS - (Date.now() - started)));
    }
  }

  private async sampleOnce(): Promise<void> {
    const { world } = this;
    const live = world.regions.filter((r) => !world.isLost(r));
    const openBefore = new Set(live.filter((r) => world.gateOpen(r)));
    const at = Date.now();
    const virtualAt = world.now().getTime();
    const results = await Promise.all(live.map((r) => probeWrites(world.clientConfig(r))));
    const probes: Record<string, WriteProbe> = Object.fromEntries(world.regions.map((r) => [r, 'unreachable' as WriteProbe]));
    live.forEach((r, i) => {
      probes[r] = results[i] as WriteProbe;
    });
    const gatesOpen = live.filter((r) => openBefore.has(r) && world.gateOpen(r));
    this.samples.push({ at, virtualAt, probes, gatesOpen });
  }
}

const writableIn = (s: Sample) => Object.keys(s.probes).filter((r) => s.probes[r] === 'writable');
const clock = (s: Sample, t0: number) => `+${((s.virtualAt - t0) / 1000).toFixed(1)} s`;

/** A region allowed to be writable beside the primary, on the drill clock: a former primary back from a loss, until it fences itself. */
export interface SelfFencingWindow {
  readonly region: string;
  readonly from: number;
  readonly until: number;
}

/**
 * The invariants every scenario is judged on from the samples; `t0` is the fault on the drill clock.
 * A sample with two writable databases is excused only while one of them is inside its self-fencing window.
 */
export function sampledInvariants(samples: readonly Sample[], t0: number, windows: readonly SelfFencingWindow[] = []): Invariant[] {
  const span = samples.length
    ? `${samples.length} samples from ${clock(samples[0] as Sample, t0)} to ${clock(samples.at(-1) as Sample, t0)}`
    : 'no sample';
  const excused = (s: Sample, region: string) =>
    windows.some((w) => w.region === region && s.virtualAt >= w.from && s.virtualAt <= w.until);
  const inWindow = samples.filter((s) => writableIn(s).length > 1 && writableIn(s).some((r) => excused(s, r)));
  const split = samples.filter((s) => writableIn(s).filter((r) => !excused(s, r)).length > 1);
  const misrouted = samples.flatMap((s) => s.gatesOpen.filter((r) => s.probes[r] === 'refused').map((region) => ({ s, region })));
  const regionsSeen = (list: readonly Sample[]) => [...new Set(list.flatMap(writableIn))];
  return [
    {
      name: 'at most one writable PostgreSQL primary among the regions at every sampled instant',
      held: samples.length > 0 && split.length === 0,
      detail: split.length
        ? `${split.length} of ${samples.length} samples saw ${regionsSeen(split).join(' and ')} writable at once, first at ${clock(split[0] as Sample, t0)}`
        : `${span}; writable over the run: ${regionsSeen(samples).join(', ') || 'none'}` +
          (inWindow.length
            ? `; ${inWindow.length} sample(s) with a former primary back from a loss still writable inside its self-fencing bound (${windows.map((w) => `${w.region} until ${clock({ virtualAt: w.until } as Sample, t0)}`).join(', ')})`
            : ''),
    },
    {
      name: 'no write gate open on a database that refuses writes (a replica or fenced) at any sampled instant',
      held: samples.length > 0 && misrouted.length === 0,
      detail: misrouted.length
        ? `${misrouted.length} sample(s): ${misrouted
            .slice(0, 3)
            .map(({ s, region }) => `${region} at ${clock(s, t0)}`)
            .join(', ')}`
        : `${span}; ${samples.filter((s) => s.gatesOpen.some((r) => s.probes[r] === 'unreachable')).length} sample(s) with an open gate on an unreachable database (not judged)`,
    },
  ];
}
