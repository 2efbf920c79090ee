/** Phase 2: the runbook lock and its epoch. */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { ERROR, fail } from '../../core/errors';
import { readGate, readLock, releaseLock, takeLock } from '../../core/state-table';
import { aws, type Step } from '../../core/step';

import type { FailoverState } from './plan';
/**
 * Take the runbook lock in this region. An execution still running elsewhere holds it: refused.
 * A lock left by an execution that died is taken over; the same execution asking again keeps it.
 */
export const acquireLock: Step<FailoverState, { epoch: number; owner: string }> = async ({ execution }, deps) => {
  const { env } = deps;
  const current = await readLock(deps, env.region, env.stateTable);
  if (current?.owner === execution.id) return { epoch: current.epoch, owner: execution.id };
  let stale: string | undefined;
  if (current) {
    const status = await aws(env.region, () =>
      deps.clients.sfn(env.region).send(new DescribeExecutionCommand({ executionArn: current.owner })),
    )
      .then((out) => out.status)
      .catch((error: Error) => {
        // Only an owner Step Functions does not know is gone; any other error leaves the lock where it is.
        if (error.name === 'ExecutionDoesNotExist') return 'GONE';
        throw error;
      });
    if (status === 'RUNNING')
      fail(ERROR.lockHeld, `execution ${current.owner} holds the runbook lock (epoch ${current.epoch}) and is still running`);
    stale = current.owner;
  }
  // The newest epoch any region's gate was set under; regions that do not answer are skipped.
  const gates = await Promise.all(env.regions.map((region) => readGate(deps, region, env.stateTable).catch(() => undefined)));
  const newest = Math.max(0, ...gates.map((gate) => gate?.epoch ?? 0));
  const epoch = await takeLock(deps, env.region, env.stateTable, execution.id, stale, newest);
  return { epoch, owner: execution.id };
};

export const releaseRunbookLock: Step<FailoverState, { released: boolean }> = async ({ execution }, deps) => ({
  released: await releaseLock(deps, deps.env.region, deps.env.stateTable, execution.id),
});
