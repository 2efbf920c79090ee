import { Fn } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BucketReplication } from '../../constructs/artifacts';
import { MskReplicator } from '../../constructs/kafka';
import { RemoteParameter } from '../../constructs/lookup';
import {
  addRegionOperations,
  type DatabaseAlarms,
  type PagingTopic,
  type RegionAlarms,
  type RegionDashboard,
  type ReplicationAlarms,
} from '../../constructs/operations';
import { RunbookSet, type ScheduledPreflight } from '../../constructs/runbooks';
import { artifactBucketName, dataKeyAlias, type RegionPlan, runbookParameterName } from '../config';
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

    const operations = addRegionOperations(this, {
      config: this.config,
      regionPlan: this.regionPlan,
      dataKey: props.data.dataKey,
      vpc: props.vpc,
      databaseIdentifier: props.data.postgres.databaseIdentifier,
      artifactReplication: this.artifactReplication,
      kafkaFlows: this.kafkaFlows,
      publish: (key, value) => this.publishRunbookParameter('operations', key, value),
      runbooks: () => (props.runbooks === false ? undefined : this.addRunbooks(props)),
    });
    this.paging = operations.paging;
    this.runbooks = operations.runbooks;
    this.alarms = operations.alarms;
    this.replicationAlarms = operations.replicationAlarms;
    this.databaseAlarms = operations.databaseAlarms;
    this.dailyPreflight = operations.dailyPreflight;
    this.dashboard = operations.dashboard;
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
}
