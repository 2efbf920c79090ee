/**
 * One runbook lock and one write lease for the whole tier, held in the tier's regions' state tables
 * (and a two-region deployment's witness's: `RunbookEnv.stateRegions`, whose count the quorums below take).
 *
 * The lock: an execution claims the lock item of every reachable region's table, one table after
 * the other in home order, each with a conditional write, under an epoch above every epoch any
 * reachable table has seen (lock, counter, gate, lease, primary). It holds the lock once it holds
 * a quorum of tables (`lockQuorum`). Two executions racing claim the tables in the same order, so
 * the first reachable table they share decides: the loser holds nothing more, is refused with
 * `LockHeld` naming the owner, and the state machine releases whatever it took.
 *
 * The lease: the region whose write gate is open renews `lease` in every reachable table every
 * minute (RefreshGate) under its gate's epoch; an unplanned failover revokes it under its newer
 * epoch in the tables it holds the lock in. A primary that cannot renew in a quorum, or finds a
 * newer epoch anywhere, closes its gate and fences its own database (`WRITE_LEASE`).
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { RUNBOOK_TIMEOUT_SECONDS, type RunbookName } from '../../lib/config/naming';
import { WRITE_LEASE } from '../definitions/catalogue';
import { unlessLate, withinSeconds } from './deadline';
import type { RunbookDeps } from './env';
import { ERROR, fail, RunbookError } from './errors';
import {
  claimLock,
  type GateItem,
  type LeaseItem,
  type LockItem,
  readEpochCounter,
  readGate,
  readLease,
  readLock,
  readPrimary,
  releaseLock,
  writeLease,
  writeRevocation,
} from './state-table';
import { aws } from './step';

/** The modes that take the lock. */
export type LockMode = 'planned' | 'unplanned';

/**
 * How many of the tier's state tables (every region's, and a two-region deployment's witness's) an
 * execution must hold the lock in. Three tables or more: a majority, so any two holders share a table
 * and the lock survives the loss of a minority. Two tables (two regions, no witness): a majority of
 * two is both, which a region loss would make impossible; planned mode (both regions must answer
 * anyway) takes both, unplanned mode the target's own table alone. Every promoting execution then
 * runs in the one region that is not the primary, so its table still serialises them; what it cannot
 * stop is an operator starting a failover in a primary region cut off from the other (see RUNBOOKS.md).
 */
export function lockQuorum(tableCount: number, mode: LockMode): number {
  if (tableCount >= 3) return Math.floor(tableCount / 2) + 1;
  return mode === 'planned' ? tableCount : 1;
}

/**
 * How many state tables a primary must renew its lease in: a majority from three tables on; with two
 * (no witness), its own (renewing in the other region's table as well when it answers). A primary of
 * two regions without a witness cut off from the other region therefore keeps its lease: no region
 * can tell a partition from the other's loss without a third table.
 */
export function leaseQuorum(tableCount: number): number {
  return tableCount >= 3 ? Math.floor(tableCount / 2) + 1 : 1;
}

const isUnreachable = (error: unknown) => error instanceof RunbookError && error.name === ERROR.unreachable;

/** What one region's table holds, or that it did not answer. */
interface TableView {
  readonly region: string;
  readonly reachable: boolean;
  readonly lock?: LockItem;
  readonly newestEpoch: number;
}

async function viewOf(deps: RunbookDeps, region: string): Promise<TableView> {
  const table = deps.env.stateTable;
  try {
    const [lock, counter, gate, lease, primary] = await Promise.all([
      readLock(deps, region, table),
      readEpochCounter(deps, region, table),
      readGate(deps, region, table),
      readLease(deps, region, table),
      readPrimary(deps, region, table),
    ]);
    const epochs = [counter, lock?.epoch, gate?.epoch, lease?.epoch, primary?.epoch].map((e) => e ?? 0);
    return { region, reachable: true, lock, newestEpoch: Math.max(0, ...epochs) };
  } catch (error) {
    if (isUnreachable(error)) return { region, reachable: false, newestEpoch: 0 };
    throw error;
  }
}

/** The region an execution ARN names (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`). */
export function regionOfExecution(arn: string, fallback: string): string {
  return arn.split(':')[3] || fallback;
}

/** Lambda's maximum function timeout (15 minutes): an invocation a Task started ends by then. */
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * When an execution of `owner`'s state machine that claimed a lock at `since` has certainly ended:
 * Step Functions times it out at its state machine's `TimeoutSeconds`, and a Lambda invocation one of
 * its Tasks started runs at most Lambda's maximum timeout after that. Undefined for a state machine
 * that is not one of the runbooks (no bound known).
 */
export function ownerCertainlyEndedBy(owner: string, since: string): Date | undefined {
  const machine = owner.split(':')[6] ?? '';
  const runbook = (Object.keys(RUNBOOK_TIMEOUT_SECONDS) as RunbookName[]).find((r) => machine.endsWith(`-${r}`));
  const claimed = Date.parse(since);
  if (!runbook || Number.isNaN(claimed)) return undefined;
  return new Date(claimed + (RUNBOOK_TIMEOUT_SECONDS[runbook] + LAMBDA_MAX_TIMEOUT_SECONDS) * 1000);
}

/**
 * Whether the execution holding a lock (claimed at `since`, the newest claim seen) still runs, asked
 * in its own region. Only an execution Step Functions does not know, or one that has ended, has let
 * go. When its region does not answer, it has let go only once its state machine's timeout (and a
 * Lambda's) has certainly passed since it claimed the lock; until then the lock is held, and the
 * refusal says until when. Any other error (throttling, a denial) leaves the lock held.
 */
async function ownerRunning(deps: RunbookDeps, owner: string, since: string): Promise<boolean> {
  const region = regionOfExecution(owner, deps.env.region);
  const status = await aws(region, () => deps.clients.sfn(region).send(new DescribeExecutionCommand({ executionArn: owner })))
    .then((out) => out.status)
    .catch((error: Error) => {
      if (error.name === 'ExecutionDoesNotExist') return 'GONE';
      if (!isUnreachable(error)) throw error;
      const endedBy = ownerCertainlyEndedBy(owner, since);
      if (endedBy && deps.now() >= endedBy) return 'TIMED_OUT';
      return fail(
        ERROR.lockHeld,
        `execution ${owner} holds the runbook lock and its region ${region} does not answer; Step Functions ends it by ${endedBy?.toISOString() ?? 'an unknown time (not a runbook state machine)'} at the latest (its state machine's timeout and a Lambda's, from its claim at ${since}), and the lock can be taken over then`,
      );
    });
  return status === 'RUNNING' || status === 'PENDING_REDRIVE';
}

export interface TierLock {
  readonly epoch: number;
  readonly owner: string;
  /** The regions whose tables it holds the lock in. */
  readonly regions: readonly string[];
  readonly quorum: number;
}

/**
 * Take the tier's lock for `owner` (see the module comment). Refused with `LockHeld` naming the
 * owner when another execution still runs with the lock in any reachable table, or claims a table
 * first; `RegionUnreachable` when fewer tables answer than the quorum.
 */
export async function takeTierLock(deps: RunbookDeps, owner: string, mode: LockMode): Promise<TierLock> {
  const { stateRegions: regions, region: own, stateTable } = deps.env;
  const quorum = lockQuorum(regions.length, mode);
  const views = await Promise.all(regions.map((region) => viewOf(deps, region)));
  const reachable = views.filter((v) => v.reachable);
  const mustHoldOwn = regions.length < 3;
  if (reachable.length < quorum || (mustHoldOwn && !reachable.some((v) => v.region === own))) {
    fail(
      ERROR.unreachable,
      `the runbook lock needs ${quorum} of the ${regions.length} regions' state tables${mustHoldOwn ? ` including ${own}'s` : ''}; ${reachable.length} answered (${reachable.map((v) => v.region).join(', ') || 'none'})`,
    );
  }
  // Owners other than this execution: refused while one runs, taken over once it has ended.
  const stale = new Map<string, string>();
  const owners = [...new Set(reachable.map((v) => v.lock?.owner).filter((o): o is string => !!o && o !== owner))];
  for (const other of owners) {
    const claims = reachable.flatMap((v) => (v.lock?.owner === other ? [v.lock.since] : []));
    const newestClaim = claims.sort().at(-1) as string;
    if (await ownerRunning(deps, other, newestClaim)) {
      const where = reachable.filter((v) => v.lock?.owner === other).map((v) => `${v.region} (epoch ${v.lock?.epoch})`);
      fail(ERROR.lockHeld, `execution ${other} holds the runbook lock in ${where.join(', ')} and is still running`);
    }
  }
  for (const view of reachable) if (view.lock && view.lock.owner !== owner) stale.set(view.region, view.lock.owner);
  const epoch = 1 + Math.max(0, ...reachable.map((v) => v.newestEpoch));
  // One table after the other in home order: two racing executions meet first on the same table.
  const taken: string[] = [];
  for (const view of reachable) {
    let claimed: boolean;
    try {
      claimed = await claimLock(deps, view.region, stateTable, owner, epoch, stale.get(view.region));
    } catch (error) {
      if (isUnreachable(error)) continue; // it answered a moment ago; the quorum decides
      throw error;
    }
    if (claimed) {
      taken.push(view.region);
      continue;
    }
    const winner = await readLock(deps, view.region, stateTable).catch(() => undefined);
    // What it took is released by the state machine (ReleaseLock after a refusal).
    fail(
      ERROR.lockHeld,
      `execution ${winner?.owner ?? 'unknown'} claimed the runbook lock in ${view.region} first (epoch ${winner?.epoch ?? epoch}); this execution backs off${taken.length ? ` and releases ${taken.join(', ')}` : ''}`,
    );
  }
  if (taken.length < quorum || (mustHoldOwn && !taken.includes(own))) {
    fail(ERROR.unreachable, `the runbook lock was claimed in ${taken.join(', ') || 'no region'}; it needs ${quorum} of ${regions.length}`);
  }
  return { epoch, owner, regions: taken, quorum };
}

/** Fails with `StaleEpoch` unless `owner` still holds the lock under `epoch` in a quorum of the tier's tables. */
export async function assertTierLockHeld(deps: RunbookDeps, owner: string, epoch: number, mode: LockMode): Promise<void> {
  const { stateRegions: regions, region: own, stateTable } = deps.env;
  const quorum = lockQuorum(regions.length, mode);
  const locks = await Promise.all(
    regions.map(async (region) => ({
      region,
      lock: await readLock(deps, region, stateTable).catch((error) => {
        if (isUnreachable(error)) return null;
        throw error;
      }),
    })),
  );
  const held = locks.filter((l) => l.lock?.owner === owner && l.lock.epoch === epoch).map((l) => l.region);
  const other = locks.find((l) => l.lock && (l.lock.owner !== owner || l.lock.epoch !== epoch))?.lock;
  if (other && other.epoch > epoch) {
    fail(
      ERROR.staleEpoch,
      `the runbook lock is now held by ${other.owner} under epoch ${other.epoch}, newer than this execution's ${epoch}`,
    );
  }
  if (held.length < quorum || (regions.length < 3 && !held.includes(own))) {
    fail(
      ERROR.staleEpoch,
      `the runbook lock under epoch ${epoch} is held by this execution in ${held.join(', ') || 'no region'}; it needs ${quorum} of ${regions.length}${other ? ` (${other.owner} holds it under epoch ${other.epoch})` : ''}`,
    );
  }
}

/** Release the lock wherever `owner` holds it; regions that do not answer keep it until its owner is seen to have ended. */
export async function releaseTierLock(deps: RunbookDeps, owner: string): Promise<{ released: string[]; unreachable: string[] }> {
  const results = await Promise.all(
    deps.env.stateRegions.map(async (region) => {
      try {
        return { region, ok: await releaseLock(deps, region, deps.env.stateTable, owner) };
      } catch (error) {
        if (isUnreachable(error)) return { region, ok: undefined };
        throw error;
      }
    }),
  );
  return {
    released: results.filter((r) => r.ok === true).map((r) => r.region),
    unreachable: results.filter((r) => r.ok === undefined).map((r) => r.region),
  };
}

export interface LeaseRevocation {
  /** The regions whose tables hold the revocation. */
  readonly regions: readonly string[];
  /** When the revocation was first recorded in the holder's own table (now, when this is the first). */
  readonly since: string;
  /**
   * The newest renewal of `source`'s lease that the revoked tables had taken, when those tables meet
   * every quorum `source` could have renewed in: no renewal of it reached a quorum after this, so it
   * has fenced itself by this time plus the bound. Unknown otherwise.
   */
  readonly lastRenewal?: string;
}

/** Whether a set of tables shares a table with every quorum a lease holder can renew in (`leaseQuorum`). */
export function meetsEveryLeaseQuorum(tables: readonly string[], regions: readonly string[], holder: string): boolean {
  if (regions.length < 3) return tables.includes(holder);
  return tables.length >= regions.length - leaseQuorum(regions.length) + 1;
}

/** Attempts at revoking one table whose lease keeps changing under the revocation (a renewal landing in between). */
const REVOCATION_ATTEMPTS = 3;

/**
 * Revoke `source`'s write lease for `holder` under `epoch` wherever it can be written: the old
 * primary's next renewal then fails in those tables. Each table keeps the lease it replaced, so the
 * failover knows the last renewal the old primary made before it (`LeaseRevocation.lastRenewal`). A
 * table an earlier execution of the same failover already revoked (the lease is the holder's) keeps
 * that revocation and its time: the bound runs from the first one, so a re-run does not wait again.
 */
export async function revokeLease(deps: RunbookDeps, holder: string, epoch: number, source: string): Promise<LeaseRevocation> {
  const { stateTable, stateRegions: regions } = deps.env;
  type Outcome = { ok: boolean; since?: string; replaced?: { region: string; renewedAt: string } };
  const revokeIn = async (region: string): Promise<Outcome> => {
    for (let attempt = 0; attempt < REVOCATION_ATTEMPTS; attempt++) {
      const lease = await readLease(deps, region, stateTable);
      if (lease?.region === holder) return { ok: true, since: lease.renewedAt, replaced: lease.revoked };
      if (await writeRevocation(deps, region, stateTable, holder, epoch, lease)) {
        return { ok: true, replaced: lease && { region: lease.region, renewedAt: lease.renewedAt } };
      }
      if (lease && lease.epoch >= epoch) return { ok: false };
    }
    return { ok: false };
  };
  const results = await Promise.all(
    regions.map((region) =>
      revokeIn(region).catch((error: unknown): Outcome => {
        if (isUnreachable(error)) return { ok: false };
        throw error;
      }),
    ),
  );
  const revoked = regions.filter((_, i) => results[i]?.ok);
  const renewals = results
    .filter((r) => r.ok && r.replaced?.region === source)
    .map((r) => r.replaced?.renewedAt as string)
    .sort();
  const lastRenewal = meetsEveryLeaseQuorum(revoked, regions, source) ? renewals.at(-1) : undefined;
  const since = results[regions.indexOf(holder)]?.since ?? deps.now().toISOString();
  return lastRenewal ? { regions: revoked, since, lastRenewal } : { regions: revoked, since };
}

/**
 * The newest renewal of `holder`'s write lease that any table that answers holds (a revocation keeps the
 * lease it replaced): the last time the holder was seen alive and holding its gate.
 */
export async function lastRenewalOf(deps: RunbookDeps, holder: string): Promise<string | undefined> {
  const leases = await Promise.all(
    deps.env.stateRegions.map((region) => readLease(deps, region, deps.env.stateTable).catch(() => undefined)),
  );
  const renewals = leases.flatMap((lease) => [
    ...(lease?.region === holder ? [lease.renewedAt] : []),
    ...(lease?.revoked?.region === holder ? [lease.revoked.renewedAt] : []),
  ]);
  return renewals.sort().at(-1);
}

/**
 * When the failover to `target` began, as its table records it: the time the old primary's lease was
 * first revoked for it, or nothing when no failover to it has revoked one. An unplanned failover
 * measures the data at risk up to that moment, not up to whenever a re-run starts.
 */
export async function failoverBegan(deps: RunbookDeps, target: string): Promise<string | undefined> {
  const lease = await readLease(deps, target, deps.env.stateTable).catch(() => undefined);
  return lease?.region === target ? lease.renewedAt : undefined;
}

export interface LeaseRenewal {
  readonly renewed: readonly string[];
  readonly unreachable: readonly string[];
  /** Tables whose lease a newer epoch (or another region) holds. */
  readonly superseded: readonly { region: string; lease?: LeaseItem }[];
  readonly quorum: number;
  /** Renewed in a quorum and superseded nowhere. */
  readonly held: boolean;
}

/** Renew this region's write lease under its gate's epoch in every table that answers. */
export async function renewLease(deps: RunbookDeps, gate: GateItem): Promise<LeaseRenewal> {
  const { stateRegions: regions, region: own, stateTable } = deps.env;
  const quorum = leaseQuorum(regions.length);
  // Each table within its own share of the renewal deadline: a table that does not answer in time
  // counts as unreachable (a quorum decides; the revocation that could supersede this renewal has to
  // reach a quorum too, so it meets one of the tables that did answer).
  const share = WRITE_LEASE.renewalDeadlineSeconds / 4;
  const results = await Promise.all(
    regions.map(async (region) => {
      try {
        const ok = await unlessLate(writeLease(deps, region, stateTable, own, gate.epoch), share);
        return { region, ok };
      } catch (error) {
        if (isUnreachable(error)) return { region, ok: undefined };
        throw error;
      }
    }),
  );
  const renewed = results.filter((r) => r.ok === true).map((r) => r.region);
  const superseded = await Promise.all(
    results
      .filter((r) => r.ok === false)
      .map(async (r) => ({ region: r.region, lease: await withinSeconds(readLease(deps, r.region, stateTable), share) })),
  );
  const ownRenewed = regions.length >= 3 || renewed.includes(own);
  return {
    renewed,
    unreachable: results.filter((r) => r.ok === undefined).map((r) => r.region),
    superseded,
    quorum,
    held: renewed.length >= quorum && ownRenewed && superseded.length === 0,
  };
}
