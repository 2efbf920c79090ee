/** Phase 4: promote every tier of the target, in parallel branches. */
import { UpdateJobQueueCommand } from '@aws-sdk/client-batch';
import {
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DisassociateGlobalReplicationGroupCommand,
  FailoverGlobalReplicationGroupCommand,
} from '@aws-sdk/client-elasticache';
import { DescribeClusterV2Command } from '@aws-sdk/client-kafka';
import { GetKeyspaceCommand } from '@aws-sdk/client-keyspaces';
import { FailoverGlobalClusterCommand, PromoteReadReplicaCommand, SwitchoverGlobalClusterCommand } from '@aws-sdk/client-rds';
import type { RunbookDeps } from '../../core/env';
import { ERROR, fail } from '../../core/errors';
import { describeDatabase, isWritablePrimary } from '../../core/regional-database';
import { readPromotion, writePromotion } from '../../core/state-table';
import { aws, parameter, type Step } from '../../core/step';
import { assertTierLockHeld } from '../../core/tier-lock';
import { type FailoverState, lockModeOf, lockOf, PROMOTING, planOf, targetOf } from './plan';
/**
 * Promote the target's database. RDS: PromoteReadReplica, keeping 35 days of automated backups.
 * Aurora: the global database's writer moves to the target cluster, with SwitchoverGlobalCluster
 * (planned: the secondaries synchronize first, no data is lost) or FailoverGlobalCluster with
 * AllowDataLoss (unplanned: the primary's region is lost; behind the same RPO guard and override).
 */
export const promotePostgres: Step<FailoverState, { requested: boolean; at: string }> = async ({ state, execution }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  await assertTierLockHeld(deps, execution.id, epoch, lockModeOf(state));
  const target = await describeDatabase(deps, targetOf(plan));
  const already = { requested: false, at: deps.now().toISOString() };
  if (target.writer) return already;
  const promotion = await readPromotion(deps, plan.targetRegion, deps.env.stateTable);
  const askedHere = promotion?.instanceIdentifier === plan.target.instanceIdentifier;
  if (plan.engine === 'aurora-postgresql-global') {
    if (target.transition) {
      if (target.transition.toArn === target.arn && askedHere) return already;
      fail(
        ERROR.notReady,
        `${plan.globalClusterId} is ${target.transition.status} toward ${target.transition.toArn}: Aurora takes one at a time`,
      );
    }
  } else if (target.status !== 'available') {
    // A promotion an earlier execution asked for keeps the replica's source while it is modifying.
    if (askedHere && PROMOTING.has(target.status)) return already;
    fail(ERROR.notReady, `${plan.target.instanceIdentifier} is ${target.status}: RDS promotes only an available replica`);
  }
  // Recorded first: an execution that dies after the call leaves a promotion the next one recognises.
  await writePromotion(deps, plan.targetRegion, deps.env.stateTable, {
    region: plan.targetRegion,
    instanceIdentifier: plan.target.instanceIdentifier,
    sourceRegion: plan.sourceRegion,
    sourceInstanceIdentifier: plan.source.instanceIdentifier,
    epoch,
  });
  const rds = deps.clients.rds(plan.targetRegion);
  if (plan.engine === 'aurora-postgresql-global') {
    const ids = { GlobalClusterIdentifier: plan.globalClusterId, TargetDbClusterIdentifier: target.arn };
    await aws(plan.targetRegion, () =>
      rds.send(
        plan.mode === 'planned'
          ? new SwitchoverGlobalClusterCommand(ids)
          : new FailoverGlobalClusterCommand({ ...ids, AllowDataLoss: true }),
      ),
    );
  } else {
    await aws(plan.targetRegion, () =>
      rds.send(
        new PromoteReadReplicaCommand({
          DBInstanceIdentifier: plan.target.instanceIdentifier,
          BackupRetentionPeriod: 35,
          PreferredBackupWindow: '03:00-04:00',
        }),
      ),
    );
  }
  return { requested: true, at: deps.now().toISOString() };
};

/** Done when the target takes writes: available and replicating nothing (RDS), the global database's writer with no operation under way (Aurora). */
export const checkPostgresPromoted: Step<FailoverState, { promotedAt: string }> = async ({ state }, deps) => {
  const plan = planOf(state);
  const target = await describeDatabase(deps, targetOf(plan));
  if (!isWritablePrimary(target)) {
    const why = target.transition
      ? `${plan.globalClusterId} is ${target.transition.status}`
      : `${target.status}${target.writer ? '' : ', still a replica'}`;
    fail(ERROR.notReady, `${plan.target.instanceIdentifier} is ${why}`);
  }
  return { promotedAt: deps.now().toISOString() };
};

/**
 * Make the target's cache writable. A Global Datastore member: planned, fail the datastore over to
 * it; unplanned (the old primary is gone), detach it as a standalone group. A regional cache (a
 * third or later region) holds no replicated data to promote: nothing to do, it warms from the
 * feature store.
 */
export const promoteCache: Step<FailoverState, { action: string }> = async ({ state }, deps) => {
  const plan = planOf(state);
  const region = plan.targetRegion;
  if (!plan.cache.isMember) return { action: 'none: a regional cache, warmed from the feature store' };
  const client = deps.clients.elasticache(region);
  const global = await describeGlobal(deps, region, plan.cache.globalId);
  const member = global?.Members?.find((m) => m.ReplicationGroupId === plan.cache.groupId);
  if (!global || !member) return { action: `none: ${plan.cache.groupId} is already standalone` };
  if (member.Role === 'PRIMARY') return { action: `none: ${plan.cache.groupId} is already the datastore's primary` };
  // An earlier execution asked for it; ElastiCache refuses a second request while the datastore is modifying.
  if (member.Status === 'disassociating') return { action: `none: ${plan.cache.groupId} is already leaving ${plan.cache.globalId}` };
  if (plan.mode === 'planned') {
    await aws(region, () =>
      client.send(
        new FailoverGlobalReplicationGroupCommand({
          GlobalReplicationGroupId: plan.cache.globalId,
          PrimaryRegion: region,
          PrimaryReplicationGroupId: plan.cache.groupId,
        }),
      ),
    );
    return { action: `failover of ${plan.cache.globalId} to ${plan.cache.groupId}` };
  }
  await aws(region, () =>
    client.send(
      new DisassociateGlobalReplicationGroupCommand({
        GlobalReplicationGroupId: plan.cache.globalId,
        ReplicationGroupId: plan.cache.groupId,
        ReplicationGroupRegion: region,
      }),
    ),
  );
  return { action: `${plan.cache.groupId} detached from ${plan.cache.globalId}` };
};

async function describeGlobal(deps: RunbookDeps, region: string, globalId: string) {
  const out = await aws(region, () =>
    deps.clients
      .elasticache(region)
      .send(new DescribeGlobalReplicationGroupsCommand({ GlobalReplicationGroupId: globalId, ShowMemberInfo: true })),
  ).catch((error: Error) => {
    if (error.name === 'GlobalReplicationGroupNotFoundFault') return undefined;
    throw error;
  });
  return out?.GlobalReplicationGroups?.[0];
}

/** Done when the target's group takes writes: the datastore's primary, or standalone and available. */
export const checkCachePromoted: Step<FailoverState, { writableAt: string }> = async ({ state }, deps) => {
  const plan = planOf(state);
  const region = plan.targetRegion;
  if (plan.cache.isMember) {
    const global = await describeGlobal(deps, region, plan.cache.globalId);
    const member = global?.Members?.find((m) => m.ReplicationGroupId === plan.cache.groupId);
    // `primary-only`: the datastore's secondaries are gone (disassociated); its primary takes writes.
    if (member && (member.Role !== 'PRIMARY' || !['available', 'primary-only'].includes(global?.Status ?? ''))) {
      fail(ERROR.notReady, `${plan.cache.groupId} is ${member.Role} of ${plan.cache.globalId} (${global?.Status})`);
    }
  }
  const out = await aws(region, () =>
    deps.clients.elasticache(region).send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: plan.cache.groupId })),
  );
  const status = out.ReplicationGroups?.[0]?.Status;
  if (status !== 'available') fail(ERROR.notReady, `${plan.cache.groupId} is ${status}`);
  return { writableAt: deps.now().toISOString() };
};

/**
 * The MSK states in which clients produce and consume (MSK Developer Guide, cluster states): besides
 * ACTIVE, an internal operation, maintenance, a broker reboot or an update leaves the cluster serving.
 */
const KAFKA_SERVING: ReadonlySet<string> = new Set(['ACTIVE', 'HEALING', 'MAINTENANCE', 'REBOOTING_BROKER', 'UPDATING']);

/** Kafka: the target's cluster takes the producers; its topics and offsets came by replication. */
export const checkKafka: Step<FailoverState, { cluster: string; state: string }> = async ({ state }, deps) => {
  const region = planOf(state).targetRegion;
  const clusterArn = await parameter(deps, region, 'kafka', 'cluster-arn');
  const out = await aws(region, () => deps.clients.kafka(region).send(new DescribeClusterV2Command({ ClusterArn: clusterArn })));
  const clusterState = out.ClusterInfo?.State ?? 'UNKNOWN';
  if (!KAFKA_SERVING.has(clusterState)) fail(ERROR.notReady, `MSK cluster ${clusterArn} is ${clusterState}`);
  return { cluster: clusterArn, state: clusterState };
};

/** AWS Batch: the target's queues take jobs. */
export const enableBatchQueues: Step<FailoverState, { enabled: string[] }> = async ({ state }, deps) => {
  const region = planOf(state).targetRegion;
  const queues = (await parameter(deps, region, 'compute', 'batch-queues')).split(',').filter(Boolean);
  for (const jobQueue of queues) {
    await aws(region, () => deps.clients.batch(region).send(new UpdateJobQueueCommand({ jobQueue, state: 'ENABLED' })));
  }
  return { enabled: queues };
};

/** Keyspaces is active-active: verified, not promoted. */
export const verifyKeyspace: Step<FailoverState, { keyspace: string; regions: string[] }> = async ({ state }, deps) => {
  const region = planOf(state).targetRegion;
  const keyspaceName = await parameter(deps, region, 'feature-store', 'keyspace');
  const out = await aws(region, () => deps.clients.keyspaces(region).send(new GetKeyspaceCommand({ keyspaceName })));
  const regions = out.replicationRegions ?? [];
  const status = out.replicationGroupStatuses?.find((s) => s.region === region)?.keyspaceStatus;
  if (!regions.includes(region) || (status !== undefined && status !== 'ACTIVE')) {
    fail(
      ERROR.verificationFailed,
      `keyspace ${keyspaceName} is not active in ${region} (regions: ${regions.join(', ') || 'none'}, status ${status})`,
    );
  }
  return { keyspace: keyspaceName, regions };
};
