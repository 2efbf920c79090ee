import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { HEARTBEAT_METRIC, PREFLIGHT_METRIC, RUNBOOK_NAMES, WRITE_GATE_METRIC } from '../../lib/config/naming';
import { HEARTBEATS_PER_RUN, PRIMARY_WATCH } from '../../runbooks/definitions/catalogue';
import type { RunbookSet } from '../runbooks';
import { drMetric, type ReplicationLagSource, replicationLagMetric, replicationLagThreshold } from './dr-metrics';

export interface RegionDashboardProps {
  readonly tier: string;
  readonly region: string;
  /** The region's short code: the dashboard is `mlp-<tier>-<code>-dr`. */
  readonly regionCode: string;
  /** The alarms that page in this region, shown by state at the top. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /**
   * The region's runbooks: their executions and the scheduled steps' invocations and errors.
   * @default no runbook widgets
   */
  readonly runbooks?: RunbookSet;
  /**
   * The region's replicated database, graphed against the RPO.
   * @default no lag graph (the region holds the primary)
   */
  readonly replication?: ReplicationLagSource;
}

/**
 * One region's disaster-recovery dashboard, `mlp-<tier>-<code>-dr`, in that region (it shows while
 * any other region is down): the paging alarms' states, the replication lag against the RPO, the
 * write gate, the watchdog's evidence and the daily preflight's answer, the runbook executions and the
 * scheduled steps. CloudWatch's L2 alone: every widget reads a metric or an alarm the platform already
 * defines, so `cdk-monitoring-constructs` would add a dependency and alarms of its own to reconcile.
 */
export class RegionDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RegionDashboardProps) {
    super(scope, id);
    const { tier, region } = props;
    const five = Duration.minutes(5);
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: `mlp-${tier}-${props.regionCode}-dr`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# mlp-${tier} in ${region}: disaster recovery\nAlarms page the region's own topic; what to do first is in each alarm's description and in docs/operations.md.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Paging alarms', alarms: [...props.alarms], width: 24, height: 4 }),
    );

    const gate = new cloudwatch.GraphWidget({
      title: 'Write gate, the watch of the primary, readiness',
      left: [
        drMetric(WRITE_GATE_METRIC.metricName, { tier, region }),
        drMetric(PRIMARY_WATCH.metrics.leaseStale, { tier, region }),
        drMetric(PRIMARY_WATCH.metrics.gateUnreachable, { tier, region }),
        drMetric(PREFLIGHT_METRIC.metricName, { tier, region, statistic: cloudwatch.Stats.MINIMUM, period: Duration.hours(1) }),
      ],
      leftYAxis: { min: 0, max: 1 },
      width: 12,
    });
    const row: cloudwatch.IWidget[] = [gate];
    if (props.replication) {
      const threshold = replicationLagThreshold(props.replication);
      row.push(
        new cloudwatch.GraphWidget({
          title: `Replication lag against the RPO (${threshold.unit})`,
          left: [replicationLagMetric(props.replication)],
          leftAnnotations: [{ value: threshold.value, label: `RPO ${props.replication.rpoSeconds} s (seed 003)`, color: '#d62728' }],
          leftYAxis: { min: 0 },
          width: 12,
        }),
      );
    }
    this.dashboard.addWidgets(...row);

    if (props.runbooks) {
      const runbooks = props.runbooks;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Runbook executions',
          left: RUNBOOK_NAMES.flatMap((runbook) => {
            const machine = runbooks.stateMachine(runbook);
            return [
              machine.metricStarted({ period: five, statistic: cloudwatch.Stats.SUM, label: `${runbook} started` }),
              machine.metricSucceeded({ period: five, statistic: cloudwatch.Stats.SUM, label: `${runbook} succeeded` }),
              runbooks.metricExecutionsFailed(runbook, { period: five, label: `${runbook} failed` }),
            ];
          }),
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Scheduled runbook steps (every minute)',
          left: (['RefreshGate', 'WriteHeartbeats', 'WatchPrimary'] as const).map((step) =>
            runbooks.functions[step].metricInvocations({ period: five, statistic: cloudwatch.Stats.SUM, label: `${step} invocations` }),
          ),
          right: (['RefreshGate', 'WriteHeartbeats', 'WatchPrimary'] as const).map((step) =>
            runbooks.functions[step].metricErrors({ period: five, statistic: cloudwatch.Stats.SUM, label: `${step} errors` }),
          ),
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Seen from here: write gates open (exactly 1), Batch queues disabled',
          left: [drMetric(PRIMARY_WATCH.survey.openWriteGates, { tier, region, statistic: cloudwatch.Stats.MINIMUM })],
          leftAnnotations: [{ value: 1, label: 'one primary', color: '#2ca02c' }],
          right: [drMetric(PRIMARY_WATCH.survey.batchQueuesDisabled, { tier, region })],
          leftYAxis: { min: 0 },
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: `Heartbeats acknowledged a minute (the primary writes ${HEARTBEATS_PER_RUN})`,
          left: [drMetric(HEARTBEAT_METRIC.metricName, { tier, region, statistic: cloudwatch.Stats.SUM })],
          leftYAxis: { min: 0 },
          width: 12,
        }),
      );
    }
  }
}
