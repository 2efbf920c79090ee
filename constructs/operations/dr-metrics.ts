import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { type HEARTBEAT_METRIC, type PREFLIGHT_METRIC, WRITE_GATE_METRIC } from '../../lib/config/naming';
import type { DatabaseEngine } from '../../lib/config/types';
import type { PRIMARY_WATCH } from '../../runbooks/definitions/catalogue';

/** CloudWatch alarms on metric math may read at most ten metrics (PutMetricAlarm). */
export const METRICS_PER_ALARM = 10;

/** `items` in consecutive groups of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

/** The region's database as replication lag is measured on it. */
export interface ReplicationLagSource {
  readonly engine: DatabaseEngine;
  /**
   * Aurora: the region's cluster of the global database (`DBClusterIdentifier`); RDS: the region's
   * cross-region replica (`DBInstanceIdentifier`).
   */
  readonly databaseIdentifier: string;
  /** The recovery point objective the lag is held to, in seconds. */
  readonly rpoSeconds: number;
}

export interface DrMetricOptions {
  readonly tier: string;
  /** The region the metric is published in (a dashboard in another region reads it there). */
  readonly region: string;
  /** @default one minute */
  readonly period?: Duration;
}

/**
 * A metric the runbooks publish in `MLP/DR` about one region (dimensions Tier and Region):
 * `WriteGateOpen`, `PreflightReady`, `HeartbeatsWritten`, the watchdog's `PrimaryLeaseStale` and
 * `PrimaryGateUnreachable`, or its survey's `OpenWriteGates` and `BatchQueuesDisabled`.
 */
export function drMetric(
  metricName:
    | typeof WRITE_GATE_METRIC.metricName
    | typeof PREFLIGHT_METRIC.metricName
    | typeof HEARTBEAT_METRIC.metricName
    | (typeof PRIMARY_WATCH.metrics)[keyof typeof PRIMARY_WATCH.metrics]
    | (typeof PRIMARY_WATCH.survey)[keyof typeof PRIMARY_WATCH.survey],
  options: DrMetricOptions & { readonly statistic?: string },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: WRITE_GATE_METRIC.namespace,
    metricName,
    dimensionsMap: { Tier: options.tier, Region: options.region },
    statistic: options.statistic ?? cloudwatch.Stats.MAXIMUM,
    period: options.period ?? Duration.minutes(1),
    region: options.region,
  });
}

/**
 * How far the region's database is behind the primary, as RDS publishes it: Aurora's
 * `AuroraGlobalDBRPOLag` in milliseconds (secondary regions only), RDS's `ReplicaLag` in seconds.
 */
export function replicationLagMetric(source: ReplicationLagSource, region?: string): cloudwatch.Metric {
  const aurora = source.engine === 'aurora-postgresql-global';
  return new cloudwatch.Metric({
    namespace: 'AWS/RDS',
    metricName: aurora ? 'AuroraGlobalDBRPOLag' : 'ReplicaLag',
    dimensionsMap: aurora ? { DBClusterIdentifier: source.databaseIdentifier } : { DBInstanceIdentifier: source.databaseIdentifier },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.minutes(1),
    ...(region ? { region } : {}),
  });
}

/** The RPO in the unit of `replicationLagMetric`: what its alarm and its graphs hold it to. */
export function replicationLagThreshold(source: ReplicationLagSource): { readonly value: number; readonly unit: 'ms' | 's' } {
  return source.engine === 'aurora-postgresql-global'
    ? { value: source.rpoSeconds * 1000, unit: 'ms' }
    : { value: source.rpoSeconds, unit: 's' };
}
