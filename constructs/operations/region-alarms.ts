import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { HEARTBEAT_METRIC, type RunbookName, WRITE_GATE_METRIC } from '../../lib/config/naming';
import { HEARTBEATS_PER_RUN, PRIMARY_WATCH } from '../../runbooks/definitions/catalogue';
import { pascalCase } from '../private/ids';
import { acknowledgeNist } from '../private/nag';
import type { RunbookSet } from '../runbooks';
import { chunked, drMetric, METRICS_PER_ALARM } from './dr-metrics';

/** Where every alarm description sends the operator first. */
const RUNBOOK_SECTION = 'docs/operations.md';

const ONE_MINUTE = Duration.minutes(1);

export interface RegionAlarmsProps {
  readonly tier: string;
  readonly region: string;
  /** The region's short code, e.g. `usw2`: every alarm is `mlp-<tier>-<code>-<what>`. */
  readonly regionCode: string;
  /** The recovery time objective, in seconds: how long no region may stay writable before it pages. */
  readonly rtoSeconds: number;
  /** The region's own paging action (`PagingTopic.alarmAction`): every alarm here acts on it and on nothing else. */
  readonly paging: cloudwatch.IAlarmAction;
  /**
   * The region's runbooks: their state machines' failed, timed-out and aborted executions, the
   * scheduled steps' errors and silence, and the primary-lost composite alarm page.
   * @default no runbook alarms
   */
  readonly runbooks?: RunbookSet;
}

/**
 * The alarms of one region that page, each acting (on ALARM and on OK) on that region's paging topic
 * only, so what a region reports never depends on another region being up.
 */
export class RegionAlarms extends Construct {
  /** Every alarm that pages, by name. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** The composite alarms that page, by name (their parts act on nothing). */
  public readonly composites: ReadonlyMap<string, cloudwatch.CompositeAlarm>;
  private readonly created = new Map<string, cloudwatch.Alarm>();
  private readonly createdComposites = new Map<string, cloudwatch.CompositeAlarm>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RegionAlarmsProps,
  ) {
    super(scope, id);
    this.alarms = this.created;
    this.composites = this.createdComposites;
    if (props.runbooks) {
      this.watchRunbooks(props.runbooks);
      this.watchWriteGates();
      this.watchPrimaryDuties();
      this.watchThrottles(props.runbooks);
    }
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

  /**
   * What the watchdog's survey sees of every region's write-gate endpoint from here: none answering
   * open for longer than a failover may take (the RTO) is an outage of every write; two answering
   * open is a split brain the fencing should have made impossible.
   */
  private watchWriteGates(): void {
    const { tier, region, rtoSeconds } = this.props;
    const openGates = drMetric(PRIMARY_WATCH.survey.openWriteGates, { tier, region });
    const minutes = Math.ceil(rtoSeconds / 60);
    this.alarm('NoRegionWritable', 'no-region-writable', {
      alarmDescription: `Seen from ${region}: no region's write gate has answered open for ${minutes} minutes (the RTO, seed 003), so no region takes writes. First: is a failover running (its execution, the lock)? If none is, follow "No region writable" (${RUNBOOK_SECTION}).`,
      metric: openGates,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      // The survey missing is the watchdog's own alarm (watch-primary-silent), not an outage.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm('TwoWriteGatesOpen', 'two-write-gates-open', {
      alarmDescription: `Seen from ${region}: more than one region's write gate answered open in each of the last two minutes, so writes may land in two primaries. First: follow "Two write gates open" (${RUNBOOK_SECTION}).`,
      metric: openGates,
      threshold: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * What a region owes while its own write gate is open (it is the primary, whatever the stacks say):
   * heartbeats every second, and its Batch queues enabled. Each counts only while the gate is open, so
   * the alarms follow the primary through a failover without a deploy.
   */
  private watchPrimaryDuties(): void {
    const { tier, region } = this.props;
    const gate = drMetric(WRITE_GATE_METRIC.metricName, { tier, region });
    const heartbeats = drMetric(HEARTBEAT_METRIC.metricName, { tier, region, statistic: cloudwatch.Stats.SUM });
    const disabled = drMetric(PRIMARY_WATCH.survey.batchQueuesDisabled, { tier, region });
    // [ours] half a run's rows: a writer that acknowledges fewer is not keeping the RPO evidence.
    const fewest = Math.floor(HEARTBEATS_PER_RUN / 2);
    this.alarm('HeartbeatStale', 'heartbeat-stale', {
      alarmDescription: `${region} holds the open write gate but acknowledged fewer than ${fewest} heartbeats a minute for three minutes: the RPO evidence is stale and the database may not be taking writes. First: the WriteHeartbeats log group, then the database (${RUNBOOK_SECTION}).`,
      metric: new cloudwatch.MathExpression({
        expression: `IF(FILL(gate, 0) >= 1, FILL(heartbeats, 0), ${HEARTBEATS_PER_RUN})`,
        usingMetrics: { gate, heartbeats },
        period: ONE_MINUTE,
        label: 'heartbeats acknowledged while the gate is open',
      }),
      threshold: fewest,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm('BatchQueuesDisabled', 'batch-queues-disabled', {
      alarmDescription: `${region} holds the open write gate but some of its Batch job queues have not been enabled for three minutes: pipelines submitted there wait. First: aws batch describe-job-queues --region ${region} (${RUNBOOK_SECTION}).`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(gate, 0) >= 1, FILL(disabled, 0), 0)',
        usingMetrics: { gate, disabled },
        period: ONE_MINUTE,
        label: 'job queues not enabled while the gate is open',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Throttles of any runbook function: never expected (a failover's steps would wait on them). Ten
   * functions to an alarm (metric math's limit); the composite pages once.
   */
  private watchThrottles(runbooks: RunbookSet): void {
    const functions = [...Object.values(runbooks.functions), runbooks.databaseAgent];
    const parts = chunked(functions, METRICS_PER_ALARM).map((chunk, index) => {
      const usingMetrics = Object.fromEntries(
        chunk.map((fn, i) => [`t${i}`, fn.metricThrottles({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM })]),
      );
      return new cloudwatch.Alarm(this, `RunbookThrottles${index + 1}`, {
        alarmName: this.name(`runbook-throttles-${index + 1}`),
        alarmDescription: 'Part of runbook-functions-throttled, which pages.',
        metric: new cloudwatch.MathExpression({
          expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
          usingMetrics,
          period: ONE_MINUTE,
          label: 'throttled invocations',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    });
    for (const part of parts) {
      acknowledgeNist(
        part,
        'CloudWatchAlarmAction',
        `A part of the composite alarm ${this.name('runbook-functions-throttled')}, which pages on the region's topic; an action here too would page twice.`,
      );
    }
    const composite = new cloudwatch.CompositeAlarm(this, 'RunbookFunctionsThrottled', {
      compositeAlarmName: this.name('runbook-functions-throttled'),
      alarmDescription: `Lambda throttled a runbook function in ${this.props.region} (${parts.map((a) => a.alarmName).join(', ')}): the account's or the function's concurrency is exhausted, and a failover's steps would wait. First: Lambda's ConcurrentExecutions in this region and what else runs in the account (${RUNBOOK_SECTION}).`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...parts.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
    });
    this.page(composite);
    this.createdComposites.set(composite.alarmName, composite);
  }
}
