import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { PREFLIGHT_METRIC, WRITE_GATE_METRIC } from '../../lib/config/naming';
import { PRIMARY_WATCH } from '../../runbooks/definitions/catalogue';
import { drMetric, type ReplicationLagSource, replicationLagMetric, replicationLagThreshold } from './dr-metrics';

/** One region of the tier as the dashboard shows it. */
export interface TierDashboardRegion {
  readonly name: string;
  /** The database replicating the primary there. @default none (the primary's region) */
  readonly replication?: ReplicationLagSource;
}

export interface TierDashboardProps {
  readonly tier: string;
  /** Every region of the tier, in home order. */
  readonly regions: readonly TierDashboardRegion[];
}

/** The tier's dashboard, in the global stack: `mlp-<tier>-dr`. */
export function tierDashboardName(tier: string): string {
  return `mlp-${tier}-dr`;
}

/**
 * The tier's one disaster-recovery dashboard, `mlp-<tier>-dr`: every region side by side, each metric
 * read in its own region (CloudWatch dashboards read across regions): where the write gate is open,
 * which regions see the primary lost, each secondary's replication lag against the RPO and its daily
 * preflight's answer. It lives in the global stack (us-east-1); while that region is down, each
 * region's own dashboard (`mlp-<tier>-<code>-dr`) shows its part.
 */
export class TierDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TierDashboardProps) {
    super(scope, id);
    const { tier } = props;
    const secondaries = props.regions.filter((r) => r.replication !== undefined);
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: tierDashboardName(tier),
      defaultInterval: Duration.hours(6),
    });
    const perRegion = (name: string, metric: (region: string) => cloudwatch.Metric) =>
      props.regions.map((r) => metric(r.name).with({ label: `${r.name} ${name}` }));
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# mlp-${tier}: disaster recovery across ${props.regions.map((r) => r.name).join(', ')}\nExactly one region's write gate should be open. Each region's own dashboard and paging topic work without this one.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Write gate open, per region (exactly one)',
        left: perRegion('gate open', (region) => drMetric(WRITE_GATE_METRIC.metricName, { tier, region })),
        leftYAxis: { min: 0, max: 1 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'The primary seen lost, per region',
        left: [
          ...perRegion('lease stale', (region) => drMetric(PRIMARY_WATCH.metrics.leaseStale, { tier, region })),
          ...perRegion('gate unreachable', (region) => drMetric(PRIMARY_WATCH.metrics.gateUnreachable, { tier, region })),
        ],
        leftYAxis: { min: 0, max: 1 },
        width: 12,
      }),
    );
    const [first] = secondaries;
    if (!first?.replication) return;
    const threshold = replicationLagThreshold(first.replication);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Replication lag against the RPO, per secondary (${threshold.unit})`,
        left: secondaries.map((r) => replicationLagMetric(r.replication as ReplicationLagSource, r.name).with({ label: `${r.name} lag` })),
        leftAnnotations: [{ value: threshold.value, label: `RPO ${first.replication.rpoSeconds} s (seed 003)`, color: '#d62728' }],
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Daily preflight: ready to take over, per secondary',
        left: secondaries.map((r) =>
          drMetric(PREFLIGHT_METRIC.metricName, {
            tier,
            region: r.name,
            statistic: cloudwatch.Stats.MINIMUM,
            period: Duration.hours(1),
          }).with({ label: `${r.name} ready` }),
        ),
        leftYAxis: { min: 0, max: 1 },
        width: 12,
      }),
    );
  }
}
