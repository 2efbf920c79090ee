import { CfnOutput, Duration, Size, type Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import {
  artifactBucketName,
  CACHE_TAG,
  cacheReplicationGroupId,
  cacheRoleOf,
  featureKeyspaceName,
  type PlatformConfig,
  type RegionPlan,
  type RunbookParameterKey,
  regionDatabaseOf,
  replicatedDatabaseOf,
} from '../../lib/config';
import type { BucketReplication } from '../artifacts';
import type { MskReplicator } from '../kafka';
import { type RunbookSet, ScheduledPreflight } from '../runbooks';
import { servicesDashboardName } from './api-operations';
import { DatabaseAlarms } from './database-alarms';
import type { ReplicationLagSource } from './dr-metrics';
import { FaultInjection } from './fault-injection';
import { GameDays } from './game-days';
import { OnCallRole } from './on-call-role';
import { PagingTopic } from './paging-topic';
import { RegionAlarms } from './region-alarms';
import { RegionDashboard } from './region-dashboard';
import { ReplicationAlarms } from './replication-alarms';
import { tierDashboardName } from './tier-dashboard';

export interface RegionOperationsProps {
  readonly config: PlatformConfig;
  readonly regionPlan: RegionPlan;
  /** The region's data key: it encrypts the paging topic, the reports and the FIS logs. */
  readonly dataKey: kms.IKey;
  /** The region's VPC, whose private subnets a game day cuts off. */
  readonly vpc: ec2.IVpc;
  /** Identifier of the region's current database, which a game day fails over. */
  readonly databaseIdentifier: string;
  /** Replication out of the region's artifact bucket. */
  readonly artifactReplication: BucketReplication;
  /** MSK Replicator flows into the region's cluster, by source region name. */
  readonly kafkaFlows: ReadonlyMap<string, MskReplicator>;
  /** Publishes one of the operations' runbook parameters (the stack's `publishRunbookParameter`). */
  readonly publish: (key: RunbookParameterKey<'operations'>, value: string) => void;
  /** Builds the region's runbooks once the paging topic exists, or none. */
  readonly runbooks: () => RunbookSet | undefined;
}

/** What `addRegionOperations` created. */
export interface RegionOperations {
  /** What the region's alarms notify; subscribe the on-call channel to it. */
  readonly paging: PagingTopic;
  readonly runbooks?: RunbookSet;
  readonly alarms: RegionAlarms;
  /** Replication into the region against the RPO, paging once as `rpo-at-risk`. */
  readonly replicationAlarms: ReplicationAlarms;
  /** The region's database against the tier's limits. */
  readonly databaseAlarms?: DatabaseAlarms;
  /** A secondary's daily preflight of a failover to itself, its not-ready alarm paging here. */
  readonly dailyPreflight?: ScheduledPreflight;
  /** The region's disaster-recovery dashboard, `mlp-<tier>-<code>-dr`. */
  readonly dashboard: RegionDashboard;
  readonly onCall: OnCallRole;
}

/**
 * The operations of one region: the paging topic, the region's, replication and database alarms,
 * a secondary's daily preflight, the DR dashboard, the on-call role and the game days. Everything is
 * created directly in `stack` (not under a construct of its own), so the ids and logical ids stay
 * those the stack has always had.
 */
export function addRegionOperations(stack: Stack, props: RegionOperationsProps): RegionOperations {
  const { config, regionPlan } = props;
  const tier = config.tier.name;
  const paging = new PagingTopic(stack, 'Paging', { tier, regionCode: regionPlan.code, masterKey: props.dataKey });
  props.publish('paging-topic-arn', paging.topic.topicArn);
  new CfnOutput(stack, 'PagingTopicArn', {
    value: paging.topic.topicArn,
    description: `Subscribe the on-call channel: every alarm of ${stack.region} pages here`,
  });
  const runbooks = props.runbooks();
  const { rpoSeconds, rtoSeconds } = config.tier.recovery.region; // [003] RPO 1 min, RTO 5 min
  const replicated = replicatedDatabaseOf(config, regionPlan);
  const replication = replicated && { ...replicated, rpoSeconds };
  const alarms = new RegionAlarms(stack, 'Alarms', {
    tier,
    region: stack.region,
    regionCode: regionPlan.code,
    rtoSeconds,
    paging: paging.alarmAction,
    ...(runbooks ? { runbooks } : {}),
  });
  const replicationAlarms = addReplicationAlarms(stack, props, paging, replication);
  const database = regionDatabaseOf(config, regionPlan);
  const { alarms: limits, postgres } = config.tier;
  const databaseAlarms =
    database &&
    new DatabaseAlarms(stack, 'DatabaseAlarms', {
      tier,
      regionCode: regionPlan.code,
      paging: paging.alarmAction,
      database,
      maxConnections: postgres.maxConnections,
      allocatedStorage: Size.gibibytes(postgres.allocatedStorageGiB),
      cpuPercent: limits.databaseCpuPercent,
      connectionsPercent: limits.databaseConnectionsPercent,
      storageUsedPercent: limits.databaseStorageUsedPercent,
      sustained: Duration.minutes(limits.databaseMinutes),
    });
  // Every secondary asks itself daily whether it could take over (the primary cannot fail over to itself).
  const dailyPreflight =
    runbooks && !regionPlan.isPrimary
      ? new ScheduledPreflight(stack, 'DailyPreflight', {
          tier,
          region: stack.region,
          regionCode: regionPlan.code,
          regionFailover: runbooks.regionFailover,
          schedule: config.tier.drills.preflight,
          alarmAction: paging.alarmAction,
        })
      : undefined;
  const dashboard = new RegionDashboard(stack, 'Dashboard', {
    tier,
    region: stack.region,
    regionCode: regionPlan.code,
    alarms: [
      ...alarms.alarms.values(),
      ...alarms.composites.values(),
      ...(replicationAlarms.rpoAtRisk ? [replicationAlarms.rpoAtRisk] : []),
      ...(databaseAlarms ? databaseAlarms.alarms.values() : []),
      ...(runbooks ? [runbooks.primaryLostAlarm] : []),
      ...(dailyPreflight ? [dailyPreflight.notReadyAlarm] : []),
    ],
    ...(runbooks ? { runbooks } : {}),
    ...(replication ? { replication } : {}),
  });

  // On-call: start and stop this region's runbooks, switch the automatic start off, read the reports, dashboards and alarms.
  const onCall = new OnCallRole(stack, 'OnCall', {
    tier,
    regionCode: regionPlan.code,
    ...(config.onCallPrincipalArns.length > 0 ? { principalArns: config.onCallPrincipalArns } : {}),
    ...(runbooks ? { runbooks } : {}),
    ...(runbooks?.automaticFailover ? { automaticStart: runbooks.automaticFailover } : {}),
    reportBucketName: artifactBucketName(tier, stack.account, stack.region),
    reportKey: props.dataKey,
    dashboards: [dashboard.dashboard],
    dashboardNames: [tierDashboardName(tier), servicesDashboardName(tier, regionPlan.code)],
  });
  props.publish('on-call-role-arn', onCall.role.roleArn);
  new CfnOutput(stack, 'OnCallRoleArn', {
    value: onCall.role.roleArn,
    description: `Assume it (with MFA) to start or stop the runbooks of ${stack.region} and read their reports and dashboards`,
  });
  // Game days (issue 20), where the tier allows them: see addGameDays.
  if (runbooks && config.gameDays) addGameDays(stack, props, runbooks, alarms);
  return {
    paging,
    ...(runbooks ? { runbooks } : {}),
    alarms,
    replicationAlarms,
    ...(databaseAlarms ? { databaseAlarms } : {}),
    ...(dailyPreflight ? { dailyPreflight } : {}),
    dashboard,
    onCall,
  };
}

/**
 * Every store's replication that this region can see: into it (database, cache, Kafka, keyspace),
 * and out of its bucket (S3 publishes replication metrics in the source region).
 */
function addReplicationAlarms(
  stack: Stack,
  props: RegionOperationsProps,
  paging: PagingTopic,
  database?: ReplicationLagSource,
): ReplicationAlarms {
  const { config, regionPlan } = props;
  const tier = config.tier;
  const cache = cacheRoleOf(config, regionPlan) === 'member';
  const rtc = props.artifactReplication.replicationTimeControlMinutes;
  return new ReplicationAlarms(stack, 'ReplicationAlarms', {
    tier: tier.name,
    regionCode: regionPlan.code,
    paging: paging.alarmAction,
    rpoSeconds: tier.recovery.region.rpoSeconds, // [003] RPO 1 min
    kafkaMessageLag: tier.alarms.kafkaReplicatorMessageLag, // [004] lag > 100K messages
    ...(database ? { database } : {}),
    ...(cache
      ? {
          cache: {
            replicationGroupId: cacheReplicationGroupId(tier.name, regionPlan.code),
            shards: tier.redis.shards,
            replicasPerShard: tier.redis.replicasPerShard,
          },
        }
      : {}),
    kafkaFlows: [...props.kafkaFlows].map(([source, flow]) => ({
      replicatorName: flow.replicator.replicatorName,
      from: config.regions.find((r) => r.name === source)?.code ?? source,
    })),
    ...(rtc ? { artifacts: { rules: props.artifactReplication.rules, thresholdMinutes: rtc } } : {}),
    // The home region creates the keyspace in every region of the tier.
    keyspaceName: featureKeyspaceName(tier.name),
  });
}

/**
 * The region's part of the tier's game days (`-c gameDays`, on for dev). The planned switchover
 * and its failback are placed by home order, not by the primary: the switchover to the home
 * region's successor runs there on `drills.regionFailoverDrill`, the failback in the home region
 * later that day. So the deploy that re-protects home on RDS between the two (it moves
 * `-c primaryRegion`) leaves both schedules where they are. In the primary, on
 * `drills.chaosExercise`, FIS fails the database over and the AzFailover runbook follows; only where
 * the database is Multi-AZ (a promoted dev replica is not), since neither could fail it over
 * otherwise. The primary also holds the FIS templates, for operators to start during a game day.
 */
function addGameDays(stack: Stack, props: RegionOperationsProps, runbooks: RunbookSet, regionAlarms: RegionAlarms): void {
  const { config, regionPlan } = props;
  const tier = config.tier.name;
  const { drills } = config.tier;
  const successor = config.regions.find((r) => !r.isHome);
  const aurora = config.databaseEngine === 'aurora-postgresql-global';
  const current = config.databases[stack.region]?.current;
  const multiAz = aurora || !current?.createdFrom || config.tier.postgres.crossRegionReplicaMultiAz;
  let fault: FaultInjection | undefined;
  if (regionPlan.isPrimary) {
    const takeover = config.regions.find((r) => !r.isPrimary);
    const alarms = [
      'refresh-gate-errors',
      'refresh-gate-silent',
      'write-heartbeats-errors',
      'write-heartbeats-silent',
      'region-failover-failed',
    ];
    fault = new FaultInjection(stack, 'FaultInjection', {
      tier,
      regionCode: regionPlan.code,
      // The primary's gate keeper and heartbeat writer failing, or a failover failing: the game day is hurting the platform.
      stopAlarms: alarms.map((what) => {
        const alarm = regionAlarms.alarms.get(`mlp-${tier}-${regionPlan.code}-${what}`);
        if (!alarm) throw new Error(`unreachable: RegionAlarms creates mlp-${tier}-${regionPlan.code}-${what}`);
        return alarm;
      }),
      cache: {
        replicationGroupId: cacheReplicationGroupId(tier, regionPlan.code),
        selectionTags: { [CACHE_TAG]: cacheReplicationGroupId(tier, regionPlan.code) },
        availabilityZones: regionPlan.availabilityZones,
      },
      ...(multiAz ? { database: { engine: config.databaseEngine, identifier: props.databaseIdentifier } } : {}),
      // Cut off from the region that would take over (the primary's successor): the lease and its quorum under a
      // partition. The private subnets are where the region's cross-region calls start (runbook steps, EKS); the
      // data subnets route nothing out of the VPC.
      ...(takeover ? { crossRegion: { vpc: props.vpc, subnets: props.vpc.privateSubnets, region: takeover.name } } : {}),
      logEncryptionKey: props.dataKey,
      logRetention: config.tier.network.flowLogRetentionDays as logs.RetentionDays,
    });
  }
  const switchoverHere = successor?.name === stack.region;
  const azHere = regionPlan.isPrimary && multiAz;
  if (!switchoverHere && !regionPlan.isHome && !azHere) return;
  new GameDays(stack, 'GameDays', {
    tier,
    region: stack.region,
    regionCode: regionPlan.code,
    runbooks,
    ...(switchoverHere ? { switchoverSchedule: drills.regionFailoverDrill } : {}),
    ...(regionPlan.isHome ? { failbackAfter: drills.regionFailoverDrill } : {}),
    ...(azHere ? { azFailoverSchedule: drills.chaosExercise } : {}),
    ...(azHere && fault?.databaseFailover ? { faultExperiment: fault.databaseFailover } : {}),
  });
}
