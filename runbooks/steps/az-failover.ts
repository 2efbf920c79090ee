import { DescribeReplicationGroupsCommand, TestFailoverCommand } from '@aws-sdk/client-elasticache';
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { ERROR, fail } from '../core/errors';
import { databaseEngineOf, describeDatabase, isWritablePrimary } from '../core/regional-database';
import { aws, parameter, type Step } from '../core/step';

/** Input of `AzFailover`: nothing, or the region (it must be the one the runbook runs in). */
export interface AzFailoverState {
  readonly input?: { readonly region?: string };
  readonly database?: {
    readonly instanceIdentifier: string;
    readonly requestedAt: string;
    readonly zoneBefore?: string;
    /** Aurora: the global database of the cluster failed over. */
    readonly globalClusterId?: string;
  };
  readonly cache?: { readonly groupId: string; readonly requestedAt: string };
}

function regionOf(state: AzFailoverState, running: string): string {
  const asked = state.input?.region ?? running;
  if (asked !== running) fail(ERROR.invalidInput, `start the AZ failover in the region it acts on (${asked}), not in ${running}`);
  return running;
}

/**
 * Fail the region's database over to its standby in another zone. RDS: a reboot that forces the
 * Multi-AZ standby to take over. Aurora: FailoverDBCluster to the other instance of the writer pair
 * (the reader of the lowest promotion tier).
 */
export const rebootWithFailover: Step<AzFailoverState, NonNullable<AzFailoverState['database']>> = async ({ state }, deps) => {
  const region = regionOf(state, deps.env.region);
  if (state.database) return state.database; // asked already: a second failover would fail back
  const rds = deps.clients.rds(region);
  if ((await databaseEngineOf(deps, region)) === 'aurora-postgresql-global') {
    const clusterId = await parameter(deps, region, 'postgres', 'cluster-id');
    const globalClusterId = await parameter(deps, region, 'postgres', 'global-cluster-id');
    const database = await describeDatabase(deps, { engine: 'aurora-postgresql-global', region, identifier: clusterId, globalClusterId });
    if (!database.writer)
      fail(ERROR.preflightFailed, `${clusterId} has no writer here: it is a secondary of the global database, not the primary`);
    if (!isWritablePrimary(database)) fail(ERROR.notReady, `${clusterId} is ${database.status}`);
    const cluster = (await aws(region, () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId })))).DBClusters?.[0];
    const members = cluster?.DBClusterMembers ?? [];
    const writer = members.find((m) => m.IsClusterWriter);
    const standby = members.filter((m) => !m.IsClusterWriter).sort((a, b) => (a.PromotionTier ?? 15) - (b.PromotionTier ?? 15))[0];
    if (!standby?.DBInstanceIdentifier) fail(ERROR.preflightFailed, `${clusterId} has no reader to fail over to`);
    await aws(region, () =>
      rds.send(new FailoverDBClusterCommand({ DBClusterIdentifier: clusterId, TargetDBInstanceIdentifier: standby?.DBInstanceIdentifier })),
    );
    return {
      instanceIdentifier: clusterId,
      requestedAt: deps.now().toISOString(),
      zoneBefore: writer?.DBInstanceIdentifier,
      globalClusterId,
    };
  }
  const instanceIdentifier = await parameter(deps, region, 'postgres', 'instance-id');
  const instance = (await aws(region, () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceIdentifier }))))
    .DBInstances?.[0];
  if (!instance?.MultiAZ) fail(ERROR.preflightFailed, `${instanceIdentifier} is not Multi-AZ: there is no standby to fail over to`);
  if (instance?.DBInstanceStatus !== 'available') fail(ERROR.notReady, `${instanceIdentifier} is ${instance?.DBInstanceStatus}`);
  await aws(region, () => rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: instanceIdentifier, ForceFailover: true })));
  return { instanceIdentifier, requestedAt: deps.now().toISOString(), zoneBefore: instance?.AvailabilityZone };
};

export const checkDatabaseAvailable: Step<AzFailoverState, { availableAt: string; zone?: string }> = async ({ state }, deps) => {
  const region = deps.env.region;
  const requested = state.database ?? fail(ERROR.invalidInput, 'no database failover was requested');
  const id = requested.instanceIdentifier;
  if (requested.globalClusterId) {
    const cluster = await describeDatabase(deps, {
      engine: 'aurora-postgresql-global',
      region,
      identifier: id,
      globalClusterId: requested.globalClusterId,
    });
    if (!isWritablePrimary(cluster)) fail(ERROR.notReady, `${id} is ${cluster.status}`);
    return { availableAt: deps.now().toISOString() };
  }
  const instance = (await aws(region, () => deps.clients.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))))
    .DBInstances?.[0];
  if (instance?.DBInstanceStatus !== 'available') fail(ERROR.notReady, `${id} is ${instance?.DBInstanceStatus}`);
  return { availableAt: deps.now().toISOString(), zone: instance?.AvailabilityZone };
};

/** ElastiCache's test failover of the first shard: its replica in another zone takes over. */
export const testCacheFailover: Step<AzFailoverState, NonNullable<AzFailoverState['cache']>> = async ({ state }, deps) => {
  const region = regionOf(state, deps.env.region);
  if (state.cache) return state.cache;
  const groupId = await parameter(deps, region, 'redis', 'replication-group-id');
  await aws(region, () =>
    deps.clients.elasticache(region).send(new TestFailoverCommand({ ReplicationGroupId: groupId, NodeGroupId: '0001' })),
  );
  return { groupId, requestedAt: deps.now().toISOString() };
};

export const checkCacheAvailable: Step<AzFailoverState, { availableAt: string }> = async ({ state }, deps) => {
  const region = deps.env.region;
  const groupId = state.cache?.groupId ?? fail(ERROR.invalidInput, 'no cache failover was requested');
  const out = await aws(region, () =>
    deps.clients.elasticache(region).send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId })),
  );
  const status = out.ReplicationGroups?.[0]?.Status;
  if (status !== 'available') fail(ERROR.notReady, `${groupId} is ${status}`);
  return { availableAt: deps.now().toISOString() };
};
