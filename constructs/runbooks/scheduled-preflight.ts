import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PREFLIGHT_METRIC, runbookNames } from '../../lib/config/naming';
import { drMetric } from '../operations/dr-metrics';

export interface ScheduledPreflightProps {
  readonly tier: string;
  /** The region this runs in, which the preflight asks about as the failover's target. */
  readonly region: string;
  readonly regionCode: string;
  /** The region's RegionFailover state machine. */
  readonly regionFailover: sfn.IStateMachine;
  /** EventBridge Scheduler expression, in UTC, e.g. `cron(0 6 * * ? *)`. */
  readonly schedule: string;
  /** What the not-ready alarm notifies, on ALARM and on OK: the region's paging. */
  readonly alarmAction: cloudwatch.IAlarmAction;
}

/**
 * A secondary region's daily rehearsal of its own takeover, read-only: EventBridge Scheduler starts
 * `RegionFailover` with `{"mode":"preflight","targetRegion":<this region>}`, whose report goes to the
 * region's artifact bucket like any run's, and whose answer (`MLP/DR PreflightReady`, 1 or 0) the
 * not-ready alarm reads. A day without an answer is as bad as a no-go: the alarm treats missing data
 * as breaching, so a schedule that stopped, a state machine that fails before its report, or a
 * report that could not publish all page.
 */
export class ScheduledPreflight extends Construct {
  public readonly schedule: scheduler.Schedule;
  /** In ALARM when the last day's preflight said no-go, or none answered. */
  public readonly notReadyAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ScheduledPreflightProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Starts the daily preflight of a failover to ${props.region}`,
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: runbookNames.dailyPreflight(props.tier, props.regionCode),
      schedule: scheduler.ScheduleExpression.expression(props.schedule),
      target: new schedulerTargets.StepFunctionsStartExecution(props.regionFailover, {
        input: scheduler.ScheduleTargetInput.fromObject({ mode: 'preflight', targetRegion: props.region }),
        retryAttempts: 3,
        role,
      }),
      description: `Read-only preflight of a failover to ${props.region}: is it ready to take over?`,
    });
    this.notReadyAlarm = new cloudwatch.Alarm(this, 'NotReady', {
      alarmName: runbookNames.preflightNotReadyAlarm(props.tier, props.regionCode),
      alarmDescription: `${props.region} is not ready to take over (or its daily preflight did not answer): read the newest dr-reports/${runbookNames.stateMachine(props.tier, 'region-failover')}/ report in its artifact bucket for the reasons, then run the preflight again.`,
      // One answer a day: the longest period an alarm takes with one evaluation period (PutMetricAlarm).
      metric: drMetric(PREFLIGHT_METRIC.metricName, {
        tier: props.tier,
        region: props.region,
        statistic: cloudwatch.Stats.MINIMUM,
        period: Duration.days(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.notReadyAlarm.addAlarmAction(props.alarmAction);
    this.notReadyAlarm.addOkAction(props.alarmAction);
  }
}
