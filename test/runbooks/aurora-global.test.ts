import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  type GlobalCluster,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { describe, expect, test } from 'vitest';
import { FakeAws, type FakeDbCluster, MODELLED_SECONDS } from '../../runbooks/local/fake-aws';
import { Authorizer, type Principal } from '../../runbooks/local/iam';

/**
 * The simulated Aurora global database, driven through the real RDS client: the states a switchover
 * and a failover move through over virtual time (both documented ends of a failover's duration), the
 * errors RDS returns, IAM's two resource types for each operation, the global writer endpoint
 * following the writer, and the old primary rejoining once its Region is back.
 */
const ACCOUNT = '111122223333';
const HOME = 'us-east-1';
const TARGET = 'us-west-2';
const THIRD = 'eu-west-1';
const GLOBAL = 'mlp-tier1-global';
const GLOBAL_ARN = `arn:aws:rds::${ACCOUNT}:global-cluster:${GLOBAL}`;
const T0 = Date.parse('2026-12-01T12:00:00Z');
const VERIFY = MODELLED_SECONDS.auroraGlobalVerification.seconds;
const SWITCHOVER = MODELLED_SECONDS.auroraGlobalSwitchover.seconds;
const REBUILD = MODELLED_SECONDS.auroraGlobalRebuild.seconds;
const FAILOVER = MODELLED_SECONDS.auroraGlobalFailoverPessimistic.seconds;

function principal(name: string, statements: { Action: string[]; Resource: string[] }[]): Principal {
  return {
    name,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/${name}`,
    account: ACCOUNT,
    policies: [{ name: `${name}Policy`, policy: { Version: '2012-10-17', Statement: statements.map((s) => ({ Effect: 'Allow', ...s })) } }],
  };
}

const ACTIONS = ['rds:DescribeGlobalClusters', 'rds:DescribeDBClusters', 'rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster'];
const OPERATOR = principal('AuroraOperator', [
  { Action: ACTIONS, Resource: [`arn:aws:rds:*:${ACCOUNT}:cluster:mlp-tier1-aurora-*`, `arn:aws:rds::${ACCOUNT}:global-cluster:*`] },
]);

interface WorldOptions {
  readonly end?: 'optimistic' | 'pessimistic';
  readonly third?: boolean;
}

function world(options: WorldOptions = {}) {
  let clock = () => 0;
  const aws = new FakeAws({
    account: ACCOUNT,
    authorizer: new Authorizer(),
    now: () => new Date(T0 + clock() * 1000),
    ...(options.end ? { auroraFailoverEnd: options.end } : {}),
  });
  clock = () => aws.clock;
  const primary = aws.addDbCluster({ id: 'mlp-tier1-aurora-use1', region: HOME });
  const secondary = aws.addDbCluster({ id: 'mlp-tier1-aurora-usw2', region: TARGET });
  const third = options.third ? aws.addDbCluster({ id: 'mlp-tier1-aurora-euw1', region: THIRD }) : undefined;
  const global = aws.addGlobalCluster({
    id: GLOBAL,
    engineVersion: '16.4',
    primary,
    secondaries: third ? [secondary, third] : [secondary],
  });
  const requested: string[] = [];
  const promoted: { cluster: string; former?: string; at: number }[] = [];
  aws.onGlobalPromotionRequested = (c) => requested.push(c.id);
  aws.onGlobalPromoted = (c, former) => promoted.push({ cluster: c.id, former: former?.id, at: aws.clock });
  const clients = aws.asClients(OPERATOR);
  const rds = (region: string) => clients.rds(region);
  const describeGlobal = async (region = TARGET): Promise<GlobalCluster> => {
    const out = await rds(region).send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: GLOBAL }));
    return out.GlobalClusters?.[0] as GlobalCluster;
  };
  const failover = (region = TARGET, target: FakeDbCluster = secondary) =>
    rds(region).send(
      new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL, TargetDbClusterIdentifier: target.arn, AllowDataLoss: true }),
    );
  const switchover = (region = HOME, target: string = secondary.arn) =>
    rds(region).send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL, TargetDbClusterIdentifier: target }));
  return { aws, primary, secondary, third, global, requested, promoted, rds, describeGlobal, failover, switchover };
}

const writerOf = (g: GlobalCluster) => g.GlobalClusterMembers?.filter((m) => m.IsWriter).map((m) => m.DBClusterArn);
const memberOf = (g: GlobalCluster, arn: string) => g.GlobalClusterMembers?.find((m) => m.DBClusterArn === arn);

describe('DescribeGlobalClusters and DescribeDBClusters', () => {
  test('answer as RDS does: the global writer endpoint, the writer listing its readers, an empty FailoverState, the cluster resource id', async () => {
    const w = world();
    const g = await w.describeGlobal();
    expect(g).toMatchObject({
      GlobalClusterIdentifier: GLOBAL,
      GlobalClusterArn: GLOBAL_ARN,
      Status: 'available',
      Engine: 'aurora-postgresql',
      EngineVersion: '16.4',
      FailoverState: {},
    });
    expect(g.Endpoint).toMatch(/^mlp-tier1-global\.global-[a-z0-9]{10}\.global\.rds\.amazonaws\.com$/);
    expect(g.GlobalClusterMembers).toEqual([
      { DBClusterArn: w.primary.arn, Readers: [w.secondary.arn], IsWriter: true, SynchronizationStatus: 'connected' },
      { DBClusterArn: w.secondary.arn, Readers: [], IsWriter: false, SynchronizationStatus: 'connected' },
    ]);
    const out = await w.rds(TARGET).send(new DescribeDBClustersCommand({ DBClusterIdentifier: w.secondary.id }));
    expect(out.DBClusters?.[0]).toMatchObject({
      DBClusterIdentifier: 'mlp-tier1-aurora-usw2',
      DBClusterArn: `arn:aws:rds:${TARGET}:${ACCOUNT}:cluster:mlp-tier1-aurora-usw2`,
      Status: 'available',
      GlobalClusterIdentifier: GLOBAL,
      Port: 5432,
    });
    expect(out.DBClusters?.[0]?.DbClusterResourceId).toMatch(/^cluster-[A-Z0-9]{26}$/);
    expect(out.DBClusters?.[0]?.Endpoint).toMatch(/^mlp-tier1-aurora-usw2\.cluster-[a-z0-9]{12}\.us-west-2\.rds\.amazonaws\.com$/);
    expect(out.DBClusters?.[0]?.ReaderEndpoint).toMatch(/^mlp-tier1-aurora-usw2\.cluster-ro-[a-z0-9]{12}\.us-west-2\.rds\.amazonaws\.com$/);
  });

  test('an unknown global cluster is GlobalClusterNotFoundFault (404); a cluster of another Region is DBClusterNotFoundFault (404)', async () => {
    const w = world();
    await expect(w.rds(TARGET).send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: 'nope' }))).rejects.toMatchObject({
      name: 'GlobalClusterNotFoundFault',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(w.rds(TARGET).send(new DescribeDBClustersCommand({ DBClusterIdentifier: w.primary.id }))).rejects.toMatchObject({
      name: 'DBClusterNotFoundFault',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(w.rds(TARGET).send(new DescribeDBClustersCommand({ DBClusterIdentifier: w.primary.arn }))).rejects.toMatchObject({
      name: 'DBClusterNotFoundFault',
    });
  });

  test('without an identifier, every global cluster (authorized on global-cluster:*)', async () => {
    const w = world();
    const out = await w.rds(HOME).send(new DescribeGlobalClustersCommand({}));
    expect(out.GlobalClusters?.map((g) => g.GlobalClusterIdentifier)).toEqual([GLOBAL]);
    expect(w.aws.authorizations.map((a) => a.resource)).toEqual([`arn:aws:rds::${ACCOUNT}:global-cluster:*`]);
  });

  test('a global cluster is described from any Region that answers; a lost Region’s endpoints do not answer', async () => {
    const w = world();
    w.aws.unreachable.add(HOME);
    expect((await w.describeGlobal(TARGET)).Status).toBe('available');
    await expect(w.describeGlobal(HOME)).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('FailoverGlobalCluster with AllowDataLoss: the unplanned failover', () => {
  test.each([
    ['optimistic', MODELLED_SECONDS.auroraGlobalFailoverOptimistic.seconds],
    ['pessimistic', MODELLED_SECONDS.auroraGlobalFailoverPessimistic.seconds],
  ] as const)('with the primary’s Region lost, %s end: pending, failing-over, then the secondary writes after %i s', async (end, total) => {
    const w = world({ end });
    expect(w.aws.auroraFailoverEnd).toBe(end);
    w.aws.unreachable.add(HOME);
    // WHEN the failover is asked for in the Region of the secondary to promote
    const out = await w.failover(TARGET);
    // THEN it answers at once, the roles not yet changed
    expect(out.GlobalCluster).toMatchObject({
      Status: 'failing-over',
      FailoverState: { Status: 'pending', FromDbClusterArn: w.primary.arn, ToDbClusterArn: w.secondary.arn, IsDataLossAllowed: true },
    });
    expect(writerOf(out.GlobalCluster as GlobalCluster)).toEqual([w.primary.arn]);
    expect(w.requested).toEqual([w.secondary.id]);
    w.aws.advance(VERIFY - 1);
    expect((await w.describeGlobal()).FailoverState?.Status).toBe('pending');
    w.aws.advance(1);
    expect((await w.describeGlobal()).FailoverState?.Status).toBe('failing-over');
    w.aws.advance(total - VERIFY - 1);
    const before = await w.describeGlobal();
    expect(before.Status).toBe('failing-over');
    expect(writerOf(before)).toEqual([w.primary.arn]);
    expect(w.aws.resolveGlobalEndpoint(w.global.endpoint)?.id).toBe(w.primary.id);
    expect(w.promoted).toEqual([]);
    // AND one second later it is done: the secondary writes, the global writer endpoint follows it
    w.aws.advance(1);
    const after = await w.describeGlobal();
    expect(after).toMatchObject({ Status: 'available', FailoverState: {}, Endpoint: w.global.endpoint });
    expect(writerOf(after)).toEqual([w.secondary.arn]);
    expect(w.aws.resolveGlobalEndpoint(w.global.endpoint)?.id).toBe(w.secondary.id);
    expect(w.promoted).toEqual([{ cluster: w.secondary.id, former: w.primary.id, at: total }]);
    // The old primary is out of the global cluster while its Region is lost: no snapshot yet.
    expect(memberOf(after, w.primary.arn)).toBeUndefined();
    expect(w.aws.clusterSnapshots).toEqual([]);
  });

  test('the optimistic end is faster than the pessimistic one, and the default is pessimistic', () => {
    expect(MODELLED_SECONDS.auroraGlobalFailoverOptimistic.seconds).toBeLessThan(MODELLED_SECONDS.auroraGlobalFailoverPessimistic.seconds);
    expect(new FakeAws({ account: ACCOUNT, authorizer: new Authorizer() }).auroraFailoverEnd).toBe('pessimistic');
  });

  test('the failover completes only once the data plane has promoted', async () => {
    const w = world();
    let promoted = false;
    w.aws.globalDataPlanePromoted = (c) => c.id === w.secondary.id && promoted;
    w.aws.unreachable.add(HOME);
    await w.failover();
    w.aws.advance(FAILOVER + 600);
    const waiting = await w.describeGlobal();
    expect(waiting.FailoverState?.Status).toBe('failing-over');
    expect(writerOf(waiting)).toEqual([w.primary.arn]);
    promoted = true;
    expect(writerOf(await w.describeGlobal())).toEqual([w.secondary.arn]);
  });

  test('a stuck failover stays failing-over', async () => {
    const w = world();
    w.aws.stuckGlobalFailovers.add(GLOBAL);
    await w.failover();
    w.aws.advance(24 * 3600);
    expect((await w.describeGlobal()).FailoverState?.Status).toBe('failing-over');
  });

  test('the old primary rejoins as a secondary once its Region is back: a snapshot of its volume, pending-resync until rebuilt', async () => {
    const w = world();
    w.aws.unreachable.add(HOME);
    await w.failover();
    w.aws.advance(FAILOVER + 3600);
    expect(memberOf(await w.describeGlobal(), w.primary.arn)).toBeUndefined();
    // WHEN us-east-1 is healthy again
    w.aws.unreachable.delete(HOME);
    w.aws.advance(60);
    const back = await w.describeGlobal(HOME);
    // THEN it is a secondary again, being rebuilt, and Aurora kept its volume at the point of failure
    expect(memberOf(back, w.primary.arn)).toEqual({
      DBClusterArn: w.primary.arn,
      Readers: [],
      IsWriter: false,
      SynchronizationStatus: 'pending-resync',
    });
    expect(memberOf(back, w.secondary.arn)?.Readers).toEqual([w.primary.arn]);
    expect(w.aws.clusterSnapshots).toEqual([
      {
        id: 'rds:unplanned-global-failover-mlp-tier1-aurora-use1-2026-12-01-12-00',
        region: HOME,
        clusterArn: w.primary.arn,
        globalClusterId: GLOBAL,
        at: FAILOVER + 3660,
      },
    ]);
    // A switchover back is refused until the rebuild is done
    await expect(w.switchover(TARGET, w.primary.arn)).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    w.aws.advance(REBUILD - 1);
    expect(memberOf(await w.describeGlobal(), w.primary.arn)?.SynchronizationStatus).toBe('pending-resync');
    w.aws.advance(1);
    expect(memberOf(await w.describeGlobal(), w.primary.arn)?.SynchronizationStatus).toBe('connected');
    expect((await w.switchover(TARGET, w.primary.arn)).GlobalCluster?.Status).toBe('switching-over');
  });

  test('a partitioned old primary does not rejoin until the partition heals', async () => {
    const w = world();
    w.aws.partitioned.add(HOME);
    await w.failover();
    w.aws.advance(FAILOVER + 60);
    expect(memberOf(await w.describeGlobal(), w.primary.arn)).toBeUndefined();
    w.aws.partitioned.delete(HOME);
    expect(memberOf(await w.describeGlobal(), w.primary.arn)?.SynchronizationStatus).toBe('pending-resync');
    expect(w.aws.clusterSnapshots.map((s) => s.clusterArn)).toEqual([w.primary.arn]);
  });

  test('with three Regions, the other secondary is rebuilt after the failover', async () => {
    const w = world({ third: true });
    w.aws.unreachable.add(HOME);
    await w.failover();
    w.aws.advance(FAILOVER);
    const g = await w.describeGlobal();
    expect(writerOf(g)).toEqual([w.secondary.arn]);
    expect(memberOf(g, w.third?.arn as string)?.SynchronizationStatus).toBe('pending-resync');
    w.aws.advance(REBUILD);
    expect(memberOf(await w.describeGlobal(), w.third?.arn as string)?.SynchronizationStatus).toBe('connected');
  });

  test('a failover of a healthy global database: the old primary rejoins at once', async () => {
    const w = world();
    await w.failover();
    w.aws.advance(FAILOVER);
    const g = await w.describeGlobal();
    expect(writerOf(g)).toEqual([w.secondary.arn]);
    expect(memberOf(g, w.primary.arn)?.SynchronizationStatus).toBe('pending-resync');
    expect(w.aws.clusterSnapshots).toHaveLength(1);
  });
});

describe('SwitchoverGlobalCluster: the planned switchover', () => {
  test('pending, switching-over, then the roles swap with no rejoin: the old primary is a connected secondary', async () => {
    const w = world();
    const out = await w.switchover(HOME);
    expect(out.GlobalCluster).toMatchObject({
      Status: 'switching-over',
      FailoverState: { Status: 'pending', FromDbClusterArn: w.primary.arn, ToDbClusterArn: w.secondary.arn, IsDataLossAllowed: false },
    });
    w.aws.advance(VERIFY);
    expect((await w.describeGlobal()).FailoverState?.Status).toBe('switching-over');
    w.aws.advance(SWITCHOVER - VERIFY - 1);
    expect(writerOf(await w.describeGlobal())).toEqual([w.primary.arn]);
    w.aws.advance(1);
    const g = await w.describeGlobal();
    expect(g).toMatchObject({ Status: 'available', FailoverState: {} });
    expect(g.GlobalClusterMembers).toEqual([
      { DBClusterArn: w.primary.arn, Readers: [], IsWriter: false, SynchronizationStatus: 'connected' },
      { DBClusterArn: w.secondary.arn, Readers: [w.primary.arn], IsWriter: true, SynchronizationStatus: 'connected' },
    ]);
    expect(w.aws.resolveGlobalEndpoint(w.global.endpoint)?.id).toBe(w.secondary.id);
    expect(w.promoted).toEqual([{ cluster: w.secondary.id, former: w.primary.id, at: SWITCHOVER }]);
    expect(w.aws.clusterSnapshots).toEqual([]);
  });

  test('FailoverGlobalCluster without AllowDataLoss is a switchover', async () => {
    const w = world();
    const out = await w
      .rds(HOME)
      .send(new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL, TargetDbClusterIdentifier: w.secondary.arn }));
    expect(out.GlobalCluster).toMatchObject({ Status: 'switching-over', FailoverState: { IsDataLossAllowed: false } });
    w.aws.advance(SWITCHOVER);
    expect(memberOf(await w.describeGlobal(), w.primary.arn)).toMatchObject({ IsWriter: false, SynchronizationStatus: 'connected' });
  });

  test('refused with the primary’s Region lost (InvalidGlobalClusterStateFault), as is FailoverGlobalCluster without AllowDataLoss; a failover then works', async () => {
    const w = world();
    w.aws.unreachable.add(HOME);
    await expect(w.switchover(HOME)).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(w.switchover(TARGET)).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    await expect(
      w.rds(TARGET).send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: GLOBAL,
          TargetDbClusterIdentifier: w.secondary.arn,
          Switchover: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    expect((await w.describeGlobal()).Status).toBe('available');
    expect((await w.failover(TARGET)).GlobalCluster?.Status).toBe('failing-over');
  });

  test('refused with a secondary unreachable or its Region partitioned: a switchover needs every cluster healthy', async () => {
    const w = world({ third: true });
    w.aws.partitioned.add(THIRD);
    await expect(w.switchover(HOME)).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    w.aws.partitioned.delete(THIRD);
    w.primary.reachable = false;
    await expect(w.switchover(HOME)).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    w.primary.reachable = undefined;
    expect((await w.switchover(HOME)).GlobalCluster?.Status).toBe('switching-over');
  });

  test('the primary’s Region lost while the switchover is pending: it is cancelled, the roles unchanged, and a failover can follow', async () => {
    const w = world();
    await w.switchover(HOME);
    w.aws.unreachable.add(HOME);
    w.aws.advance(VERIFY);
    const cancelling = await w.describeGlobal();
    expect(cancelling).toMatchObject({ Status: 'switching-over', FailoverState: { Status: 'cancelling' } });
    await expect(w.failover()).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    w.aws.advance(VERIFY);
    const back = await w.describeGlobal();
    expect(back).toMatchObject({ Status: 'available', FailoverState: {} });
    expect(writerOf(back)).toEqual([w.primary.arn]);
    expect(w.promoted).toEqual([]);
    expect((await w.failover()).GlobalCluster?.FailoverState?.Status).toBe('pending');
  });
});

describe('what RDS refuses', () => {
  test('AllowDataLoss with Switchover is InvalidParameterCombination', async () => {
    const w = world();
    await expect(
      w.rds(TARGET).send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: GLOBAL,
          TargetDbClusterIdentifier: w.secondary.arn,
          AllowDataLoss: true,
          Switchover: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    expect((await w.describeGlobal()).FailoverState).toEqual({});
  });

  test('a target outside the global cluster, or already its writer, is InvalidParameterValue', async () => {
    const w = world();
    const stranger = w.aws.addDbCluster({ id: 'mlp-tier1-aurora-other', region: TARGET });
    await expect(w.switchover(HOME, stranger.arn)).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(w.failover(TARGET, stranger)).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(w.switchover(HOME, w.primary.arn)).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  test('the secondary named by its bare identifier in the primary’s Region is not found (DBClusterNotFoundFault): name it by ARN', async () => {
    const w = world();
    await expect(w.switchover(HOME, w.secondary.id)).rejects.toMatchObject({ name: 'DBClusterNotFoundFault' });
    expect((await w.switchover(HOME, w.secondary.arn)).GlobalCluster?.Status).toBe('switching-over');
  });

  test('an unknown global cluster is GlobalClusterNotFoundFault', async () => {
    const w = world();
    await expect(
      w.rds(HOME).send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: 'nope', TargetDbClusterIdentifier: w.secondary.arn })),
    ).rejects.toMatchObject({ name: 'GlobalClusterNotFoundFault' });
  });

  test('a target not available, headless, or on another minor version is InvalidDBClusterStateFault', async () => {
    const w = world();
    w.secondary.status = 'modifying';
    await expect(w.failover()).rejects.toMatchObject({ name: 'InvalidDBClusterStateFault' });
    w.secondary.status = 'available';
    w.secondary.headless = true;
    await expect(w.switchover()).rejects.toMatchObject({ name: 'InvalidDBClusterStateFault' });
    w.secondary.headless = undefined;
    w.secondary.engineVersion = '16.3';
    await expect(w.switchover()).rejects.toMatchObject({ name: 'InvalidDBClusterStateFault' });
    w.secondary.engineVersion = '16.4';
    expect((await w.switchover()).GlobalCluster?.Status).toBe('switching-over');
  });

  test('a second operation while one is under way is InvalidGlobalClusterStateFault', async () => {
    const w = world({ third: true });
    await w.switchover();
    await expect(w.failover(THIRD, w.third)).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    await expect(w.switchover(HOME, w.third?.arn)).rejects.toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
  });
});

describe('IAM: both operations need the cluster and the global cluster', () => {
  const failoverAs = (w: ReturnType<typeof world>, who: Principal) =>
    w.aws
      .asClients(who)
      .rds(TARGET)
      .send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: GLOBAL,
          TargetDbClusterIdentifier: w.secondary.arn,
          AllowDataLoss: true,
        }),
      );

  test('a policy without the global cluster’s ARN (which has no Region) is denied', async () => {
    const w = world();
    const clusterOnly = principal('ClusterOnly', [
      { Action: ['rds:FailoverGlobalCluster'], Resource: [`arn:aws:rds:*:${ACCOUNT}:cluster:mlp-tier1-aurora-*`] },
    ]);
    const denied = failoverAs(w, clusterOnly);
    await expect(denied).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(denied).rejects.toThrow(`rds:FailoverGlobalCluster on resource: ${GLOBAL_ARN}`);
    expect(w.global.failoverState).toBeUndefined();
  });

  test('a policy with a Region in the global cluster’s ARN is denied too', async () => {
    const w = world();
    const regional = principal('Regional', [
      {
        Action: ['rds:FailoverGlobalCluster'],
        Resource: [`arn:aws:rds:*:${ACCOUNT}:cluster:mlp-tier1-aurora-*`, `arn:aws:rds:${TARGET}:${ACCOUNT}:global-cluster:${GLOBAL}`],
      },
    ]);
    await expect(failoverAs(w, regional)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  test('a policy without the target cluster is denied on the cluster’s ARN', async () => {
    const w = world();
    const globalOnly = principal('GlobalOnly', [{ Action: ['rds:FailoverGlobalCluster'], Resource: [GLOBAL_ARN] }]);
    await expect(failoverAs(w, globalOnly)).rejects.toThrow(`rds:FailoverGlobalCluster on resource: ${w.secondary.arn}`);
  });

  test('with both it is allowed, and both were authorized', async () => {
    const w = world();
    const both = principal('Both', [{ Action: ['rds:FailoverGlobalCluster'], Resource: [w.secondary.arn, GLOBAL_ARN] }]);
    expect((await failoverAs(w, both)).GlobalCluster?.Status).toBe('failing-over');
    expect(w.aws.authorizations.filter((a) => a.caller === 'Both').map((a) => `${a.action} ${a.resource}`)).toEqual([
      `rds:FailoverGlobalCluster ${w.secondary.arn}`,
      `rds:FailoverGlobalCluster ${GLOBAL_ARN}`,
    ]);
  });

  test('SwitchoverGlobalCluster, DescribeGlobalClusters and DescribeDBClusters authorize their resources', async () => {
    const w = world();
    await w.describeGlobal();
    await w.rds(TARGET).send(new DescribeDBClustersCommand({ DBClusterIdentifier: w.secondary.id }));
    await w.switchover();
    expect(w.aws.authorizations.map((a) => `${a.action} ${a.resource}`)).toEqual([
      `rds:DescribeGlobalClusters ${GLOBAL_ARN}`,
      `rds:DescribeDBClusters ${w.secondary.arn}`,
      `rds:SwitchoverGlobalCluster ${w.secondary.arn}`,
      `rds:SwitchoverGlobalCluster ${GLOBAL_ARN}`,
    ]);
    const describeOnly = principal('DescribeOnly', [{ Action: ['rds:DescribeGlobalClusters'], Resource: [GLOBAL_ARN] }]);
    await expect(
      w.aws
        .asClients(describeOnly)
        .rds(HOME)
        .send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL, TargetDbClusterIdentifier: w.secondary.arn })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
