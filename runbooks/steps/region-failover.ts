import { UpdateJobQueueCommand } from '@aws-sdk/client-batch';
import { GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeNodegroupCommand, ListNodegroupsCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import {
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DisassociateGlobalReplicationGroupCommand,
  FailoverGlobalReplicationGroupCommand,
} from '@aws-sdk/client-elasticache';
import { DescribeClusterV2Command } from '@aws-sdk/client-kafka';
import { GetKeyspaceCommand } from '@aws-sdk/client-keyspaces';
import { type DBInstance, DescribeDBInstancesCommand, PromoteReadReplicaCommand } from '@aws-sdk/client-rds';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { findSupportedRegion } from '../../lib/config/regions';
import type { DatabaseEndpoint, HeartbeatMark } from '../core/database';
import type { RunbookDeps } from '../core/env';
import { ERROR, fail } from '../core/errors';
import {
  assertLockHeld,
  clearFenceRequest,
  readFenceRequest,
  readGate,
  readLock,
  readPrimary,
  readPromotion,
  readScaledFor,
  releaseLock,
  takeLock,
  writeFenceRequest,
  writeGate,
  writePrimary,
  writePromotion,
  writeScaledFor,
} from '../core/state-table';
import { type Attempt, attempt, aws, parameter, type Step } from '../core/step';

export const FAILOVER_MODES = ['preflight', 'planned', 'unplanned'] as const;
export type FailoverMode = (typeof FAILOVER_MODES)[number];

/** Input of `RegionFailover`. */
export interface FailoverInput {
  readonly mode: FailoverMode;
  /** The region that becomes the primary; the runbook must be started there. */
  readonly targetRegion: string;
  /** Proceed although measured lag exceeds the RPO objective (unplanned), accepting the loss it reports. */
  readonly override?: { readonly reason: string };
}

export interface InstanceRef extends DatabaseEndpoint {
  readonly arn: string;
}

/** What preflight found and decided; every later step reads it. */
export interface FailoverPlan {
  readonly mode: FailoverMode;
  readonly targetRegion: string;
  readonly sourceRegion: string;
  readonly target: InstanceRef;
  readonly source: {
    readonly region: string;
    readonly instanceIdentifier: string;
    readonly reachable: boolean;
    readonly endpoint?: DatabaseEndpoint;
  };
  /** The target is already the writable primary (an earlier execution promoted it). */
  readonly alreadyPromoted: boolean;
  readonly cache: { readonly groupId: string; readonly globalId: string; readonly isMember: boolean };
  readonly heartbeat: { readonly onTarget?: HeartbeatMark; readonly onSource?: HeartbeatMark; readonly lagSeconds?: number };
  /**
   * Replication lag as the services publish it, for the tiers measured by lag rather than by
   * heartbeat: RDS `ReplicaLag` (next to the heartbeat, which it can mislead on an idle primary),
   * the cache's `GlobalDatastoreReplicationLag` and MSK Replicator's `ReplicationLatency` into the
   * target (milliseconds, reported in seconds).
   */
  readonly replicaLagSeconds?: number;
  readonly cacheLagSeconds?: number;
  readonly kafkaLagSeconds?: number;
  readonly decidedAt: string;
  readonly go: boolean;
  readonly reasons: readonly string[];
}

export interface FailoverState {
  readonly input: FailoverInput;
  readonly plan?: FailoverPlan;
  readonly lock?: { readonly epoch: number; readonly owner: string };
  readonly fence?: { readonly attempts: readonly Attempt[]; readonly fenced: boolean; readonly sourceLast?: HeartbeatMark };
}

const arnOf = (region: string, account: string, id: string) => `arn:aws:rds:${region}:${account}:db:${id}`;

function parseInstanceArn(arn: string): { region: string; account: string; id: string } {
  const [, , , region, account, , id] = arn.split(':');
  if (!region || !account || !id) return fail(ERROR.preflightFailed, `cannot read the replica source ARN ${arn}`);
  return { region, account, id };
}

async function describeInstance(deps: RunbookDeps, region: string, id: string): Promise<DBInstance> {
  const out = await aws(region, () => deps.clients.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })));
  const instance = out.DBInstances?.[0];
  if (!instance) return fail(ERROR.preflightFailed, `${id} does not exist in ${region}`);
  return instance;
}

const endpointOf = (region: string, instance: DBInstance): DatabaseEndpoint => ({
  region,
  instanceIdentifier: instance.DBInstanceIdentifier ?? '',
  host: instance.Endpoint?.Address ?? '',
  port: instance.Endpoint?.Port ?? 5432,
});

export function validateFailoverInput(input: unknown, regions: readonly string[], runningIn: string): FailoverInput {
  const value = (input ?? {}) as Record<string, unknown>;
  if (!FAILOVER_MODES.includes(value.mode as FailoverMode)) {
    fail(ERROR.invalidInput, `mode must be one of ${FAILOVER_MODES.join(', ')}, got ${JSON.stringify(value.mode)}`);
  }
  if (typeof value.targetRegion !== 'string' || !regions.includes(value.targetRegion)) {
    fail(ERROR.invalidInput, `targetRegion must be one of ${regions.join(', ')}, got ${JSON.stringify(value.targetRegion)}`);
  }
  if (value.targetRegion !== runningIn) {
    fail(
      ERROR.invalidInput,
      `start the runbook in the region that becomes the primary (${String(value.targetRegion)}), not in ${runningIn}`,
    );
  }
  const override = value.override as { reason?: unknown } | undefined;
  if (override !== undefined && (typeof override.reason !== 'string' || override.reason.trim().length < 10)) {
    fail(ERROR.invalidInput, 'override must be { "reason": "<why the data loss is accepted, 10 characters or more>" }');
  }
  return value as unknown as FailoverInput;
}

/**
 * Read-only readiness: the target's database is a replica of the primary (or already promoted by
 * an earlier execution), its replication lag by heartbeat against the RPO, the cache's membership,
 * and whether the source answers. Nothing here changes anything, so it is safe to run daily.
 */
export const preflight: Step<FailoverState, FailoverPlan> = async ({ state }, deps) => {
  const { env } = deps;
  const input = validateFailoverInput(state.input, env.regions, env.region);
  const target = input.targetRegion;
  const reasons: string[] = [];
  const targetId = await parameter(deps, target, 'postgres', 'instance-id');
  const instance = await describeInstance(deps, target, targetId);
  const [recorded, promotion] = await Promise.all([readPrimary(deps, target, env.stateTable), readPromotion(deps, target, env.stateTable)]);
  const sourceArn = instance.ReadReplicaSourceDBInstanceIdentifier;
  // Promoted by a runbook: an earlier execution finished (primary recorded) or asked for it and died.
  const promotedHere = promotion?.region === target && promotion.instanceIdentifier === targetId;
  const alreadyPromoted = !sourceArn && (recorded?.region === target || promotedHere);
  let source: { region: string; account: string; id: string };
  if (sourceArn) {
    source = parseInstanceArn(sourceArn);
  } else if (promotedHere && promotion) {
    source = { region: promotion.sourceRegion, account: '', id: promotion.sourceInstanceIdentifier };
  } else if (recorded && recorded.region !== target) {
    source = { region: recorded.region, account: '', id: recorded.instanceIdentifier };
  } else {
    const published = await parameter(deps, target, 'postgres', 'source-arn');
    source =
      published === 'none'
        ? fail(ERROR.preflightFailed, `${targetId} is not a replica and no earlier execution promoted it`)
        : parseInstanceArn(published);
  }
  if (!sourceArn && !alreadyPromoted) reasons.push(`${targetId} is not a replica any more, but no runbook made it primary`);
  if (instance.DBInstanceStatus !== 'available' && !alreadyPromoted)
    reasons.push(`${targetId} is ${instance.DBInstanceStatus}, not available`);

  const targetEndpoint = endpointOf(target, instance);
  const onTarget = await deps.database.latestHeartbeat(targetEndpoint).catch(() => undefined);
  const now = deps.now();
  const lagSeconds = onTarget ? Math.max(0, (now.getTime() - Date.parse(onTarget.writtenAt)) / 1000) : undefined;

  let sourceReachable = false;
  let sourceEndpoint: DatabaseEndpoint | undefined;
  let onSource: HeartbeatMark | undefined;
  try {
    const sourceInstance = await describeInstance(deps, source.region, source.id);
    sourceEndpoint = endpointOf(source.region, sourceInstance);
    onSource = await deps.database.latestHeartbeat(sourceEndpoint);
    sourceReachable = true;
  } catch {
    sourceReachable = false;
  }
  const measuredLag =
    onSource && onTarget ? Math.max(0, (Date.parse(onSource.writtenAt) - Date.parse(onTarget.writtenAt)) / 1000) : lagSeconds;

  if (input.mode === 'planned' && !sourceReachable && !alreadyPromoted) {
    reasons.push(`planned mode needs the source ${source.region} to fence and drain it, and it does not answer; use unplanned`);
  }
  if (input.mode === 'unplanned' && measuredLag !== undefined && measuredLag > env.rpoSeconds && !input.override) {
    reasons.push(
      `replication lag ${measuredLag.toFixed(1)} s exceeds the RPO objective of ${env.rpoSeconds} s: start again with an override to accept the loss`,
    );
  }
  if (!onTarget && !alreadyPromoted) reasons.push(`no heartbeat could be read on ${targetId}: lag unknown`);

  const [groupId, globalId] = await Promise.all([
    parameter(deps, target, 'redis', 'replication-group-id'),
    parameter(deps, target, 'redis', 'global-datastore-id'),
  ]);
  const [replicaLagSeconds, cacheLagSeconds, kafkaLatencyMs] = await Promise.all([
    latestMetric(deps, target, 'AWS/RDS', 'ReplicaLag', { DBInstanceIdentifier: targetId }),
    latestMetric(deps, target, 'AWS/ElastiCache', 'GlobalDatastoreReplicationLag', { ReplicationGroupId: groupId }),
    latestMetric(deps, target, 'AWS/Kafka', 'ReplicationLatency', {
      ReplicatorName: `mlp-${env.tier}-${codeOf(source.region)}-to-${codeOf(target)}`,
    }),
  ]);
  const go = reasons.length === 0 || alreadyPromoted;
  const plan: FailoverPlan = {
    mode: input.mode,
    targetRegion: target,
    sourceRegion: source.region,
    target: { ...targetEndpoint, arn: instance.DBInstanceArn ?? arnOf(target, source.account, targetId) },
    source: { region: source.region, instanceIdentifier: source.id, reachable: sourceReachable, endpoint: sourceEndpoint },
    alreadyPromoted,
    cache: { groupId, globalId, isMember: globalId !== 'none' },
    heartbeat: { onTarget, onSource, lagSeconds: measuredLag },
    replicaLagSeconds,
    cacheLagSeconds,
    kafkaLagSeconds: kafkaLatencyMs === undefined ? undefined : kafkaLatencyMs / 1000,
    decidedAt: now.toISOString(),
    go,
    reasons,
  };
  if (!go && input.mode !== 'preflight') fail(ERROR.preflightFailed, reasons.join('; '));
  return plan;
};

/** The newest 1-minute maximum of a metric in the last five minutes, or nothing (no data, or the call failed). */
async function latestMetric(
  deps: RunbookDeps,
  region: string,
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
): Promise<number | undefined> {
  const end = deps.now();
  return aws(region, () =>
    deps.clients.cloudwatch(region).send(
      new GetMetricDataCommand({
        StartTime: new Date(end.getTime() - 300_000),
        EndTime: end,
        MetricDataQueries: [
          {
            Id: 'm',
            MetricStat: {
              Metric: {
                Namespace: namespace,
                MetricName: name,
                Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    ),
  )
    .then((out) => out.MetricDataResults?.[0]?.Values?.[0])
    .catch(() => undefined);
}

/** The region's short code, as the stacks name replicators. */
const codeOf = (region: string) => findSupportedRegion(region)?.code ?? region;

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
      .catch(() => 'UNKNOWN');
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

const planOf = (state: FailoverState): FailoverPlan =>
  state.plan ?? fail(ERROR.invalidInput, 'the state has no plan: preflight did not run');
const lockOf = (state: FailoverState) => state.lock ?? fail(ERROR.invalidInput, 'the state has no lock: acquireLock did not run');

async function publishGate(deps: RunbookDeps, region: string, open: boolean): Promise<void> {
  await aws(region, () =>
    deps.clients.cloudwatch(region).send(
      new PutMetricDataCommand({
        Namespace: 'MLP/DR',
        MetricData: [
          {
            MetricName: 'WriteGateOpen',
            Dimensions: [
              { Name: 'Tier', Value: deps.env.tier },
              { Name: 'Region', Value: region },
            ],
            Value: open ? 1 : 0,
            Unit: 'Count',
            Timestamp: deps.now(),
          },
        ],
      }),
    ),
  );
}

/**
 * Fence the old primary before anything is promoted: close its write gate, make its database
 * read-only and end its client sessions, stop its Batch queues. Planned mode needs every fence; in
 * unplanned mode each is tried once and what could not be reached is recorded for the report.
 */
export const fenceSource: Step<FailoverState, NonNullable<FailoverState['fence']>> = async ({ state, execution }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  await assertLockHeld(deps, deps.env.region, deps.env.stateTable, execution.id, epoch);
  const source = plan.source;
  if (plan.alreadyPromoted || plan.sourceRegion === plan.targetRegion) return { attempts: [], fenced: true };
  const attempts: Attempt[] = [
    await attempt('close the write gate', source.region, async () => {
      await writeGate(deps, source.region, deps.env.stateTable, false, epoch);
      await publishGate(deps, source.region, false);
      return `gate of ${source.region} closed under epoch ${epoch}`;
    }),
    await attempt('make the database read-only and end its sessions', source.region, async () => {
      const endpoint = source.endpoint ?? fail(ERROR.unreachable, `${source.instanceIdentifier} was not reachable at preflight`);
      const { terminatedSessions } = await deps.database.fence(endpoint);
      return `${source.instanceIdentifier} read-only, ${terminatedSessions} session(s) ended`;
    }),
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
  return { attempts, fenced, sourceLast };
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

/** Ask RDS to promote the target's replica, keeping 35 days of automated backups. */
export const promotePostgres: Step<FailoverState, { requested: boolean; at: string }> = async ({ state, execution }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  await assertLockHeld(deps, deps.env.region, deps.env.stateTable, execution.id, epoch);
  const instance = await describeInstance(deps, plan.targetRegion, plan.target.instanceIdentifier);
  if (!instance.ReadReplicaSourceDBInstanceIdentifier) return { requested: false, at: deps.now().toISOString() };
  if (instance.DBInstanceStatus !== 'available') fail(ERROR.notReady, `${plan.target.instanceIdentifier} is ${instance.DBInstanceStatus}`);
  // Recorded first: an execution that dies after the call leaves a promotion the next one recognises.
  await writePromotion(deps, plan.targetRegion, deps.env.stateTable, {
    region: plan.targetRegion,
    instanceIdentifier: plan.target.instanceIdentifier,
    sourceRegion: plan.sourceRegion,
    sourceInstanceIdentifier: plan.source.instanceIdentifier,
    epoch,
  });
  await aws(plan.targetRegion, () =>
    deps.clients.rds(plan.targetRegion).send(
      new PromoteReadReplicaCommand({
        DBInstanceIdentifier: plan.target.instanceIdentifier,
        BackupRetentionPeriod: 35,
        PreferredBackupWindow: '03:00-04:00',
      }),
    ),
  );
  return { requested: true, at: deps.now().toISOString() };
};

/** Done when the instance is available and replicates nothing; `NotReady` until then. */
export const checkPostgresPromoted: Step<FailoverState, { promotedAt: string }> = async ({ state }, deps) => {
  const plan = planOf(state);
  const instance = await describeInstance(deps, plan.targetRegion, plan.target.instanceIdentifier);
  if (instance.ReadReplicaSourceDBInstanceIdentifier || instance.DBInstanceStatus !== 'available') {
    fail(
      ERROR.notReady,
      `${plan.target.instanceIdentifier} is ${instance.DBInstanceStatus}${instance.ReadReplicaSourceDBInstanceIdentifier ? ', still a replica' : ''}`,
    );
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
    if (member && (member.Role !== 'PRIMARY' || global?.Status !== 'available')) {
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

/** Kafka: the target's cluster takes the producers; its topics and offsets came by replication. */
export const checkKafka: Step<FailoverState, { cluster: string; state: string }> = async ({ state }, deps) => {
  const region = planOf(state).targetRegion;
  const clusterArn = await parameter(deps, region, 'kafka', 'cluster-arn');
  const out = await aws(region, () => deps.clients.kafka(region).send(new DescribeClusterV2Command({ ClusterArn: clusterArn })));
  const clusterState = out.ClusterInfo?.State ?? 'UNKNOWN';
  if (clusterState !== 'ACTIVE') fail(ERROR.notReady, `MSK cluster ${clusterArn} is ${clusterState}`);
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

/** Open the target's write gate, only under this execution's epoch and only once every promotion succeeded. */
export const openGate: Step<FailoverState, { openedAt: string; epoch: number }> = async ({ state, execution }, deps) => {
  const plan = planOf(state);
  const { epoch } = lockOf(state);
  await assertLockHeld(deps, deps.env.region, deps.env.stateTable, execution.id, epoch);
  const instance = await describeInstance(deps, plan.targetRegion, plan.target.instanceIdentifier);
  if (instance.ReadReplicaSourceDBInstanceIdentifier) {
    fail(ERROR.verificationFailed, `${plan.target.instanceIdentifier} is still a replica: the gate stays closed`);
  }
  // A planned fence is a database setting the replica received before its promotion: undo it here.
  await deps.database.unfence(plan.target);
  const recorded = await readPrimary(deps, plan.targetRegion, deps.env.stateTable);
  if (recorded?.region !== plan.targetRegion || recorded.instanceIdentifier !== plan.target.instanceIdentifier) {
    await writePrimary(deps, plan.targetRegion, deps.env.stateTable, {
      region: plan.targetRegion,
      instanceIdentifier: plan.target.instanceIdentifier,
      epoch,
    });
  }
  await writeGate(deps, plan.targetRegion, deps.env.stateTable, true, epoch);
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

/**
 * The gate keeper: republish this region's recorded gate every minute, so an open gate is a lease.
 * An open gate is kept only while no other region's gate was opened after it: a former primary that
 * comes back after an unplanned failover (its gate could not be closed then) closes its own, and
 * owes a fence of its database (read-only, sessions ended), retried every minute until it lands, so
 * a client still pinned to it cannot write there either. Regions that do not answer are skipped: a
 * gate is never closed on a guess.
 */
export const refreshGate: Step<Record<string, never>, { open: boolean; supersededBy?: string; fenced?: string }> = async (_event, deps) => {
  const { region, stateTable, regions } = deps.env;
  const gate = await readGate(deps, region, stateTable);
  let open = gate?.open === true;
  let supersededBy: string | undefined;
  if (gate && open) {
    const others = await Promise.all(
      regions
        .filter((other) => other !== region)
        .map(async (other) => ({ other, gate: await readGate(deps, other, stateTable).catch(() => undefined) })),
    );
    const newer = others.find((o) => o.gate?.open && o.gate.updatedAt > gate.updatedAt);
    if (newer) {
      // The database to fence is the one that was primary here, whatever replaces it later.
      const instanceIdentifier = await parameter(deps, region, 'postgres', 'instance-id');
      await writeFenceRequest(deps, region, stateTable, { instanceIdentifier, supersededBy: newer.other });
      await writeGate(deps, region, stateTable, false, gate.epoch);
      open = false;
      supersededBy = newer.other;
    }
  }
  await publishGate(deps, region, open);
  const owed = await readFenceRequest(deps, region, stateTable);
  if (!owed) return supersededBy ? { open, supersededBy } : { open };
  const id = owed.instanceIdentifier;
  const instance = await describeInstance(deps, region, id).catch((error: Error) => {
    if (/NotFound/.test(error.name)) return undefined; // retired since: nothing left to fence
    throw error;
  });
  if (!instance) {
    await clearFenceRequest(deps, region, stateTable);
    return { open, supersededBy: owed.supersededBy, fenced: `${id} no longer exists` };
  }
  const endpoint = endpointOf(region, instance);
  const { terminatedSessions } = await deps.database.fence(endpoint);
  await clearFenceRequest(deps, region, stateTable);
  return {
    open,
    supersededBy: owed.supersededBy,
    fenced: `${id} read-only, ${terminatedSessions} session(s) ended: ${owed.supersededBy} took the primary`,
  };
};
