/** Phase 5: open the write gate, verify a write, scale up. */
import { DescribeNodegroupCommand, ListNodegroupsCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { setCacheAccess } from '../../core/cache-access';
import { ERROR, fail } from '../../core/errors';
import { describeDatabase } from '../../core/regional-database';
import { readPrimary, readScaledFor, writeGate, writePrimary, writeScaledFor } from '../../core/state-table';
import { aws, parameter, type Step } from '../../core/step';
import { assertTierLockHeld } from '../../core/tier-lock';
import { WRITE_LEASE } from '../../definitions/catalogue';
import { type FailoverState, lockModeOf, lockOf, planOf, publishGate, targetOf } from './plan';
/** Open the target's write gate, only under this execution's epoch and only once every promotion succeeded. */
export const openGate: Step<FailoverState, { openedAt: string; epoch: number }> = async ({ state, execution }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  await assertTierLockHeld(deps, execution.id, epoch, lockModeOf(state));
  const target = await describeDatabase(deps, targetOf(plan));
  if (!target.writer || target.transition) {
    fail(ERROR.verificationFailed, `${plan.target.instanceIdentifier} does not take writes yet: the gate stays closed`);
  }
  // A planned fence is a database setting the replica received before its promotion: undo it here.
  await deps.database.unfence(plan.target);
  // A region fenced when it was superseded (its cache too) takes writes again: its clients get the cache back.
  await setCacheAccess(deps, plan.targetRegion, 'application');
  const recorded = await readPrimary(deps, plan.targetRegion, deps.env.stateTable);
  if (recorded?.region !== plan.targetRegion || recorded.instanceIdentifier !== plan.target.instanceIdentifier) {
    await writePrimary(deps, plan.targetRegion, deps.env.stateTable, {
      region: plan.targetRegion,
      instanceIdentifier: plan.target.instanceIdentifier,
      epoch,
    });
  }
  // This execution's epoch revoked or took over the lease: served open until the region's gate keeper renews it.
  const openUntil = new Date(deps.now().getTime() + WRITE_LEASE.gateValiditySeconds * 1000);
  await writeGate(deps, plan.targetRegion, deps.env.stateTable, true, epoch, openUntil);
  await publishGate(deps, plan.targetRegion, true);
  return { openedAt: deps.now().toISOString(), epoch };
};

/**
 * A heartbeat written and read back through the new primary, and the data lost measured by
 * heartbeat: the platform writer's newest row on the new primary against the newest the old
 * primary acknowledged (planned), or against the decision time (unplanned: the old one is gone).
 */
export const verifyWrites: Step<FailoverState, Record<string, unknown>> = async ({ state }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  const writtenAt = deps.now();
  await deps.database.writeHeartbeat(plan.target, 'runbook', epoch, writtenAt.toISOString());
  const readBack = await deps.database.latestHeartbeat(plan.target, 'runbook');
  if (!readBack || readBack.seq < epoch) fail(ERROR.verificationFailed, `the verification heartbeat ${epoch} did not read back`);
  const lastReplicated = await deps.database.latestHeartbeat(plan.target);
  const acknowledged = state.fence?.sourceLast ?? plan.heartbeat.onSource;
  const lostWrites = acknowledged && lastReplicated ? Math.max(0, acknowledged.seq - lastReplicated.seq) : undefined;
  const lostSeconds =
    acknowledged && lastReplicated
      ? Math.max(0, (Date.parse(acknowledged.writtenAt) - Date.parse(lastReplicated.writtenAt)) / 1000)
      : lastReplicated
        ? Math.max(0, (Date.parse(plan.decidedAt) - Date.parse(lastReplicated.writtenAt)) / 1000)
        : undefined;
  return {
    writableAt: writtenAt.toISOString(),
    lastReplicated,
    acknowledgedOnSource: acknowledged,
    rpo: {
      lostWrites,
      lostSeconds,
      basis: acknowledged ? 'heartbeat acknowledged by the old primary' : 'decision time (the old primary did not answer)',
    },
  };
};

/** Seed 001: the region taking over grows by half. Node groups of the target's cluster, once per epoch. */
export const scaleTarget: Step<FailoverState, { scaled: { nodegroup: string; from: number; to: number }[] }> = async ({ state }, deps) => {
  const region = planOf(state).targetRegion;
  const primary = await readPrimary(deps, region, deps.env.stateTable);
  const done = await readScaledFor(deps, region, deps.env.stateTable);
  if (primary && done === primary.epoch) return { scaled: [] };
  const clusterName = await parameter(deps, region, 'compute', 'cluster-name');
  const eks = deps.clients.eks(region);
  const groups = (await aws(region, () => eks.send(new ListNodegroupsCommand({ clusterName })))).nodegroups ?? [];
  const scaled: { nodegroup: string; from: number; to: number }[] = [];
  for (const nodegroupName of groups) {
    const group = (await aws(region, () => eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName })))).nodegroup;
    const config = group?.scalingConfig;
    if (!config?.desiredSize || !config.maxSize) continue;
    const to = Math.min(config.maxSize, Math.ceil(config.desiredSize * 1.5));
    if (to === config.desiredSize) continue;
    await aws(region, () =>
      eks.send(new UpdateNodegroupConfigCommand({ clusterName, nodegroupName, scalingConfig: { ...config, desiredSize: to } })),
    );
    scaled.push({ nodegroup: nodegroupName, from: config.desiredSize, to });
  }
  if (primary) await writeScaledFor(deps, region, deps.env.stateTable, primary.epoch);
  return { scaled };
};
