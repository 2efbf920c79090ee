import { CfnOutput, Duration, Fn, Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BucketReplication } from '../../constructs/artifacts';
import { MskReplicator } from '../../constructs/kafka';
import { RemoteParameter } from '../../constructs/lookup';
import {
  DatabaseAlarms,
  FaultInjection,
  GameDays,
  OnCallRole,
  PagingTopic,
  RegionAlarms,
  RegionDashboard,
  ReplicationAlarms,
  type ReplicationLagSource,
  servicesDashboardName,
  tierDashboardName,
} from '../../constructs/operations';
import { RunbookSet, ScheduledPreflight } from '../../constructs/runbooks';
import {
  artifactBucketName,
  CACHE_TAG,
  cacheReplicationGroupId,
  cacheRoleOf,
  dataKeyAlias,
  featureKeyspaceName,
  type RegionPlan,
  regionDatabaseOf,
  replicatedDatabaseOf,
  runbookParameterName,
} from '../config';
import type { DataStack } from './data-stack';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

export interface ResilienceStackProps extends RegionalStackProps {
  /** The region's data stack: its Kafka cluster receives the replication flows, its bucket the runbook reports. */
  readonly data: DataStack;
  /** The region's VPC: runbook steps that reach a database run in it. */
  readonly vpc: ec2.IVpc;
  /**
   * Build the DR runbooks.
   * @default true
   */
  readonly runbooks?: boolean;
}

/**
 * Disaster-recovery machinery of one region. Deployed in every region so a surviving region can
 * drive recovery alone, and after every region's data stack, because replication needs every
 * source and destination to exist.
 */
export class ResilienceStack extends RegionalStack {
  public readonly artifactReplication: BucketReplication;
  /** MSK Replicator flows into this region's cluster, by source region name. */
  public readonly kafkaFlows: ReadonlyMap<string, MskReplicator>;
  /** The DR runbooks, runnable from this region. */
  public readonly runbooks?: RunbookSet;
  /** What this region's alarms notify; subscribe the on-call channel to it. */
  public readonly paging: PagingTopic;
  public readonly alarms: RegionAlarms;
  /** Replication into the region against the RPO, paging once as `rpo-at-risk`. */
  public readonly replicationAlarms: ReplicationAlarms;
  /** The region's database against the tier's limits. */
  public readonly databaseAlarms?: DatabaseAlarms;
  /** A secondary's daily preflight of a failover to itself, its not-ready alarm paging here. */
  public readonly dailyPreflight?: ScheduledPreflight;
  /** The region's disaster-recovery dashboard, `mlp-<tier>-<code>-dr`. */
  public readonly dashboard: RegionDashboard;

  constructor(scope: Construct, props: ResilienceStackProps) {
    super(scope, 'resilience', props);
    const tier = this.config.tier.name;

    // The primary replicates to every secondary. Each secondary replicates back to the primary, so
    // writes taken while failed over flow home (and queue while the primary is down), which is what
    // failback needs. Replicas are never re-replicated, so this cannot loop.
    const targets = this.regionPlan.isPrimary ? this.otherRegions : [this.primaryRegion];
    this.artifactReplication = new BucketReplication(this, 'ArtifactReplication', {
      sourceBucketName: artifactBucketName(tier, this.account, this.region),
      sourceKmsKeyAlias: dataKeyAlias(tier),
      logEncryptionKey: props.data.dataKey,
      destinations: targets.map((target) => ({
        bucketName: artifactBucketName(tier, this.account, target.name),
        region: target.name,
        kmsKeyAlias: dataKeyAlias(tier),
      })),
    });

    this.kafkaFlows = this.addKafkaFlows(props.data);

    this.paging = new PagingTopic(this, 'Paging', { tier, regionCode: this.regionPlan.code, masterKey: props.data.dataKey });
    this.publishRunbookParameter('operations', 'paging-topic-arn', this.paging.topic.topicArn);
    new CfnOutput(this, 'PagingTopicArn', {
      value: this.paging.topic.topicArn,
      description: `Subscribe the on-call channel: every alarm of ${this.region} pages here`,
    });
    this.runbooks = props.runbooks === false ? undefined : this.addRunbooks(props);
    const { rpoSeconds, rtoSeconds } = this.config.tier.recovery.region; // [003] RPO 1 min, RTO 5 min
    const replicated = replicatedDatabaseOf(this.config, this.regionPlan);
    const replication = replicated && { ...replicated, rpoSeconds };
    this.alarms = new RegionAlarms(this, 'Alarms', {
      tier,
      region: this.region,
      regionCode: this.regionPlan.code,
      rtoSeconds,
      paging: this.paging.alarmAction,
      ...(this.runbooks ? { runbooks: this.runbooks } : {}),
    });
    this.replicationAlarms = this.addReplicationAlarms(props.data, replication);
    const database = regionDatabaseOf(this.config, this.regionPlan);
    const { alarms: limits, postgres } = this.config.tier;
    this.databaseAlarms =
      database &&
      new DatabaseAlarms(this, 'DatabaseAlarms', {
        tier,
        regionCode: this.regionPlan.code,
        paging: this.paging.alarmAction,
        database,
        maxConnections: postgres.maxConnections,
        allocatedStorage: Size.gibibytes(postgres.allocatedStorageGiB),
        cpuPercent: limits.databaseCpuPercent,
        connectionsPercent: limits.databaseConnectionsPercent,
        storageUsedPercent: limits.databaseStorageUsedPercent,
        sustained: Duration.minutes(limits.databaseMinutes),
      });
    // Every secondary asks itself daily whether it could take over (the primary cannot fail over to itself).
    if (this.runbooks && !this.regionPlan.isPrimary) {
      this.dailyPreflight = new ScheduledPreflight(this, 'DailyPreflight', {
        tier,
        region: this.region,
        regionCode: this.regionPlan.code,
        regionFailover: this.runbooks.regionFailover,
        schedule: this.config.tier.drills.preflight,
        alarmAction: this.paging.alarmAction,
      });
    }
    this.dashboard = new RegionDashboard(this, 'Dashboard', {
      tier,
      region: this.region,
      regionCode: this.regionPlan.code,
      alarms: [
        ...this.alarms.alarms.values(),
        ...this.alarms.composites.values(),
        ...(this.replicationAlarms.rpoAtRisk ? [this.replicationAlarms.rpoAtRisk] : []),
        ...(this.databaseAlarms ? this.databaseAlarms.alarms.values() : []),
        ...(this.runbooks ? [this.runbooks.primaryLostAlarm] : []),
        ...(this.dailyPreflight ? [this.dailyPreflight.notReadyAlarm] : []),
      ],
      ...(this.runbooks ? { runbooks: this.runbooks } : {}),
      ...(replication ? { replication } : {}),
    });

    // On-call: start and stop this region's runbooks, switch the automatic start off, read the reports, dashboards and alarms.
    const onCall = new OnCallRole(this, 'OnCall', {
      tier,
      regionCode: this.regionPlan.code,
      ...(this.config.onCallPrincipalArns.length > 0 ? { principalArns: this.config.onCallPrincipalArns } : {}),
      ...(this.runbooks ? { runbooks: this.runbooks } : {}),
      ...(this.runbooks?.automaticFailover ? { automaticStart: this.runbooks.automaticFailover } : {}),
      reportBucketName: artifactBucketName(tier, this.account, this.region),
      reportKey: props.data.dataKey,
      dashboards: [this.dashboard.dashboard],
      dashboardNames: [tierDashboardName(tier), servicesDashboardName(tier, this.regionPlan.code)],
    });
    this.publishRunbookParameter('operations', 'on-call-role-arn', onCall.role.roleArn);
    new CfnOutput(this, 'OnCallRoleArn', {
      value: onCall.role.roleArn,
      description: `Assume it (with MFA) to start or stop the runbooks of ${this.region} and read their reports and dashboards`,
    });
    // Game days (issue 20), where the tier allows them: see addGameDays.
    if (this.runbooks && this.config.gameDays) this.addGameDays(props, this.runbooks);
  }

  /**
   * Every store's replication that this region can see: into it (database, cache, Kafka, keyspace),
   * and out of its bucket (S3 publishes replication metrics in the source region).
   */
  private addReplicationAlarms(data: DataStack, database?: ReplicationLagSource): ReplicationAlarms {
    const tier = this.config.tier;
    const cache = cacheRoleOf(this.config, this.regionPlan) === 'member' ? data.cache : undefined;
    const rtc = this.artifactReplication.replicationTimeControlMinutes;
    return new ReplicationAlarms(this, 'ReplicationAlarms', {
      tier: tier.name,
      regionCode: this.regionPlan.code,
      paging: this.paging.alarmAction,
      rpoSeconds: tier.recovery.region.rpoSeconds, // [003] RPO 1 min
      kafkaMessageLag: tier.alarms.kafkaReplicatorMessageLag, // [004] lag > 100K messages
      ...(database ? { database } : {}),
      ...(cache
        ? {
            cache: {
              replicationGroupId: cacheReplicationGroupId(tier.name, this.regionPlan.code),
              shards: tier.redis.shards,
              replicasPerShard: tier.redis.replicasPerShard,
            },
          }
        : {}),
      kafkaFlows: [...this.kafkaFlows].map(([source, flow]) => ({
        replicatorName: flow.replicator.replicatorName,
        from: this.config.regions.find((r) => r.name === source)?.code ?? source,
      })),
      ...(rtc ? { artifacts: { rules: this.artifactReplication.rules, thresholdMinutes: rtc } } : {}),
      // The home region creates the keyspace in every region of the tier.
      keyspaceName: featureKeyspaceName(tier.name),
    });
  }

  private addRunbooks(props: ResilienceStackProps): RunbookSet {
    const tier = this.config.tier.name;
    const objectives = this.config.tier.recovery.region;
    const runbooks = new RunbookSet(this, 'Runbooks', {
      tier,
      regions: this.config.regions.map((r) => r.name),
      ...(this.config.witnessRegion ? { witnessRegion: this.config.witnessRegion.name } : {}),
      regionCode: this.regionPlan.code,
      vpc: props.vpc,
      reportBucketName: artifactBucketName(tier, this.account, this.region),
      reportBucketKey: props.data.dataKey,
      rpoSeconds: objectives.rpoSeconds,
      rtoSeconds: objectives.rtoSeconds,
      domain: this.config.domain,
      automaticStart: this.config.tier.recovery.regionFailoverStart.kind === 'automatic',
      databaseEngine: this.config.databaseEngine,
      logRetention: this.config.tier.network.flowLogRetentionDays as logs.RetentionDays,
    });
    for (const [runbook, machine] of [
      ['region-failover', runbooks.regionFailover],
      ['failback', runbooks.failback],
      ['az-failover', runbooks.azFailover],
    ] as const) {
      this.publishRunbookParameter('runbooks', runbook, machine.stateMachineArn);
    }
    return runbooks;
  }

  /**
   * Kafka replication in MSK Replicator mode: a star around the home region, in both directions.
   * The home region pulls from every other region and every other region pulls from home, so the
   * flow a failover or a failback needs already runs (creating a replicator takes about 30 minutes)
   * and no flow changes with the primary. Topic names are identical on every cluster and
   * MSK Replicator never copies a record back to the cluster it came from; a star has one path
   * between any two regions, so nothing arrives twice. Two secondaries reach each other through
   * home, which is the limit of this shape while home is down.
   */
  private addKafkaFlows(data: DataStack): Map<string, MskReplicator> {
    const flows = new Map<string, MskReplicator>();
    if (this.config.kafkaReplicationMode !== 'msk-replicator' || !this.config.kafkaReplication) return flows;
    const sources = this.regionPlan.isHome ? this.otherRegions : [this.homeRegion];
    for (const source of sources) {
      flows.set(source.name, this.addKafkaFlow(source, data, this.config.tier.network.flowLogRetentionDays as logs.RetentionDays));
    }
    this.publishRunbookParameter('kafka', 'replicator-arns', [...flows.values()].map((f) => f.replicator.attrReplicatorArn).join(','));
    return flows;
  }

  /** One flow from `source` into this region's cluster; the source's ARN, subnets and security group come from its SSM parameter. */
  private addKafkaFlow(source: RegionPlan, data: DataStack, logRetention: logs.RetentionDays): MskReplicator {
    const tier = this.config.tier.name;
    const published = new RemoteParameter(this, `KafkaSource${source.code}`, {
      parameterName: runbookParameterName(tier, 'kafka', 'replication-source'),
      region: source.name,
      logEncryptionKey: data.dataKey,
    }).value;
    const part = (index: number) => Fn.select(index, Fn.split('|', published, 3));
    return new MskReplicator(this, `KafkaFlowFrom${source.code}`, {
      replicatorName: `mlp-${tier}-${source.code}-to-${this.regionPlan.code}`,
      source: {
        clusterArn: part(0),
        subnetIds: Fn.split(',', part(1), source.availabilityZones.length),
        securityGroupIds: [part(2)],
        region: source.name,
      },
      target: data.kafka,
      logRetention,
      logEncryptionKey: data.dataKey,
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
  private addGameDays(props: ResilienceStackProps, runbooks: RunbookSet): void {
    const tier = this.config.tier.name;
    const { drills } = this.config.tier;
    const successor = this.config.regions.find((r) => !r.isHome);
    const aurora = this.config.databaseEngine === 'aurora-postgresql-global';
    const current = this.config.databases[this.region]?.current;
    const multiAz = aurora || !current?.createdFrom || this.config.tier.postgres.crossRegionReplicaMultiAz;
    let fault: FaultInjection | undefined;
    if (this.regionPlan.isPrimary) {
      const takeover = this.config.regions.find((r) => !r.isPrimary);
      const alarms = [
        'refresh-gate-errors',
        'refresh-gate-silent',
        'write-heartbeats-errors',
        'write-heartbeats-silent',
        'region-failover-failed',
      ];
      fault = new FaultInjection(this, 'FaultInjection', {
        tier,
        regionCode: this.regionPlan.code,
        // The primary's gate keeper and heartbeat writer failing, or a failover failing: the game day is hurting the platform.
        stopAlarms: alarms.map((what) => {
          const alarm = this.alarms.alarms.get(`mlp-${tier}-${this.regionPlan.code}-${what}`);
          if (!alarm) throw new Error(`unreachable: RegionAlarms creates mlp-${tier}-${this.regionPlan.code}-${what}`);
          return alarm;
        }),
        cache: {
          replicationGroupId: cacheReplicationGroupId(tier, this.regionPlan.code),
          selectionTags: { [CACHE_TAG]: cacheReplicationGroupId(tier, this.regionPlan.code) },
          availabilityZones: this.regionPlan.availabilityZones,
        },
        ...(multiAz ? { database: { engine: this.config.databaseEngine, identifier: props.data.postgres.databaseIdentifier } } : {}),
        // Cut off from the region that would take over (the primary's successor): the lease and its quorum under a
        // partition. The private subnets are where the region's cross-region calls start (runbook steps, EKS); the
        // data subnets route nothing out of the VPC.
        ...(takeover ? { crossRegion: { vpc: props.vpc, subnets: props.vpc.privateSubnets, region: takeover.name } } : {}),
        logEncryptionKey: props.data.dataKey,
        logRetention: this.config.tier.network.flowLogRetentionDays as logs.RetentionDays,
      });
    }
    const switchoverHere = successor?.name === this.region;
    const azHere = this.regionPlan.isPrimary && multiAz;
    if (!switchoverHere && !this.regionPlan.isHome && !azHere) return;
    new GameDays(this, 'GameDays', {
      tier,
      region: this.region,
      regionCode: this.regionPlan.code,
      runbooks,
      ...(switchoverHere ? { switchoverSchedule: drills.regionFailoverDrill } : {}),
      ...(this.regionPlan.isHome ? { failbackAfter: drills.regionFailoverDrill } : {}),
      ...(azHere ? { azFailoverSchedule: drills.chaosExercise } : {}),
      ...(azHere && fault?.databaseFailover ? { faultExperiment: fault.databaseFailover } : {}),
    });
  }
}
