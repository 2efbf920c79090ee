import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { RunbookDeps } from './env';
import { aws } from './step';

/** One count to publish: its metric's name and its value. */
export interface Count {
  readonly name: string;
  readonly value: number;
}

/**
 * Publish `counts` in `region`'s CloudWatch under `namespace`, all at one timestamp, each with the
 * dimensions the platform's alarms select on: the tier, and `region`. `highResolution` stores them
 * per second, for alarms that evaluate 10-second periods.
 */
export async function publishCounts(
  deps: RunbookDeps,
  region: string,
  namespace: string,
  counts: readonly Count[],
  { highResolution = false } = {},
): Promise<void> {
  const dimensions = [
    { Name: 'Tier', Value: deps.env.tier },
    { Name: 'Region', Value: region },
  ];
  const timestamp = deps.now();
  await aws(region, () =>
    deps.clients.cloudwatch(region).send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: counts.map(({ name, value }) => ({
          MetricName: name,
          Dimensions: dimensions,
          Value: value,
          Unit: 'Count',
          Timestamp: timestamp,
          ...(highResolution ? { StorageResolution: 1 } : {}),
        })),
      }),
    ),
  );
}
