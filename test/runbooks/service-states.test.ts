import { DescribeDBInstancesCommand, PromoteReadReplicaCommand } from '@aws-sdk/client-rds';
import { describe, expect, test } from 'vitest';
import { MODELLED_SECONDS } from '../../runbooks/local/fake-aws';
import { HOME, HOME_DB, STATE_TABLE, TARGET, TARGET_DB, World } from './world';

/**
 * The simulated services move through the states AWS documents, and the runbooks cope with each:
 * an RDS promotion (modifying, then the reboot that ends it), a replica that is backing up, a Global
 * Datastore member disassociating, MSK and Keyspaces states, the lag CloudWatch publishes, and what
 * Step Functions answers about an execution.
 */
const FAILOVER = 'mlp-tier1-region-failover';
const LOCK_OWNER = 'arn:aws:states:us-west-2:111122223333:execution:mlp-tier1-region-failover:first';

function unplanned(w: World, extra: Record<string, unknown> = {}) {
  w.heartbeats(30, 1);
  w.aws.unreachable.add(HOME);
  w.db.unreachable.add(HOME);
  return w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET, ...extra });
}

const describeTarget = async (w: World) => {
  const out = await w
    .deps(TARGET, 'CheckPostgresPromoted')
    .clients.rds(TARGET)
    .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: TARGET_DB }));
  return out.DBInstances?.[0];
};

describe('RDS: PromoteReadReplica', () => {
  test('the replica stays a replica while modifying, and stops being one when the closing reboot starts', async () => {
    const w = new World();
    await w
      .deps(TARGET, 'PromotePostgres')
      .clients.rds(TARGET)
      .send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: TARGET_DB }));
    expect(await describeTarget(w)).toMatchObject({
      DBInstanceStatus: 'modifying',
      ReadReplicaSourceDBInstanceIdentifier: expect.any(String),
    });
    w.aws.advance(MODELLED_SECONDS.rdsPromotion.seconds - MODELLED_SECONDS.rdsPromotionReboot.seconds);
    const rebooting = await describeTarget(w);
    expect(rebooting?.DBInstanceStatus).toBe('rebooting');
    expect(rebooting?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
    w.aws.advance(MODELLED_SECONDS.rdsPromotionReboot.seconds);
    expect((await describeTarget(w))?.DBInstanceStatus).toBe('available');
  });

  test('a replica that is backing up is promoted once the backup ends: the runbook waits, it does not give up', async () => {
    const w = new World();
    w.aws.backUp(TARGET, TARGET_DB, 200);
    const result = await unplanned(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const promote = w.aws.calls.filter((c) => c.command === 'PromoteReadReplica');
    expect(promote.map((c) => c.error)).toEqual([undefined]);
    expect(promote[0]?.at).toBeGreaterThanOrEqual(200);
  });

  test('RDS refuses to promote a replica that is backing up (InvalidDBInstanceStateFault)', async () => {
    const w = new World();
    w.aws.backUp(TARGET, TARGET_DB, 60);
    await expect(
      w
        .deps(TARGET, 'PromotePostgres')
        .clients.rds(TARGET)
        .send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: TARGET_DB })),
    ).rejects.toMatchObject({ name: 'InvalidDBInstanceStateFault' });
  });

  test('an execution that dies after asking for the promotion is followed by one that waits for it, without asking again', async () => {
    // GIVEN an earlier execution recorded the promotion and asked RDS for it, then died
    const w = new World();
    w.aws.tables.get(`${TARGET}:${STATE_TABLE}`)?.set('promotion', {
      pk: { S: 'promotion' },
      region: { S: TARGET },
      instanceIdentifier: { S: TARGET_DB },
      sourceRegion: { S: HOME },
      sourceInstanceIdentifier: { S: HOME_DB },
      epoch: { N: '1' },
    });
    await w
      .deps(TARGET, 'PromotePostgres')
      .clients.rds(TARGET)
      .send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: TARGET_DB }));
    // WHEN the next execution runs while RDS is still modifying the instance
    const result = await unplanned(w);
    // THEN it succeeds, and PromoteReadReplica was asked for once (by the execution that died)
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.calls.filter((c) => c.command === 'PromoteReadReplica')).toHaveLength(1);
  });
});

describe('ElastiCache: a Global Datastore member disassociating', () => {
  test('the member disassociates over the modelled minute; the datastore refuses a failover meanwhile, then is primary-only', async () => {
    const w = new World();
    const result = await unplanned(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const global = w.aws.globalDatastores.get(w.globalDatastoreId);
    expect(global?.status).toBe('primary-only');
    expect(global?.members.map((m) => m.region)).toEqual([HOME]);
    // The runbook waited for the disassociation: CheckCachePromoted polled until the member was gone.
    const polls = w.aws.calls.filter((c) => c.command === 'DescribeGlobalReplicationGroups' && c.caller === 'CheckCachePromoted');
    expect(polls.length).toBeGreaterThan(1);
  });

  test('FailoverGlobalReplicationGroup is refused while the datastore is modifying (InvalidGlobalReplicationGroupStateFault)', async () => {
    const w = new World();
    const global = w.aws.globalDatastores.get(w.globalDatastoreId);
    if (!global) throw new Error('no global datastore');
    global.status = 'modifying';
    global.readyAt = w.aws.clock + 600;
    w.heartbeats(10);
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(result.status).toBe('FAILED');
    expect(w.aws.calls.find((c) => c.command === 'FailoverGlobalReplicationGroup')?.error).toMatch(
      /InvalidGlobalReplicationGroupStateFault/,
    );
    expect(w.gate(TARGET)).not.toBe(true);
  });
});

describe('MSK and Keyspaces states', () => {
  const cluster = (w: World) => [...w.aws.kafkaClusters.entries()].find(([arn]) => arn.includes(':us-west-2:'))?.[1];

  test('an MSK cluster in maintenance serves producers and consumers: the failover goes on', async () => {
    const w = new World();
    const target = cluster(w);
    if (!target) throw new Error('no MSK cluster in the target region');
    target.state = 'MAINTENANCE';
    const result = await unplanned(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
  });

  test('an MSK cluster that does not serve (CREATING) keeps the gate closed after the polling budget', async () => {
    const w = new World();
    const target = cluster(w);
    if (!target) throw new Error('no MSK cluster in the target region');
    target.state = 'CREATING';
    const result = await unplanned(w);
    expect(result.status).toBe('FAILED');
    expect(w.gate(TARGET)).not.toBe(true);
    expect(w.aws.calls.filter((c) => c.command === 'DescribeClusterV2').length).toBeGreaterThan(5);
  });

  test('a keyspace whose target replica is not ACTIVE fails verification', async () => {
    const w = new World();
    const [name, keyspace] = [...w.aws.keyspaces.entries()][0] ?? [];
    if (!name || !keyspace) throw new Error('no keyspace');
    keyspace.statuses = { [TARGET]: 'UPDATING' };
    const result = await unplanned(w);
    expect(result.status).toBe('FAILED');
    expect(result.cause).toMatch(/not active in us-west-2.*UPDATING/);
  });
});

describe('CloudWatch: the lag preflight reads', () => {
  test('an unplanned failover is refused on the ReplicaLag RDS published for the target, and goes on with an override', async () => {
    const w = new World();
    w.heartbeats(30, 1);
    w.aws.publish(TARGET, 'AWS/RDS', 'ReplicaLag', { DBInstanceIdentifier: TARGET_DB }, 140);
    w.aws.advance(20); // GetMetricData's EndTime is exclusive: the datapoint is in the past when preflight reads it
    w.aws.unreachable.add(HOME);
    w.db.unreachable.add(HOME);
    const refused = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(refused.status).toBe('FAILED');
    expect(refused.cause).toMatch(/CloudWatch reports ReplicaLag 140 s on mlp-tier1-pg-usw2/);
    expect(w.order('PromoteReadReplica')).toEqual([]);
    const accepted = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET, override: { reason: 'drill: accept the loss' } });
    expect(accepted.status, accepted.cause).toBe('SUCCEEDED');
  });

  test('a datapoint of another instance, or older than five minutes, is not read as the target’s lag', async () => {
    const w = new World();
    w.aws.publish(TARGET, 'AWS/RDS', 'ReplicaLag', { DBInstanceIdentifier: TARGET_DB }, 500);
    w.aws.advance(400);
    w.aws.publish(TARGET, 'AWS/RDS', 'ReplicaLag', { DBInstanceIdentifier: 'mlp-tier1-pg-other' }, 140);
    w.aws.advance(1);
    const result = await unplanned(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
  });
});

describe('Step Functions: what DescribeExecution answers about the lock’s owner', () => {
  const lockedBy = (w: World, owner: string) =>
    w.aws.tables
      .get(`${TARGET}:${STATE_TABLE}`)
      ?.set('lock', { pk: { S: 'lock' }, owner: { S: owner }, epoch: { N: '1' }, since: { S: '2026-12-01T11:00:00Z' } });

  test('an owner Step Functions does not know (ExecutionDoesNotExist) is gone: its lock is taken over', async () => {
    const w = new World();
    lockedBy(w, LOCK_OWNER);
    const result = await unplanned(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.calls.find((c) => c.command === 'DescribeExecution')?.error).toMatch(/ExecutionDoesNotExist/);
  });

  test('an owner whose history ended is gone; one still running holds the lock', async () => {
    const w = new World();
    w.aws.executionHistories.set(LOCK_OWNER, [{ id: 1, type: 'ExecutionFailed', timestamp: new Date() }]);
    lockedBy(w, LOCK_OWNER);
    expect((await unplanned(w)).status).toBe('SUCCEEDED');
    const running = new World();
    running.aws.executionHistories.set(LOCK_OWNER, [{ id: 1, type: 'ExecutionStarted', timestamp: new Date() }]);
    lockedBy(running, LOCK_OWNER);
    const refused = await unplanned(running);
    expect(refused.error).toBe('LockHeld');
  });

  test('when DescribeExecution fails otherwise, the lock is not taken over', async () => {
    const w = new World();
    lockedBy(w, LOCK_OWNER);
    w.aws.failNext('DescribeExecution', 'InternalServerError', 'Internal failure');
    const result = await unplanned(w);
    expect(result.status).toBe('FAILED');
    expect(w.order('PromoteReadReplica')).toEqual([]);
    expect(w.aws.tables.get(`${TARGET}:${STATE_TABLE}`)?.get('lock')?.owner?.S).toBe(LOCK_OWNER);
  });
});

describe('ElastiCache RBAC: the cache fence', () => {
  test('an unplanned failover fences the old primary’s cache through its regional control plane when it answers, and the report says so', async () => {
    const w = new World();
    w.heartbeats(20, 1);
    w.db.unreachable.add(HOME);
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.cacheUsers.get(`${HOME}:mlp-tier1-app`)?.accessString).toBe('off ~* &* -@all');
    expect(w.aws.cacheUsers.get(`${TARGET}:mlp-tier1-app`)?.accessString).toBe('on ~* &* +@all -@admin -@dangerous');
    const fence = (result.output as { fence: { attempts: { what: string; ok: boolean }[] } }).fence;
    expect(fence.attempts.find((a) => a.what.startsWith('fence the cache'))?.ok).toBe(true);
  });

  test('when the old region’s control plane does not answer, the attempt is recorded as failed: the cache was not fenced', async () => {
    const w = new World();
    const result = await unplanned(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.cacheUsers.get(`${HOME}:mlp-tier1-app`)?.accessString).toBe('on ~* &* +@all -@admin -@dangerous');
    const fence = (result.output as { fence: { attempts: { what: string; ok: boolean }[]; fenced: boolean } }).fence;
    expect(fence.attempts.find((a) => a.what.startsWith('fence the cache'))?.ok).toBe(false);
    expect(fence.fenced).toBe(false);
  });

  test('a planned switchover fences the old primary’s cache before ElastiCache makes it a replica (clients still resolving to it write nothing it would drop), and opening the gate gives the target’s cache user its access', async () => {
    const w = new World();
    w.heartbeats(20);
    const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const modified = w.aws.calls.filter((c) => c.command === 'ModifyUser' && !c.error).map((c) => `${c.caller}@${c.region}`);
    expect(modified).toEqual([`FenceSource@${HOME}`, `OpenGate@${TARGET}`]);
    expect(w.order('ModifyUser', 'FailoverGlobalReplicationGroup')).toEqual([
      `ModifyUser@${HOME}`,
      `FailoverGlobalReplicationGroup@${TARGET}`,
      `ModifyUser@${TARGET}`,
    ]);
  });
});

describe('Lambda: a VPC function left idle goes Inactive', () => {
  /** The tier1 stacks without the daily keep-active schedules: what the deployment was before them. */
  const withoutKeepActive = () =>
    new World({
      edit: (assembly) => {
        for (const { stack, logicalId } of assembly.resourcesOfType('AWS::Scheduler::Schedule')) {
          if (/KeepActive/.test(logicalId)) delete stack.template.Resources[logicalId];
        }
      },
    });

  test('without the keep-active schedule, an unplanned failover fails at its first step, and an immediate re-run finds the function Pending', async () => {
    const w = withoutKeepActive();
    const failures: string[] = [];
    w.heartbeats(10, 1);
    w.aws.unreachable.add(HOME);
    w.db.unreachable.add(HOME);
    const first = await w.run(
      FAILOVER,
      { mode: 'unplanned', targetRegion: TARGET },
      { onTask: (t) => failures.push(`${t.state}: ${t.error}`) },
    );
    expect(first.status).toBe('FAILED');
    expect(failures[0]).toBe('Preflight: Lambda.ResourceNotReadyException');
    // The state machine's failure path reports it as the Preflight failing, with Lambda's message.
    expect(first.error).toBe('PreflightFailed');
    expect(first.cause).toMatch(/RunbooksPreflightFunction.* is inactive and its VPC connection is no longer available/);
    expect(w.order('PromoteReadReplica')).toEqual([]);
    const rerun = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(rerun.cause).toMatch(/is Pending: Lambda is attaching its network interface again/);
  });

  test('with it, as synthesized, every function in the VPC is Active and the same failover succeeds', async () => {
    const w = new World();
    w.heartbeats(10, 1);
    w.aws.unreachable.add(HOME);
    w.db.unreachable.add(HOME);
    const result = await w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
    expect(result.status, result.cause).toBe('SUCCEEDED');
  });
});
