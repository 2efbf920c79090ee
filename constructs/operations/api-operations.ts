import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

const ONE_MINUTE = Duration.minutes(1);

/** The region's services dashboard, beside its load balancer. */
export function servicesDashboardName(tier: string, regionCode: string): string {
  return `mlp-${tier}-${regionCode}-services`;
}

export interface ApiOperationsProps {
  readonly tier: string;
  readonly regionCode: string;
  /** The region's public load balancer. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The services behind it, by name: their golden signals on the dashboard. */
  readonly services: Readonly<Record<string, elbv2.IApplicationTargetGroup>>;
  /** The region's own paging action: both alarms act on it, on ALARM and on OK. */
  readonly paging: cloudwatch.IAlarmAction;
  /** 5xx responses (the targets' and the load balancer's own) above this share of requests, in percent. */
  readonly errorRatePercent: number;
  readonly errorMinutes: number;
  /** The targets' p99 response time above this. */
  readonly latencyP99: Duration;
  readonly latencyMinutes: number;
}

/**
 * The region's API as its users see it, at the load balancer: two paging alarms (the 5xx rate, the
 * p99 response time) and the services' golden signals on `mlp-<tier>-<code>-services` (requests,
 * errors, p50/p99 latency and healthy targets per service). It lives beside the load balancer, in the
 * compute stack, which deploys after the region's paging topic.
 */
export class ApiOperations extends Construct {
  public readonly errorRateAlarm: cloudwatch.Alarm;
  public readonly latencyAlarm: cloudwatch.Alarm;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ApiOperationsProps) {
    super(scope, id);
    const metrics = props.loadBalancer.metrics;
    const name = (what: string) => `mlp-${props.tier}-${props.regionCode}-${what}`;
    const sum = { period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM };

    this.errorRateAlarm = new cloudwatch.Alarm(this, 'ErrorRate', {
      alarmName: name('api-error-rate'),
      alarmDescription: `More than ${props.errorRatePercent} % of the API's requests in ${props.regionCode} failed with a 5xx for ${props.errorMinutes} minutes (seed 001's detection of a regional failure). First: the services dashboard ${name('services')}, which service, and its pods (docs/operations.md).`,
      metric: new cloudwatch.MathExpression({
        expression: '100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests',
        usingMetrics: {
          target5xx: metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, sum),
          elb5xx: metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, sum),
          requests: metrics.requestCount(sum),
        },
        period: ONE_MINUTE,
        label: '5xx, % of requests',
      }),
      threshold: props.errorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: props.errorMinutes,
      datapointsToAlarm: props.errorMinutes,
      // No requests, no rate.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyP99', {
      alarmName: name('api-latency-p99'),
      alarmDescription: `The API's p99 response time in ${props.regionCode} has been above ${props.latencyP99.toSeconds()} s for ${props.latencyMinutes} minutes. First: the services dashboard ${name('services')}, which service is slow, then its database and cache (docs/operations.md).`,
      metric: metrics.targetResponseTime({ period: ONE_MINUTE, statistic: cloudwatch.Stats.p(99) }),
      threshold: props.latencyP99.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: props.latencyMinutes,
      datapointsToAlarm: props.latencyMinutes,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.errorRateAlarm, this.latencyAlarm]) {
      alarm.addAlarmAction(props.paging);
      alarm.addOkAction(props.paging);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: servicesDashboardName(props.tier, props.regionCode),
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'API alarms', alarms: [this.errorRateAlarm, this.latencyAlarm], width: 24, height: 3 }),
    );
    const perService = (title: string, metric: (group: elbv2.IApplicationTargetGroup) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({
        title,
        width: 12,
        left: Object.entries(props.services).map(([service, group]) => withLabel(metric(group), service)),
      });
    this.dashboard.addWidgets(
      perService('Requests a minute (traffic)', (g) => g.metrics.requestCount(sum)),
      perService('Target 5xx a minute (errors)', (g) => g.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, sum)),
      perService('p99 response time, s (latency)', (g) =>
        g.metrics.targetResponseTime({ period: ONE_MINUTE, statistic: cloudwatch.Stats.p(99) }),
      ),
      perService('p50 response time, s', (g) => g.metrics.targetResponseTime({ period: ONE_MINUTE, statistic: cloudwatch.Stats.p(50) })),
      perService('Healthy targets (saturation: pods serving)', (g) =>
        g.metrics.healthyHostCount({ period: ONE_MINUTE, statistic: cloudwatch.Stats.MINIMUM }),
      ),
      new cloudwatch.GraphWidget({
        title: 'Load balancer: 5xx of its own, rejected connections',
        width: 12,
        left: [
          withLabel(metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, sum), 'ELB 5xx'),
          withLabel(metrics.rejectedConnectionCount(sum), 'rejected'),
        ],
      }),
    );
  }
}

function withLabel(metric: cloudwatch.IMetric, label: string): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric ? metric.with({ label }) : metric;
}
