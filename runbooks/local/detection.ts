import { OPERATOR_START, type PlatformConfig } from '../../lib/config';
import type { OperatorStart } from '../../lib/config/types';
import type { DeployedAssembly, DeployedStack } from './deployed-assembly';
import { MODELLED_SECONDS } from './fake-aws';

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
/** The synthesized Route 53 health check with this `Name` tag. */
function healthCheckNamed(assembly: DeployedAssembly, name: string) {
  const check = assembly.resourcesOfType('AWS::Route53::HealthCheck').find(({ stack, logicalId }) => {
    const tags = assembly.property(stack, logicalId, 'HealthCheckTags') as { Key: string; Value: string }[] | undefined;
    return tags?.some((t) => t.Key === 'Name' && t.Value === name);
  });
  if (!check) throw new Error(`the synthesized stacks have no Route 53 health check named ${name}`);
  return check;
}

/** An endpoint check's request interval and failure threshold, as synthesized. */
function probing(assembly: DeployedAssembly, check: { stack: DeployedStack; logicalId: string }, name: string) {
  const config = assembly.property(check.stack, check.logicalId, 'HealthCheckConfig') as Record<string, unknown>;
  return {
    interval: num(config.RequestInterval, `${name} RequestInterval`),
    threshold: num(config.FailureThreshold, `${name} FailureThreshold`),
  };
}

/**
 * After the new primary's gate opens and before its clients write there, as the synthesized global
 * stack makes it: Route 53's write-gate check of the region sees the endpoint answer open (request
 * interval x failure threshold), the region's write check and the DNS answers follow (modelled),
 * and resolvers drop the answer they cached (the write records' TTL).
 */
export function writeGateTail(assembly: DeployedAssembly, config: PlatformConfig, region: string): LeadTime[] {
  const gateName = `mlp-${config.tier.name}-gate-${region}`;
  const gate = probing(assembly, healthCheckNamed(assembly, gateName), gateName);
  const writable = healthCheckNamed(assembly, `mlp-${config.tier.name}-writable-${region}`);
  const writableId = assembly.ref(writable.stack, writable.logicalId);
  const record = assembly
    .resourcesOfType('AWS::Route53::RecordSet')
    .find(({ stack, logicalId }) => assembly.property(stack, logicalId, 'HealthCheckId') === writableId);
  if (!record) throw new Error(`no synthesized record routes on ${region}'s write check`);
  const ttl = num(Number(assembly.property(record.stack, record.logicalId, 'TTL')), `${region}'s write record TTL`);
  return [
    {
      what: `Route 53's write-gate check of ${region} sees its endpoint answer open (${gate.threshold} x every ${gate.interval} s)`,
      seconds: gate.interval * gate.threshold,
      source: `synthesized health check ${gateName}; Route 53 developer guide, "How Route 53 determines whether a health check is healthy"`,
    },
    {
      what: `the region's write check and Route 53's answers follow (modelled)`,
      seconds: MODELLED_SECONDS.route53Propagation.seconds,
      source: MODELLED_SECONDS.route53Propagation.source,
    },
    {
      what: `resolvers drop the answer they cached (TTL ${ttl} s)`,
      seconds: ttl,
      source: 'synthesized write records (tier config routing.writeRecordTtlSeconds)',
    },
  ];
}

/**
 * The operator's path to the start of an unplanned RegionFailover: the tier's own when it starts
 * failovers by hand, the seeds' (`OPERATOR_START`) when it starts them automatically and the
 * automation is switched off or refuses.
 */
export function operatorStartOf(config: PlatformConfig): OperatorStart {
  const start = config.tier.recovery.regionFailoverStart;
  return start.kind === 'operator' ? start : OPERATOR_START;
}

export function detectionLead(assembly: DeployedAssembly, config: PlatformConfig): LeadTime[] {
  const primary = config.primaryRegion;
  const apiName = `mlp-${config.tier.name}-api-${primary.code}`;
  const check = healthCheckNamed(assembly, apiName);
  const { interval, threshold } = probing(assembly, check, apiName);
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
  const start = operatorStartOf(config);
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
