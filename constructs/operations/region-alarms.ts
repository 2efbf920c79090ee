import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { RunbookName } from '../../lib/config/naming';
import { pascalCase } from '../private/ids';
import type { RunbookSet } from '../runbooks';
import { type ReplicationLagSource, replicationLagMetric, replicationLagThreshold } from './dr-metrics';

/** Where every alarm description sends the operator first. */
const RUNBOOK_SECTION = 'README, Operations';

const ONE_MINUTE = Duration.minutes(1);

export interface RegionAlarmsProps {
  readonly tier: string;
  /** The region's short code, e.g. `usw2`: every alarm is `mlp-<tier>-<code>-<what>`. */
  readonly regionCode: string;
  /** The region's own paging action (`PagingTopic.alarmAction`): every alarm here acts on it and on nothing else. */
  readonly paging: cloudwatch.IAlarmAction;
  /**
   * The region's runbooks: their state machines' failed, timed-out and aborted executions, the
   * scheduled steps' errors and silence, and the primary-lost composite alarm page.
   * @default no runbook alarms
   */
  readonly runbooks?: RunbookSet;
  /**
   * The region's replicated database, whose lag against the RPO pages.
   * @default no lag alarm (the region holds the primary, or nothing replicates into it)
   */
  readonly replication?: ReplicationLagSource;
}

/**
 * The alarms of one region that page, each acting (on ALARM and on OK) on that region's paging topic
 * only, so what a region reports never depends on another region being up.
 */
export class RegionAlarms extends Construct {
  /** Every alarm this construct created, by name. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;
  private readonly created = new Map<string, cloudwatch.Alarm>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RegionAlarmsProps,
  ) {
    super(scope, id);
    this.alarms = this.created;
    if (props.runbooks) this.watchRunbooks(props.runbooks);
    if (props.replication) this.watchReplication(props.replication);
  }

  private name(what: string): string {
    return `mlp-${this.props.tier}-${this.props.regionCode}-${what}`;
  }

  private page(alarm: cloudwatch.AlarmBase): void {
    alarm.addAlarmAction(this.props.paging);
    alarm.addOkAction(this.props.paging);
  }

  private alarm(id: string, what: string, props: Omit<cloudwatch.AlarmProps, 'alarmName'>): cloudwatch.Alarm {
    const alarmName = this.name(what);
    const alarm = new cloudwatch.Alarm(this, id, { ...props, alarmName });
    this.page(alarm);
    this.created.set(alarmName, alarm);
    return alarm;
  }

  private watchRunbooks(runbooks: RunbookSet): void {
    const region = this.props.regionCode;
    const outcomes = [
      ['Failed', 'failed', (r: RunbookName) => runbooks.metricExecutionsFailed(r, { period: ONE_MINUTE })],
      ['TimedOut', 'timed-out', (r: RunbookName) => runbooks.metricExecutionsTimedOut(r, { period: ONE_MINUTE })],
      ['Aborted', 'aborted', (r: RunbookName) => runbooks.metricExecutionsAborted(r, { period: ONE_MINUTE })],
    ] as const;
    for (const runbook of ['region-failover', 'failback', 'az-failover'] as const) {
      for (const [idSuffix, outcome, metric] of outcomes) {
        this.alarm(`${pascalCase(runbook)}${idSuffix}`, `${runbook}-${outcome}`, {
          alarmDescription: `A ${runbook} execution in ${region} ${outcome.replace('-', ' ')}. First: read its report and execution history, and take it over by hand where it stopped (${RUNBOOK_SECTION}).`,
          metric: metric(runbook),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          // No execution, nothing to report.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      }
    }

    // The steps EventBridge Scheduler runs every minute: the gate keeper (the write lease lapses when
    // it stops), the heartbeat writer (the RPO evidence) and the watchdog (the primary-lost evidence).
    const scheduled: [string, string, lambda.IFunction, string][] = [
      ['RefreshGate', 'refresh-gate', runbooks.functions.RefreshGate, 'the write lease lapses and the gate closes'],
      ['WriteHeartbeats', 'write-heartbeats', runbooks.functions.WriteHeartbeats, 'no heartbeat is written for the RPO check'],
      ['WatchPrimary', 'watch-primary', runbooks.functions.WatchPrimary, 'nothing watches the primary from here'],
    ];
    for (const [id, what, fn, consequence] of scheduled) {
      this.alarm(`${id}Errors`, `${what}-errors`, {
        alarmDescription: `The ${id} runbook step failed in each of the last two minutes in ${region}; while it fails ${consequence}. First: read its log group (${RUNBOOK_SECTION}).`,
        metric: fn.metricErrors({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.alarm(`${id}Silent`, `${what}-silent`, {
        alarmDescription: `The ${id} runbook step has not run for three minutes in ${region} (it is scheduled every minute); ${consequence}. First: check its EventBridge Scheduler schedule and the function (${RUNBOOK_SECTION}).`,
        metric: fn.metricInvocations({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // Lambda publishes no Invocations for a minute without one: silence is the failure.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }

    this.page(runbooks.primaryLostAlarm);
  }

  private watchReplication(source: ReplicationLagSource): void {
    const aurora = source.engine === 'aurora-postgresql-global';
    const metric = replicationLagMetric(source);
    this.alarm('ReplicationLag', aurora ? 'database-rpo-lag' : 'database-replica-lag', {
      alarmDescription: `${source.databaseIdentifier} has been more than ${source.rpoSeconds} s (the RPO) behind the primary for three minutes: a region failover now would lose more than the RPO allows. First: check the primary's write load and the replication's health before starting any failover (${RUNBOOK_SECTION}).`,
      metric,
      threshold: replicationLagThreshold(source).value,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // [ours] three minutes over: a burst that catches up within a minute or two is not a page.
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // No data is not lag: the alarm waits in INSUFFICIENT_DATA (e.g. right after a switchover).
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
  }
}
