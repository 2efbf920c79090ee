import { describe, expect, test } from 'vitest';
import { cacheRoleOf, postgresClusterId, type RegionPlan, resolvePlatformConfig } from '../../../lib/config';
import { type CfnTemplate, LayoutAssembly } from '../../support/assembly';
import { LAYOUTS, layoutContext, TEST_ACCOUNT } from '../../support/layouts';

type Resource = CfnTemplate['Resources'][string];

/** The logical id a `Ref` or `Fn::GetAtt` points at, if the value is one. */
function referencedId(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0] as string;
  return undefined;
}

function dimension(alarm: Resource, name: string): unknown {
  const dimensions = (alarm.Properties?.Dimensions ?? []) as { Name: string; Value: unknown }[];
  return dimensions.find((d) => d.Name === name)?.Value;
}

const ALARM_TYPES = new Set(['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm']);

describe.each(LAYOUTS)('paging of layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const tier = config.tier.name;
  const rpoSeconds = config.tier.recovery.region.rpoSeconds;
  const regions = config.regions.map((r) => [r.name, r] as const);
  const resilience = (r: RegionPlan) => `Mlp-${tier}-${r.code}-resilience`;
  const pagingName = (r: RegionPlan) => `mlp-${tier}-${r.code}-paging`;
  /** Every stack of the region's own (not the global stack, whose Route 53 alarms live in us-east-1 by nature). */
  const regionStacks = (r: RegionPlan) =>
    assembly.stackNames.filter(
      (name) => name.startsWith(`Mlp-${tier}-${r.code}-`) && assembly.artifact(name).environment === `aws://${TEST_ACCOUNT}/${r.name}`,
    );
  const pagingTopicId = (r: RegionPlan): string => {
    const topics = Object.entries(assembly.resourcesOfType(resilience(r), 'AWS::SNS::Topic')).filter(
      ([, t]) => t.Properties?.TopicName === pagingName(r),
    );
    expect(topics).toHaveLength(1);
    return (topics[0] as [string, Resource])[0];
  };
  const alarmsOf = (stack: string) => Object.entries(assembly.template(stack).Resources).filter(([, r]) => ALARM_TYPES.has(r.Type));
  const alarmNamed = (r: RegionPlan, what: string): Resource => {
    const name = `mlp-${tier}-${r.code}-${what}`;
    const found = alarmsOf(resilience(r)).filter(([, a]) => a.Properties?.AlarmName === name);
    expect(found, name).toHaveLength(1);
    return (found[0] as [string, Resource])[1];
  };

  /** The topic an action from another stack of the region reads from the resilience stack's outputs, if it does. */
  const publishedTopic = (action: unknown, region: RegionPlan): string | undefined => {
    const source = (action as { 'Fn::GetStackOutput'?: { StackName: string; Region: string; OutputName: string } })['Fn::GetStackOutput'];
    if (!source || source.StackName !== resilience(region) || source.Region !== region.name) return undefined;
    const outputs = (assembly.template(resilience(region)) as CfnTemplate & { Outputs: Record<string, { Value: unknown }> }).Outputs;
    return referencedId(outputs[source.OutputName]?.Value);
  };

  test.each(regions)('%s has its own paging topic, encrypted with its own data key, TLS only', (_name, region) => {
    const id = pagingTopicId(region);
    const topic = assembly.template(resilience(region)).Resources[id] as Resource;
    // The data key, read from the same region's data stack.
    const key = topic.Properties?.KmsMasterKeyId as { 'Fn::GetStackOutput'?: { StackName: string; Region: string; OutputName: string } };
    const source = key['Fn::GetStackOutput'];
    expect(source).toMatchObject({ StackName: `Mlp-${tier}-${region.code}-data`, Region: region.name });
    const data = assembly.template(`Mlp-${tier}-${region.code}-data`) as CfnTemplate & { Outputs: Record<string, { Value: unknown }> };
    const output = data.Outputs[source?.OutputName ?? ''];
    const keyId = referencedId(output?.Value);
    expect(keyId && data.Resources[keyId]?.Type).toBe('AWS::KMS::Key');
    const keyPolicy = JSON.stringify(data.Resources[keyId as string]?.Properties?.KeyPolicy);
    expect(keyPolicy).toContain('"Service":"cloudwatch.amazonaws.com"');

    const policies = Object.values(assembly.resourcesOfType(resilience(region), 'AWS::SNS::TopicPolicy')).filter((p) =>
      ((p.Properties?.Topics ?? []) as unknown[]).some((t) => referencedId(t) === id),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0]?.Properties?.PolicyDocument as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? [];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT } }),
      }),
    );
  });

  test.each(regions)("every alarm of %s that acts, acts on that region's paging topic only", (_name, region) => {
    const topicId = pagingTopicId(region);
    let acting = 0;
    for (const stack of regionStacks(region)) {
      for (const [id, alarm] of alarmsOf(stack)) {
        const actions = [...((alarm.Properties?.AlarmActions ?? []) as unknown[]), ...((alarm.Properties?.OKActions ?? []) as unknown[])];
        if (actions.length === 0) continue;
        acting++;
        for (const action of actions) {
          const ownTopic =
            (stack === resilience(region) && referencedId(action) === topicId) ||
            (typeof action === 'string' && action === `arn:aws:sns:${region.name}:${TEST_ACCOUNT}:${pagingName(region)}`) ||
            publishedTopic(action, region) === topicId;
          expect(ownTopic, `${stack}/${id} acts on ${JSON.stringify(action)}`).toBe(true);
        }
      }
    }
    expect(acting).toBeGreaterThan(0);
  });

  /** The alarm names the composite rpo-at-risk of a region ORs, after checking it pages on the region's topic. */
  const causesOfRpoAtRisk = (region: RegionPlan): string[] => {
    const composite = alarmNamed(region, 'rpo-at-risk');
    expect(composite.Type).toBe('AWS::CloudWatch::CompositeAlarm');
    expect(composite.Properties).toMatchObject({
      AlarmActions: [{ Ref: pagingTopicId(region) }],
      OKActions: [{ Ref: pagingTopicId(region) }],
    });
    const rule = JSON.stringify(composite.Properties?.AlarmRule);
    const causes = alarmsOf(resilience(region))
      .map(([id, a]) => [id, a.Properties?.AlarmName as string] as const)
      .filter(([id]) => rule.includes(`${id}.Arn`) || rule.includes(`"${id}"`))
      .map(([, name]) => name);
    for (const name of causes)
      expect(alarmNamed(region, name.replace(`mlp-${tier}-${region.code}-`, '')).Properties?.AlarmActions).toBeUndefined();
    return causes;
  };

  test.each(regions)('%s pages on every runbook execution that fails, times out or is aborted', (_name, region) => {
    const topicId = pagingTopicId(region);
    const machines = Object.entries(assembly.resourcesOfType(resilience(region), 'AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(3);
    for (const [machineId, machine] of machines) {
      const runbook = String(machine.Properties?.StateMachineName).replace(`mlp-${tier}-`, '');
      for (const [outcome, metricName] of [
        ['failed', 'ExecutionsFailed'],
        ['timed-out', 'ExecutionsTimedOut'],
        ['aborted', 'ExecutionsAborted'],
      ]) {
        const alarm = alarmNamed(region, `${runbook}-${outcome}`);
        expect(alarm.Properties).toMatchObject({
          Namespace: 'AWS/States',
          MetricName: metricName,
          Statistic: 'Sum',
          Period: 60,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: topicId }],
          OKActions: [{ Ref: topicId }],
        });
        expect(referencedId(dimension(alarm, 'StateMachineArn'))).toBe(machineId);
      }
    }
  });

  test.each(regions)(
    '%s pages when the gate keeper or the heartbeat writer fails or falls silent, and on primary-lost',
    (_name, region) => {
      const topicId = pagingTopicId(region);
      const functions = Object.entries(assembly.resourcesOfType(resilience(region), 'AWS::Lambda::Function'));
      for (const [step, what] of [
        ['RefreshGate', 'refresh-gate'],
        ['WriteHeartbeats', 'write-heartbeats'],
      ]) {
        const [functionId] = functions.find(
          ([, f]) => (f.Properties?.Environment as { Variables?: Record<string, string> })?.Variables?.MLP_STEP === step,
        ) ?? [undefined];
        expect(functionId, step).toBeDefined();
        const errors = alarmNamed(region, `${what}-errors`);
        expect(errors.Properties).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Period: 60,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 2,
          DatapointsToAlarm: 2,
          AlarmActions: [{ Ref: topicId }],
        });
        const silent = alarmNamed(region, `${what}-silent`);
        expect(silent.Properties).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: 'Invocations',
          Period: 60,
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 3,
          TreatMissingData: 'breaching',
          AlarmActions: [{ Ref: topicId }],
          OKActions: [{ Ref: topicId }],
        });
        for (const alarm of [errors, silent]) expect(referencedId(dimension(alarm, 'FunctionName'))).toBe(functionId);
      }
      const lost = alarmNamed(region, 'primary-lost');
      expect(lost.Type).toBe('AWS::CloudWatch::CompositeAlarm');
      expect(lost.Properties).toMatchObject({ AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
    },
  );

  test.each(regions)(
    '%s pages (through rpo-at-risk) when its database replica falls behind the RPO (seed 003: 60 s), and only a replica does',
    (_name, region) => {
      const lagAlarms = alarmsOf(resilience(region)).filter(([, a]) =>
        ['AuroraGlobalDBRPOLag', 'ReplicaLag'].includes(a.Properties?.MetricName as string),
      );
      expect(rpoSeconds).toBe(60);
      if (config.databaseEngine === 'aurora-postgresql-global') {
        if (region.isPrimary) return expect(lagAlarms).toHaveLength(0);
        expect(alarmNamed(region, 'database-rpo-lag').Properties).toMatchObject({
          Namespace: 'AWS/RDS',
          MetricName: 'AuroraGlobalDBRPOLag',
          Dimensions: [{ Name: 'DBClusterIdentifier', Value: postgresClusterId(tier, region.code) }],
          Statistic: 'Maximum',
          Threshold: rpoSeconds * 1000,
          ComparisonOperator: 'GreaterThanThreshold',
        });
        expect(causesOfRpoAtRisk(region)).toContain(`mlp-${tier}-${region.code}-database-rpo-lag`);
      } else {
        const current = config.databases[region.name]?.current;
        if (current?.role !== 'replica') return expect(lagAlarms).toHaveLength(0);
        expect(alarmNamed(region, 'database-replica-lag').Properties).toMatchObject({
          Namespace: 'AWS/RDS',
          MetricName: 'ReplicaLag',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: current.instanceIdentifier }],
          Statistic: 'Maximum',
          Threshold: rpoSeconds,
          ComparisonOperator: 'GreaterThanThreshold',
        });
        expect(causesOfRpoAtRisk(region)).toContain(`mlp-${tier}-${region.code}-database-replica-lag`);
      }
      expect(lagAlarms).toHaveLength(1);
    },
  );

  test.each(regions)(
    '%s pages on the write gates as its watchdog surveys them: none open beyond the RTO, two open; on a primary without heartbeats or Batch queues',
    (_name, region) => {
      const topicId = pagingTopicId(region);
      const minutes = config.tier.recovery.region.rtoSeconds / 60; // [003] 5 min
      expect(alarmNamed(region, 'no-region-writable').Properties).toMatchObject({
        Namespace: 'MLP/DR',
        MetricName: 'OpenWriteGates',
        Dimensions: [
          { Name: 'Region', Value: region.name },
          { Name: 'Tier', Value: tier },
        ],
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: minutes,
        DatapointsToAlarm: minutes,
        AlarmActions: [{ Ref: topicId }],
      });
      expect(alarmNamed(region, 'two-write-gates-open').Properties).toMatchObject({
        MetricName: 'OpenWriteGates',
        Threshold: 2,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
      for (const [what, metricName] of [
        ['heartbeat-stale', 'HeartbeatsWritten'],
        ['batch-queues-disabled', 'BatchQueuesDisabled'],
      ] as const) {
        const alarm = alarmNamed(region, what);
        expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
        const queries = JSON.stringify(alarm.Properties?.Metrics);
        // Counted only while this region's own gate is open: the duty follows the primary without a deploy.
        expect(queries).toContain('"MetricName":"WriteGateOpen"');
        expect(queries).toContain(`"MetricName":"${metricName}"`);
        expect(queries).toContain(`{"Name":"Region","Value":"${region.name}"}`);
      }
      const throttled = alarmNamed(region, 'runbook-functions-throttled');
      expect(throttled.Type).toBe('AWS::CloudWatch::CompositeAlarm');
      expect(throttled.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
      const functions = Object.keys(assembly.resourcesOfType(resilience(region), 'AWS::Lambda::Function'));
      const watched = alarmsOf(resilience(region))
        .filter(([, a]) => String(a.Properties?.AlarmName).includes('-runbook-throttles-'))
        .flatMap(([, a]) =>
          ((a.Properties?.Metrics ?? []) as { MetricStat?: { Metric: { Dimensions: { Value: unknown }[] } } }[]).flatMap(
            (m) => m.MetricStat?.Metric.Dimensions.map((d) => referencedId(d.Value)) ?? [],
          ),
        );
      // Every runbook function (the state machines' steps, the scheduled ones, the database agent) is watched once.
      const runbookFunctions = functions.filter(
        (id) =>
          Boolean(
            (assembly.template(resilience(region)).Resources[id]?.Properties?.Environment as { Variables?: Record<string, string> })
              ?.Variables?.MLP_STEP,
          ) || id.includes('DatabaseAgent'),
      );
      expect(new Set(watched)).toEqual(new Set(runbookFunctions));
      expect(watched).toHaveLength(runbookFunctions.length);
    },
  );

  test.each(regions)("%s's database pages on CPU, connections and (RDS) storage against the tier's limits", (_name, region) => {
    const limits = config.tier.alarms;
    const { postgres } = config.tier;
    const aurora = config.databaseEngine === 'aurora-postgresql-global';
    const dimension = aurora
      ? { Name: 'DBClusterIdentifier', Value: postgresClusterId(tier, region.code) }
      : { Name: 'DBInstanceIdentifier', Value: config.databases[region.name]?.current.instanceIdentifier };
    const common = {
      Namespace: 'AWS/RDS',
      Dimensions: [dimension],
      EvaluationPeriods: limits.databaseMinutes,
      AlarmActions: [{ Ref: pagingTopicId(region) }],
    };
    expect(limits).toMatchObject({ databaseCpuPercent: 80, databaseConnectionsPercent: 80, databaseStorageUsedPercent: 70 });
    expect(alarmNamed(region, 'database-cpu').Properties).toMatchObject({ ...common, MetricName: 'CPUUtilization', Threshold: 80 });
    expect(alarmNamed(region, 'database-connections').Properties).toMatchObject({
      ...common,
      MetricName: 'DatabaseConnections',
      Threshold: Math.floor(postgres.maxConnections * 0.8),
    });
    const storage = alarmsOf(resilience(region)).filter(
      ([, a]) => a.Properties?.AlarmName === `mlp-${tier}-${region.code}-database-storage`,
    );
    if (aurora) return expect(storage).toHaveLength(0);
    expect(alarmNamed(region, 'database-storage').Properties).toMatchObject({
      ...common,
      MetricName: 'FreeStorageSpace',
      Threshold: Math.floor(postgres.allocatedStorageGiB * 1024 ** 3 * 0.3),
      ComparisonOperator: 'LessThanThreshold',
    });
  });

  test.each(regions)(
    "%s's rpo-at-risk names every store replicating into it (cache as a datastore member, each Kafka flow, the keyspace) and its bucket's rules",
    (_name, region) => {
      const causes = causesOfRpoAtRisk(region).map((name) => name.replace(`mlp-${tier}-${region.code}-`, ''));
      const prefix = (p: string) => causes.filter((c) => c.startsWith(p));
      expect(causes).toContain('keyspace-replication-lag');
      const member = cacheRoleOf(config, region) === 'member';
      expect(prefix('cache-replication-lag').length > 0).toBe(member);
      if (member) {
        // Every node of the group, ten to an alarm (metric math's limit).
        const nodes = config.tier.redis.shards * (config.tier.redis.replicasPerShard + 1);
        expect(prefix('cache-replication-lag')).toHaveLength(Math.ceil(nodes / 10));
      }
      const flows = Object.keys(assembly.resourcesOfType(resilience(region), 'AWS::MSK::Replicator')).length;
      expect(prefix('kafka-from-')).toHaveLength(2 * flows);
      const destinations = region.isPrimary ? config.regions.length - 1 : 1;
      expect(prefix('artifact-replication-latency-')).toHaveLength(destinations);
      expect(prefix('artifact-replication-pending-')).toHaveLength(destinations);
      expect(
        alarmNamed(region, `artifact-replication-latency-${config.regions.find((r) => r.name !== region.name)?.name}`).Properties,
      ).toMatchObject({
        Namespace: 'AWS/S3',
        MetricName: 'ReplicationLatency',
        Threshold: 15 * 60, // S3 Replication Time Control's 15 minutes
      });
    },
  );

  test.each(regions)("%s's API pages on its 5xx rate and p99 latency (seeds 001, 000), on the region's own topic", (_name, region) => {
    const compute = `Mlp-${tier}-${region.code}-compute`;
    const named = (what: string) =>
      alarmsOf(compute).find(([, a]) => a.Properties?.AlarmName === `mlp-${tier}-${region.code}-${what}`)?.[1] as Resource;
    expect(config.tier.alarms).toMatchObject({ apiErrorRatePercent: 5, apiErrorMinutes: 3, apiLatencyP99Seconds: 2, apiLatencyMinutes: 5 });
    expect(named('api-error-rate').Properties).toMatchObject({ Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(publishedTopic(((named('api-error-rate').Properties?.AlarmActions ?? []) as unknown[])[0], region)).toBe(pagingTopicId(region));
    expect(named('api-latency-p99').Properties).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p99',
      Threshold: 2,
      EvaluationPeriods: 5,
    });
    const dashboards = Object.values(assembly.resourcesOfType(compute, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards.map((d) => d.Properties?.DashboardName)).toEqual([`mlp-${tier}-${region.code}-services`]);
  });
});
