import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { BucketReplicationRule } from '../artifacts';
import { pascalCase } from '../private/ids';
import { acknowledgeNist } from '../private/nag';
import { chunked, METRICS_PER_ALARM, type ReplicationLagSource, replicationLagMetric, replicationLagThreshold } from './dr-metrics';

const ONE_MINUTE = Duration.minutes(1);

/** A region's cache as a secondary of the Global Datastore. */
export interface CacheReplicationSource {
  readonly replicationGroupId: string;
  readonly shards: number;
  readonly replicasPerShard: number;
}

export interface ReplicationAlarmsProps {
  readonly tier: string;
  readonly regionCode: string;
  /** The region's own paging action: the composite `rpo-at-risk` acts on it, on ALARM and on OK. */
  readonly paging: cloudwatch.IAlarmAction;
  /** The recovery point objective every lag is held to, in seconds. */
  readonly rpoSeconds: number;
  /** @default no database lag (the region holds the primary, or nothing replicates into it) */
  readonly database?: ReplicationLagSource;
  /** @default no cache lag (the region is outside the Global Datastore, or its primary) */
  readonly cache?: CacheReplicationSource;
  /** MSK Replicators that replicate into this region's cluster, and the region code each reads from. @default none */
  readonly kafkaFlows?: readonly { readonly replicatorName: string; readonly from: string }[];
  /** Messages a replicator may lag behind its source. */
  readonly kafkaMessageLag: number;
  /** This region's bucket's replication rules, and Replication Time Control's threshold. @default none */
  readonly artifacts?: { readonly rules: readonly BucketReplicationRule[]; readonly thresholdMinutes: number };
  /** The multi-Region keyspace whose replication latency this region sees. @default none */
  readonly keyspaceName?: string;
}

/**
 * Replication of every store into (or, for S3, out of) one region, against the RPO. One symptom, the
 * RPO at risk, has as many causes as stores: each cause is an alarm without actions of its own, and the
 * composite `mlp-<tier>-<code>-rpo-at-risk` pages once when any of them is in ALARM, naming them all.
 * Every lag waits three minutes over its threshold, so a burst that catches up is not a page, and
 * treats missing data as missing (no data is not lag: right after a switchover, or an idle flow).
 */
export class ReplicationAlarms extends Construct {
  /** The causes, by alarm name. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Pages when any cause is in ALARM; absent when nothing replicates here. */
  public readonly rpoAtRisk?: cloudwatch.CompositeAlarm;
  private readonly created = new Map<string, cloudwatch.Alarm>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ReplicationAlarmsProps,
  ) {
    super(scope, id);
    this.alarms = this.created;
    const rpo = props.rpoSeconds;
    if (props.database) this.watchDatabase(props.database);
    if (props.cache) this.watchCache(props.cache);
    for (const flow of props.kafkaFlows ?? []) this.watchKafka(flow.replicatorName, flow.from);
    if (props.artifacts) {
      for (const rule of props.artifacts.rules) this.watchBucket(rule, props.artifacts.thresholdMinutes);
    }
    if (props.keyspaceName) {
      this.lagAlarm('KeyspaceLag', 'keyspace-replication-lag', {
        what: `the feature keyspace ${props.keyspaceName}'s replication into this region`,
        // Metrics Insights over every series of the keyspace here, whatever the table or sending region.
        metric: new cloudwatch.MathExpression({
          expression: `SELECT MAX(ReplicationLatency) FROM "AWS/Cassandra" WHERE Keyspace = '${props.keyspaceName}'`,
          period: ONE_MINUTE,
          usingMetrics: {},
          label: 'Keyspaces ReplicationLatency (ms)',
        }),
        threshold: rpo * 1000,
        over: `${rpo} s (the RPO)`,
      });
    }
    if (this.created.size > 0) {
      const causes = [...this.created.values()];
      this.rpoAtRisk = new cloudwatch.CompositeAlarm(this, 'RpoAtRisk', {
        compositeAlarmName: this.name('rpo-at-risk'),
        alarmDescription: `Replication into ${props.regionCode} is behind its objective (RPO ${rpo} s; S3 against Replication Time Control): a region failover now would lose more than the RPO allows. The alarm in ALARM among ${causes.map((a) => a.alarmName).join(', ')} names the store. First: check the primary's write load and that store's replication before starting any failover (docs/operations.md).`,
        alarmRule: cloudwatch.AlarmRule.anyOf(...causes.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
      });
      this.rpoAtRisk.addAlarmAction(props.paging);
      this.rpoAtRisk.addOkAction(props.paging);
    }
  }

  private name(what: string): string {
    return `mlp-${this.props.tier}-${this.props.regionCode}-${what}`;
  }

  private lagAlarm(
    id: string,
    what: string,
    spec: { what: string; metric: cloudwatch.IMetric; threshold: number; over: string; evaluations?: number; window?: string },
  ): cloudwatch.Alarm {
    const minutes = spec.evaluations ?? 3;
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: this.name(what),
      alarmDescription: `${spec.what} has been more than ${spec.over} behind for ${spec.window ?? `${minutes} minutes`}; part of rpo-at-risk, which pages.`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    acknowledgeNist(
      alarm,
      'CloudWatchAlarmAction',
      `A cause of the composite alarm ${this.name('rpo-at-risk')}, which pages on the region's topic; an action here too would page twice for one cause.`,
    );
    this.created.set(alarm.alarmName, alarm);
    return alarm;
  }

  private watchDatabase(source: ReplicationLagSource): void {
    const aurora = source.engine === 'aurora-postgresql-global';
    this.lagAlarm('ReplicationLag', aurora ? 'database-rpo-lag' : 'database-replica-lag', {
      what: `${source.databaseIdentifier} (${aurora ? 'AuroraGlobalDBRPOLag' : 'ReplicaLag'})`,
      metric: replicationLagMetric(source),
      threshold: replicationLagThreshold(source).value,
      over: `${source.rpoSeconds} s (the RPO)`,
    });
  }

  /**
   * `GlobalDatastoreReplicationLag` (seconds) is published per node (`CacheClusterId`
   * `<group>-<shard>-<node>`, ElastiCache's names in a cluster-mode group): the largest over every node of
   * the group, whichever holds each shard's primary now, ten nodes to an alarm.
   */
  private watchCache(cache: CacheReplicationSource): void {
    const nodes: string[] = [];
    for (let shard = 1; shard <= cache.shards; shard++) {
      for (let node = 1; node <= cache.replicasPerShard + 1; node++) {
        nodes.push(`${cache.replicationGroupId}-${String(shard).padStart(4, '0')}-${String(node).padStart(3, '0')}`);
      }
    }
    const chunks = chunked(nodes, METRICS_PER_ALARM);
    chunks.forEach((chunk, index) => {
      const usingMetrics = Object.fromEntries(
        chunk.map((node, i) => [
          `n${i}`,
          new cloudwatch.Metric({
            namespace: 'AWS/ElastiCache',
            metricName: 'GlobalDatastoreReplicationLag',
            dimensionsMap: { CacheClusterId: node },
            statistic: cloudwatch.Stats.MAXIMUM,
            period: ONE_MINUTE,
          }),
        ]),
      );
      const suffix = chunks.length === 1 ? '' : `-${index + 1}`;
      this.lagAlarm(`CacheLag${suffix}`, `cache-replication-lag${suffix}`, {
        what: `${cache.replicationGroupId} (GlobalDatastoreReplicationLag, nodes ${chunk[0]} to ${chunk.at(-1)})`,
        metric: new cloudwatch.MathExpression({
          expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
          usingMetrics,
          period: ONE_MINUTE,
          label: 'GlobalDatastoreReplicationLag (s), largest node',
        }),
        threshold: this.props.rpoSeconds,
        over: `${this.props.rpoSeconds} s (the RPO)`,
      });
    });
  }

  /** MSK Replicator publishes in the target's region (MSK Developer Guide, "Monitor replication"). */
  private watchKafka(replicatorName: string, from: string): void {
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Kafka',
        metricName,
        dimensionsMap: { ReplicatorName: replicatorName },
        statistic,
        period: ONE_MINUTE,
      });
    this.lagAlarm(`KafkaFrom${pascalCase(from)}Latency`, `kafka-from-${from}-latency`, {
      what: `MSK Replicator ${replicatorName} (ReplicationLatency)`,
      metric: metric('ReplicationLatency', cloudwatch.Stats.MAXIMUM),
      threshold: this.props.rpoSeconds * 1000,
      over: `${this.props.rpoSeconds} s (the RPO)`,
    });
    this.lagAlarm(`KafkaFrom${pascalCase(from)}MessageLag`, `kafka-from-${from}-message-lag`, {
      what: `MSK Replicator ${replicatorName} (MessageLag, messages not yet read from its source)`,
      metric: metric('MessageLag', cloudwatch.Stats.SUM),
      threshold: this.props.kafkaMessageLag,
      over: `${this.props.kafkaMessageLag} messages`,
    });
  }

  /**
   * S3 publishes replication metrics in the source bucket's region, per rule (SourceBucket,
   * DestinationBucket, RuleId), when the rule enables them; Replication Time Control promises 99.99 %
   * of objects within its threshold (S3 User Guide, "Meeting compliance requirements with S3 RTC").
   */
  private watchBucket(rule: BucketReplicationRule, thresholdMinutes: number): void {
    const metric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: 'AWS/S3',
        metricName,
        dimensionsMap: { SourceBucket: rule.sourceBucketName, DestinationBucket: rule.destinationBucketName, RuleId: rule.ruleId },
        statistic,
        period,
      });
    const to = rule.destinationRegion;
    this.lagAlarm(`ArtifactLatencyTo${pascalCase(to)}`, `artifact-replication-latency-${to}`, {
      what: `Artifact replication to ${to} (ReplicationLatency)`,
      metric: metric('ReplicationLatency', cloudwatch.Stats.MAXIMUM, ONE_MINUTE),
      threshold: thresholdMinutes * 60,
      over: `${thresholdMinutes} minutes (Replication Time Control's threshold)`,
    });
    // A backlog that has not once been empty for a whole RTC window: objects are waiting longer than RTC allows.
    this.lagAlarm(`ArtifactPendingTo${pascalCase(to)}`, `artifact-replication-pending-${to}`, {
      what: `Artifact replication to ${to} (OperationsPendingReplication, never drained in ${thresholdMinutes} minutes)`,
      metric: metric('OperationsPendingReplication', cloudwatch.Stats.MINIMUM, Duration.minutes(thresholdMinutes)),
      threshold: 0,
      over: '0 pending operations',
      evaluations: 1,
      window: `every minute of ${thresholdMinutes}`,
    });
  }
}
