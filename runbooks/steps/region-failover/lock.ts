/** Phase 2: the runbook lock of the tier and its epoch. */

import type { Step } from '../../core/step';
import { releaseTierLock, type TierLock, takeTierLock } from '../../core/tier-lock';

import type { FailoverState } from './plan';
/**
 * Take the tier's runbook lock (a quorum of the regions' state tables, `tier-lock.ts`). An execution
 * still running anywhere holds it: refused, naming it. A lock left by an execution that ended is
 * taken over; the same execution asking again keeps it.
 */
export const acquireLock: Step<FailoverState, TierLock> = async ({ state, execution }, deps) =>
  takeTierLock(deps, execution.id, state.input.mode === 'planned' ? 'planned' : 'unplanned');

export const releaseRunbookLock: Step<FailoverState, { released: boolean; regions: string[]; unreachable: string[] }> = async (
  { execution },
  deps,
) => {
  const { released, unreachable } = await releaseTierLock(deps, execution.id);
  return { released: released.length > 0, regions: released, unreachable };
};
