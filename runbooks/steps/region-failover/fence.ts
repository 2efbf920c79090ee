/** Phase 3: fence the old primary; in planned mode, wait until the target has caught up; in unplanned mode, wait out its lease. */
import { UpdateJobQueueCommand } from '@aws-sdk/client-batch';
import { setCacheAccess } from '../../core/cache-access';
import type { HeartbeatMark } from '../../core/database';
import { ERROR, fail } from '../../core/errors';
import { writeGate } from '../../core/state-table';
import { type Attempt, attempt, aws, parameter, type Step } from '../../core/step';
import { assertTierLockHeld, revokeLease } from '../../core/tier-lock';
import { WRITE_LEASE } from '../../definitions/catalogue';

import { type FailoverState, lockModeOf, lockOf, planOf, publishGate } from './plan';
/**
 * Fence the old primary before anything is promoted: close its write gate, make its database
 * NOLOGIN for every application role and end their sessions, stop its Batch queues. Planned mode needs every fence; in
 * unplanned mode each is tried once and what could not be reached is recorded for the report.
 */
export const fenceSource: Step<FailoverState, NonNullable<FailoverState['fence']>> = async ({ state, execution }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  await assertTierLockHeld(deps, execution.id, epoch, lockModeOf(state));
  const source = plan.source;
  if (plan.alreadyPromoted || plan.sourceRegion === plan.targetRegion) return { attempts: [], fenced: true, leaseWaitSeconds: 0 };
  // Unplanned: revoke the old primary's write lease under this epoch wherever the tables answer, so its
  // next renewal fails and it fences itself (RefreshGate) within WRITE_LEASE.boundSeconds.
  const revoked = plan.mode === 'unplanned' ? await revokeLease(deps, plan.targetRegion, epoch, source.region) : undefined;
  const attempts: Attempt[] = [
    await attempt('close the write gate', source.region, async () => {
      await writeGate(deps, source.region, deps.env.stateTable, false, epoch);
      await publishGate(deps, source.region, false);
      return `gate of ${source.region} closed under epoch ${epoch}`;
    }),
    await attempt('fence the database: application roles NOLOGIN, their sessions ended', source.region, async () => {
      const endpoint = source.endpoint ?? fail(ERROR.unreachable, `${source.instanceIdentifier} was not reachable at preflight`);
      const { terminatedSessions } = await deps.database.fence(endpoint);
      return `${source.instanceIdentifier} fenced (application roles NOLOGIN), ${terminatedSessions} session(s) ended`;
    }),
    // Planned too: clients keep writing where the write names pointed for their TTL, and what the old
    // primary's cache acknowledged after its last replication is dropped when it becomes a replica.
    await attempt('fence the cache (its application user can neither log in nor run a command)', source.region, () =>
      setCacheAccess(deps, source.region, 'fenced'),
    ),
    await attempt('disable the Batch queues', source.region, async () => {
      const queues = (await parameter(deps, source.region, 'compute', 'batch-queues')).split(',').filter(Boolean);
      for (const jobQueue of queues) {
        await aws(source.region, () => deps.clients.batch(source.region).send(new UpdateJobQueueCommand({ jobQueue, state: 'DISABLED' })));
      }
      return `${queues.length} queue(s) disabled`;
    }),
  ];
  const fenced = attempts.every((a) => a.ok);
  if (plan.mode === 'planned' && !fenced) {
    fail(
      ERROR.preflightFailed,
      `planned mode could not fence ${source.region}: ${attempts
        .filter((a) => !a.ok)
        .map((a) => a.detail)
        .join('; ')}`,
    );
  }
  let sourceLast: HeartbeatMark | undefined;
  if (plan.mode === 'planned' && source.endpoint) {
    sourceLast = await deps.database.latestHeartbeat(source.endpoint);
  }
  // A source this execution could not fence is excluded by time: it has fenced itself by the bound after
  // its last renewal that reached a quorum, when the revoked tables tell that time; after the revocation otherwise.
  const leaseWaitFrom = revoked?.lastRenewal ?? revoked?.since ?? deps.now().toISOString();
  const leaseExpiresAt = new Date(Date.parse(leaseWaitFrom) + WRITE_LEASE.boundSeconds * 1000).toISOString();
  const leaseWaitSeconds =
    plan.mode === 'unplanned' && !fenced ? Math.max(0, Math.ceil((Date.parse(leaseExpiresAt) - deps.now().getTime()) / 1000)) : 0;
  return {
    attempts,
    fenced,
    sourceLast,
    leaseRevokedIn: [...(revoked?.regions ?? [])],
    leaseWaitSeconds,
    leaseExpiresAt,
    leaseBoundFrom: revoked?.lastRenewal ? `the old primary's last renewal (${revoked.lastRenewal})` : `the revocation (${leaseWaitFrom})`,
  };
};

/**
 * Unplanned mode, when the old primary could not be fenced: wait until its write lease has run out
 * (`WRITE_LEASE.boundSeconds` after its last renewal that reached a quorum, or after the revocation when
 * the revoked tables cannot tell), by when its own gate keeper has fenced it, so no
 * write it still accepts can be acknowledged after the promotion. Nothing to wait for otherwise.
 */
export const waitOutWriteLease: Step<FailoverState, { waitedUntil?: string; boundSeconds: number }> = async ({ state }, deps) => {
  const until = state.fence?.leaseExpiresAt;
  if (!until || !state.fence?.leaseWaitSeconds) return { boundSeconds: 0 };
  if (deps.now().getTime() < Date.parse(until)) {
    fail(
      ERROR.notReady,
      `the old primary's write lease runs until ${until} (${WRITE_LEASE.boundSeconds} s after ${state.fence.leaseBoundFrom})`,
    );
  }
  return { waitedUntil: until, boundSeconds: state.fence.leaseWaitSeconds };
};

/** Planned mode: the target holds the last heartbeat the fenced source acknowledged (lag 0 by heartbeat). */
export const checkCaughtUp: Step<FailoverState, { caughtUpAt: string; seq?: number }> = async ({ state }, deps) => {
  const plan = planOf(state);
  const wanted = state.fence?.sourceLast;
  if (!wanted || plan.alreadyPromoted) return { caughtUpAt: deps.now().toISOString(), seq: wanted?.seq };
  const onTarget = await deps.database.latestHeartbeat(plan.target);
  if (!onTarget || onTarget.seq < wanted.seq) {
    fail(
      ERROR.notReady,
      `${plan.target.instanceIdentifier} has heartbeat ${onTarget?.seq ?? 'none'}, the source acknowledged ${wanted.seq}`,
    );
  }
  return { caughtUpAt: deps.now().toISOString(), seq: onTarget?.seq };
};
