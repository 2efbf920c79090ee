import { DescribeReplicationGroupsCommand, TestFailoverCommand } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { ERROR, fail } from '../core/errors';
import { aws, parameter, type Step } from '../core/step';

/** Input of `AzFailover`: nothing, or the region (it must be the one the runbook runs in). */
export interface AzFailoverState {
  readonly input?: { readonly region?: string };
  readonly database?: { readonly instanceIdentifier: string; readonly requestedAt: string; readonly zoneBefore?: string };
  readonly cache?: { readonly groupId: string; readonly requestedAt: string };
}

function regionOf(state: AzFailoverState, running: string): string {
  const asked = state.input?.region ?? running;
  if (asked !== running) fail(ERROR.invalidInput, `start the AZ failover in the region it acts on (${asked}), not in ${running}`);
  return running;
}

/** Multi-AZ failover of the region's database: a reboot that forces the standby to take over. */
export const rebootWithFailover: Step<AzFailoverState, NonNullable<AzFailoverState['database']>> = async ({ state }, deps) => {
  const region = regionOf(state, deps.env.region);
  if (state.database) return state.database; // asked already: a second reboot would fail back
  const instanceIdentifier = await parameter(deps, region, 'postgres', 'instance-id');
  const rds = deps.clients.rds(region);
  const instance = (await aws(region, () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceIdentifier }))))
    .DBInstances?.[0];
  if (!instance?.MultiAZ) fail(ERROR.preflightFailed, `${instanceIdentifier} is not Multi-AZ: there is no standby to fail over to`);
  if (instance?.DBInstanceStatus !== 'available') fail(ERROR.notReady, `${instanceIdentifier} is ${instance?.DBInstanceStatus}`);
  await aws(region, () => rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: instanceIdentifier, ForceFailover: true })));
  return { instanceIdentifier, requestedAt: deps.now().toISOString(), zoneBefore: instance?.AvailabilityZone };
};

export const checkDatabaseAvailable: Step<AzFailoverState, { availableAt: string; zone?: string }> = async ({ state }, deps) => {
  const region = deps.env.region;
  const id = state.database?.instanceIdentifier ?? fail(ERROR.invalidInput, 'no database failover was requested');
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
