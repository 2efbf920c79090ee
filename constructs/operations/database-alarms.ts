import { Duration, type Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { DatabaseEngine } from '../../lib/config/types';

export interface DatabaseAlarmsProps {
  readonly tier: string;
  readonly regionCode: string;
  /** The region's own paging action: every alarm here acts on it, on ALARM and on OK. */
  readonly paging: cloudwatch.IAlarmAction;
  /** The region's database: its Aurora cluster (`DBClusterIdentifier`) or its RDS instance (`DBInstanceIdentifier`). */
  readonly database: { readonly engine: DatabaseEngine; readonly databaseIdentifier: string };
  /** `max_connections` of every instance. */
  readonly maxConnections: number;
  /** RDS: the storage allocated at creation. Aurora's storage grows by itself and has no such alarm. */
  readonly allocatedStorage: Size;
  /** Percent of CPU. */
  readonly cpuPercent: number;
  /** Percent of `max_connections`. */
  readonly connectionsPercent: number;
  /** Percent of the allocated storage used. */
  readonly storageUsedPercent: number;
  /** How long each must hold before it pages. */
  readonly sustained: Duration;
}

/**
 * One region's database against its tier's limits: CPU, connections against `max_connections`, and
 * (RDS) storage used against the allocation. Aurora's metrics are read per cluster, where CloudWatch
 * aggregates its instances; the Maximum is the busiest instance's.
 */
export class DatabaseAlarms extends Construct {
  /** Every alarm this construct created, by name; each pages. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: DatabaseAlarmsProps) {
    super(scope, id);
    const created = new Map<string, cloudwatch.Alarm>();
    this.alarms = created;
    const aurora = props.database.engine === 'aurora-postgresql-global';
    const dimensionsMap: cloudwatch.DimensionsMap = {
      [aurora ? 'DBClusterIdentifier' : 'DBInstanceIdentifier']: props.database.databaseIdentifier,
    };
    const minutes = Math.max(1, Math.round(props.sustained.toMinutes()));
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap, statistic, period: Duration.minutes(1) });
    const database = props.database.databaseIdentifier;
    const alarm = (
      alarmId: string,
      what: string,
      spec: Pick<cloudwatch.AlarmProps, 'metric' | 'threshold' | 'comparisonOperator'>,
      why: string,
    ) => {
      const made = new cloudwatch.Alarm(this, alarmId, {
        ...spec,
        alarmName: `mlp-${props.tier}-${props.regionCode}-${what}`,
        alarmDescription: `${database}: ${why} for ${minutes} minutes. First: Performance Insights and the connections by client; scale the instance class or add read replicas (docs/operations.md).`,
        evaluationPeriods: minutes,
        datapointsToAlarm: minutes,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      made.addAlarmAction(props.paging);
      made.addOkAction(props.paging);
      created.set(made.alarmName, made);
    };

    alarm(
      'Cpu',
      'database-cpu',
      {
        metric: metric('CPUUtilization', cloudwatch.Stats.MAXIMUM),
        threshold: props.cpuPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
      `CPU above ${props.cpuPercent} %`,
    );
    const connections = Math.floor((props.maxConnections * props.connectionsPercent) / 100);
    alarm(
      'Connections',
      'database-connections',
      {
        metric: metric('DatabaseConnections', cloudwatch.Stats.MAXIMUM),
        threshold: connections,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
      `more than ${connections} connections (${props.connectionsPercent} % of max_connections ${props.maxConnections})`,
    );
    if (!aurora) {
      const freeBytes = Math.floor((props.allocatedStorage.toBytes() * (100 - props.storageUsedPercent)) / 100);
      alarm(
        'Storage',
        'database-storage',
        {
          metric: metric('FreeStorageSpace', cloudwatch.Stats.MINIMUM),
          threshold: freeBytes,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        },
        `more than ${props.storageUsedPercent} % of its ${props.allocatedStorage.toGibibytes()} GiB used`,
      );
    }
  }
}
