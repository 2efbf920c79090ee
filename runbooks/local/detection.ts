import type { PlatformConfig } from '../../lib/config';
import type { DeployedAssembly } from './deployed-assembly';

/** One stretch of the modelled time from a fault to the start of the runbook, with what it rests on. */
export interface LeadTime {
  readonly what: string;
  readonly seconds: number;
  readonly source: string;
}

const num = (value: unknown, what: string): number => {
  if (typeof value !== 'number') throw new Error(`the synthesized ${what} is not a number: ${JSON.stringify(value)}`);
  return value;
};

/**
 * The time from the loss of the primary region to the start of an unplanned RegionFailover, as the
 * synthesized global stack and the tier's config make it: Route 53's health check of the primary's
 * API marks it unhealthy (request interval x failure threshold), the alarm on that check's
 * `HealthCheckStatus` pages (period x datapoints to alarm), then the start the tier configures: an
 * operator waits until the check has failed for the sustained time and decides within the budget.
 * Nothing here is a constant of the model: change the health check, the alarm or the config and the
 * figure follows.
 */
export function detectionLead(assembly: DeployedAssembly, config: PlatformConfig): LeadTime[] {
  const primary = config.primaryRegion;
  const apiName = `mlp-${config.tier.name}-api-${primary.code}`;
  const checks = assembly.resourcesOfType('AWS::Route53::HealthCheck');
  const check = checks.find(({ stack, logicalId }) => {
    const tags = assembly.property(stack, logicalId, 'HealthCheckTags') as { Key: string; Value: string }[] | undefined;
    return tags?.some((t) => t.Key === 'Name' && t.Value === apiName);
  });
  if (!check) throw new Error(`the synthesized stacks have no Route 53 health check named ${apiName}`);
  const healthCheck = assembly.property(check.stack, check.logicalId, 'HealthCheckConfig') as Record<string, unknown>;
  const interval = num(healthCheck.RequestInterval, `${apiName} RequestInterval`);
  const threshold = num(healthCheck.FailureThreshold, `${apiName} FailureThreshold`);
  const checkId = assembly.ref(check.stack, check.logicalId);
  const alarm = assembly.resourcesOfType('AWS::CloudWatch::Alarm').find(({ stack, logicalId }) => {
    if (assembly.property(stack, logicalId, 'MetricName') !== 'HealthCheckStatus') return false;
    const dimensions = assembly.property(stack, logicalId, 'Dimensions') as { Name: string; Value: unknown }[] | undefined;
    return dimensions?.some((d) => d.Name === 'HealthCheckId' && d.Value === checkId);
  });
  if (!alarm)
    throw new Error(`no CloudWatch alarm of the synthesized stacks watches ${apiName}'s HealthCheckStatus: nobody would be paged`);
  const period = num(assembly.property(alarm.stack, alarm.logicalId, 'Period'), 'alarm Period');
  const datapoints = num(
    assembly.property(alarm.stack, alarm.logicalId, 'DatapointsToAlarm') ??
      assembly.property(alarm.stack, alarm.logicalId, 'EvaluationPeriods'),
    'alarm EvaluationPeriods',
  );
  const alarmName = String(assembly.property(alarm.stack, alarm.logicalId, 'AlarmName'));
  const start = config.tier.recovery.regionFailoverStart;
  const unhealthy = interval * threshold;
  const paged = period * datapoints;
  return [
    {
      what: `Route 53 marks ${primary.name}'s API unhealthy (${threshold} failed checks, every ${interval} s)`,
      seconds: unhealthy,
      source: `synthesized health check ${apiName}; Route 53 developer guide, "How Route 53 determines whether a health check is healthy"`,
    },
    {
      what: `${alarmName} goes to ALARM and pages (${datapoints} x ${period} s of HealthCheckStatus)`,
      seconds: paged,
      source: 'synthesized alarm; CloudWatch user guide, "Evaluating an alarm"',
    },
    {
      what: `the operator waits until the check has failed for ${start.sustainedFailureSeconds} s (seeds 000, 004)`,
      seconds: Math.max(0, start.sustainedFailureSeconds - paged),
      source: 'tier config recovery.regionFailoverStart.sustainedFailureSeconds',
    },
    {
      what: `the on-call lead approves and starts the unplanned RegionFailover (budget ${start.decisionSeconds} s, seed 004)`,
      seconds: start.decisionSeconds,
      source: 'tier config recovery.regionFailoverStart.decisionSeconds',
    },
  ];
}
