/** Every minute in every region: the write gate's lease, and the fence a superseded primary owes. */
import { setCacheAccess } from '../../core/cache-access';
import { withinSeconds } from '../../core/deadline';
import type { RunbookDeps } from '../../core/env';
import { describeRegionDatabase } from '../../core/regional-database';
import {
  clearFenceRequest,
  extendGate,
  type GateItem,
  readFenceRequest,
  readGate,
  writeFenceRequest,
  writeGate,
} from '../../core/state-table';
import type { Step } from '../../core/step';
import { type LeaseRenewal, renewLease } from '../../core/tier-lock';
import { WRITE_LEASE } from '../../definitions/catalogue';
import { publishGate } from './plan';

type GateOthers = readonly { other: string; gate?: GateItem }[];

/**
 * The renewal half of a pass: the other regions' gates and the lease, decided within
 * `WRITE_LEASE.renewalDeadlineSeconds`. A renewal that has not answered by then counts as lost
 * (a region that hangs instead of refusing must not stretch the self-fencing bound); what it was
 * still writing can only add a renewal under the old epoch, which the failover's newer epoch refuses.
 */
async function renewWithinDeadline(deps: RunbookDeps, gate: GateItem): Promise<{ others: GateOthers; lease?: LeaseRenewal } | 'late'> {
  const { region, stateTable, regions } = deps.env;
  const work = (async () => {
    const others = await Promise.all(
      regions
        .filter((other) => other !== region)
        // Within a quarter of the deadline each (reads, writes and re-reads follow one another): a region
        // that does not answer in time is one whose gate is unknown.
        .map(async (other) => ({
          other,
          gate: await withinSeconds(readGate(deps, other, stateTable), WRITE_LEASE.renewalDeadlineSeconds / 4),
        })),
    );
    const newer = others.find((o) => o.gate?.open && o.gate.updatedAt > gate.updatedAt);
    return { others, lease: newer ? undefined : await renewLease(deps, gate) };
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), WRITE_LEASE.renewalDeadlineSeconds * 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

/**
 * The gate keeper: republish this region's recorded gate every `WRITE_LEASE.renewalSeconds`, so an
 * open gate is a lease (`WRITE_LEASE`), renewed in the tier's state tables; each renewal that reaches
 * a quorum keeps the gate served open (`openUntil`) until the next is due. An open gate is kept only while the lease is:
 * - another region's gate was opened after it (a former primary that comes back after an unplanned
 *   failover whose gate could not be closed then);
 * - the lease cannot be renewed in a quorum of the tier's tables (the region is cut off), or a newer
 *   epoch holds it in any table (an unplanned failover revoked it).
 * Then it closes its own gate and owes a fence of its database and its cache (the fence owed is
 * retried every minute until it lands), so a client still pinned to it cannot write there either. Regions that
 * do not answer count against the lease; a gate is never closed on another region's guess.
 */
export const refreshGate: Step<
  Record<string, never>,
  { open: boolean; supersededBy?: string; fenced?: string; lease?: { renewed: readonly string[]; held: boolean } }
> = async (_event, deps) => {
  const { region, stateTable, regions } = deps.env;
  const passBegan = deps.now();
  const gate = await readGate(deps, region, stateTable);
  let open = gate?.open === true;
  let supersededBy: string | undefined;
  let lease: LeaseRenewal | undefined;
  if (gate && open) {
    const renewal = await renewWithinDeadline(deps, gate);
    const newer = renewal === 'late' ? undefined : renewal.others.find((o) => o.gate?.open && o.gate.updatedAt > gate.updatedAt);
    lease = renewal === 'late' ? undefined : renewal.lease;
    const lost =
      renewal === 'late'
        ? `the write lease was lost: not renewed within ${WRITE_LEASE.renewalDeadlineSeconds} s`
        : newer
          ? newer.other
          : lease && !lease.held
            ? lease.superseded.length > 0
              ? `the write lease is revoked: ${lease.superseded.map((s) => `${s.lease?.region ?? 'another region'} holds it under epoch ${s.lease?.epoch ?? '?'} in ${s.region}`).join(', ')}`
              : `the write lease was lost: renewed in ${lease.renewed.length} of ${deps.env.stateRegions.length} state tables, ${lease.quorum} needed`
            : undefined;
    if (lost) {
      // The database to fence is the one that was primary here, whatever replaces it later.
      const instanceIdentifier = (await describeRegionDatabase(deps, region)).identifier;
      await writeFenceRequest(deps, region, stateTable, { instanceIdentifier, supersededBy: lost });
      await writeGate(deps, region, stateTable, false, gate.epoch);
      open = false;
      supersededBy = lost;
    } else if (lease?.held) {
      // Served open until the next renewal is due, counted from before this one began.
      await extendGate(deps, region, stateTable, gate, new Date(passBegan.getTime() + WRITE_LEASE.gateValiditySeconds * 1000));
    }
  }
  const leaseOut = lease ? { lease: { renewed: lease.renewed, held: lease.held } } : {};
  await publishGate(deps, region, open);
  const owed = await readFenceRequest(deps, region, stateTable);
  if (!owed) return supersededBy ? { open, supersededBy, ...leaseOut } : { open, ...leaseOut };
  const id = owed.instanceIdentifier;
  // The fence owed is done, or there is nothing left to fence: the request is cleared.
  const fenceDone = async (fenced: string) => {
    await clearFenceRequest(deps, region, stateTable);
    return { open, supersededBy: owed.supersededBy, fenced, ...leaseOut };
  };
  const database = await describeRegionDatabase(deps, region, id).catch((error: Error) => {
    if (/NotFound/.test(error.name)) return undefined; // retired since: nothing left to fence
    throw error;
  });
  if (!database) return fenceDone(`${id} no longer exists`);
  if (database.engine === 'aurora-postgresql-global' && database.member && !database.writer) {
    // Aurora rejoined it as a secondary: read-only storage, nothing to fence (the cache still is).
    const cache = await setCacheAccess(deps, region, 'fenced');
    return fenceDone(`${id} is a secondary of ${database.globalClusterId} again (read-only); ${cache}`);
  }
  const { terminatedSessions } = await deps.database.fence(database.endpoint);
  // Its cache holds what it had when it was cut off: no client reads it again until the region is primary again.
  const cache = await setCacheAccess(deps, region, 'fenced');
  return fenceDone(
    `${id} fenced (application roles NOLOGIN), ${terminatedSessions} session(s) ended; ${cache}: ${regions.includes(owed.supersededBy) ? `${owed.supersededBy} took the primary` : owed.supersededBy}`,
  );
};

export type GateKeeperPass = Awaited<ReturnType<typeof refreshGate>>;

/**
 * One scheduled invocation of the gate keeper: `WRITE_LEASE.passesPerInvocation` passes of
 * RefreshGate, `renewalSeconds` apart from the invocation's start (EventBridge Scheduler invokes at
 * most once a minute; the lease needs a renewal every 20 s). A pass that overruns its slot is
 * followed at once by the next; a pass that fails does not skip the next, and the invocation then
 * fails with the first error, after every pass has run. `sleep` is injected so a test need not wait.
 */
export function gateKeeperInvocation(
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Step<Record<string, never>, { passes: readonly GateKeeperPass[] }> {
  return async (event, deps) => {
    const started = deps.now().getTime();
    const passes: GateKeeperPass[] = [];
    const errors: unknown[] = [];
    for (let pass = 0; pass < WRITE_LEASE.passesPerInvocation; pass++) {
      const slot = started + pass * WRITE_LEASE.renewalSeconds * 1000;
      const wait = slot - deps.now().getTime();
      if (wait > 0) await sleep(wait);
      await refreshGate(event, deps).then(
        (outcome) => passes.push(outcome),
        (error: unknown) => errors.push(error),
      );
    }
    if (errors.length > 0) throw errors[0];
    return { passes };
  };
}
