import type { DeployedAssembly, DeployedStack } from './deployed-assembly';
import type { FakeAws } from './fake-aws';
import { type Principal, principalOf } from './iam';

/**
 * CloudWatch alarms on the runbooks' own metrics (namespace MLP/DR), their composite alarms, and the
 * EventBridge rules that act on their state changes, as the synthesized stacks configure them.
 *
 * - A metric alarm is evaluated every period (every 10 s for a high-resolution period of 10 s; CloudWatch
 *   user guide, "High-resolution alarms") over its last `EvaluationPeriods` complete periods: the
 *   statistic of each period's datapoints against the threshold, a period without data as
 *   `TreatMissingData` says; ALARM when `DatapointsToAlarm` of them breach ("Evaluating an alarm").
 * - A composite alarm follows its rule (`ALARM("arn") AND ...`) whenever a child changes state
 *   ("Create a composite alarm").
 * - A change of state is an event `CloudWatch Alarm State Change` from `aws.cloudwatch` whose
 *   `resources` is the alarm's ARN; a rule in the alarm's region whose pattern matches delivers it to
 *   its targets (EventBridge user guide, "Alarm events and EventBridge"), a state machine target by
 *   `states:StartExecution` as the rule's role, which must allow it.
 */
export interface FiredTarget {
  readonly region: string;
  readonly ruleName: string;
  readonly stateMachineArn: string;
  readonly input: unknown;
}

type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

interface MetricAlarm {
  readonly kind: 'metric';
  readonly arn: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: string;
  readonly treatMissingData: string;
  state: State;
}

interface CompositeAlarm {
  readonly kind: 'composite';
  readonly arn: string;
  readonly region: string;
  readonly rule: string;
  state: State;
}

interface Rule {
  readonly name: string;
  readonly region: string;
  readonly pattern: Record<string, unknown>;
  readonly enabled: boolean;
  readonly targets: readonly { readonly arn: string; readonly input: unknown; readonly role?: Principal }[];
}

export class SimulatedAlarms {
  private readonly alarms = new Map<string, MetricAlarm | CompositeAlarm>();
  private readonly rules: Rule[] = [];

  constructor(
    assembly: DeployedAssembly,
    private readonly aws: FakeAws,
    private readonly now: () => Date,
  ) {
    for (const { stack, logicalId } of assembly.resourcesOfType('AWS::CloudWatch::Alarm')) {
      const prop = (key: string) => assembly.property(stack, logicalId, key);
      if (prop('Namespace') !== 'MLP/DR') continue; // only what the runbooks publish is simulated
      const arn = String(assembly.attribute(stack, logicalId, 'Arn'));
      this.alarms.set(arn, {
        kind: 'metric',
        arn,
        region: stack.region,
        namespace: String(prop('Namespace')),
        metricName: String(prop('MetricName')),
        dimensions: Object.fromEntries(
          ((prop('Dimensions') ?? []) as { Name: string; Value: unknown }[]).map((d) => [d.Name, String(d.Value)]),
        ),
        statistic: String(prop('Statistic')),
        periodSeconds: Number(prop('Period')),
        evaluationPeriods: Number(prop('EvaluationPeriods')),
        datapointsToAlarm: Number(prop('DatapointsToAlarm') ?? prop('EvaluationPeriods')),
        threshold: Number(prop('Threshold')),
        comparison: String(prop('ComparisonOperator')),
        treatMissingData: String(prop('TreatMissingData') ?? 'missing'),
        state: 'INSUFFICIENT_DATA',
      });
    }
    // A composite is simulated when every alarm its rule names is (the runbooks' own evidence); one over
    // metrics of AWS services (replication lag, throttles) is left out with them.
    const composites = assembly.resourcesOfType('AWS::CloudWatch::CompositeAlarm').map(({ stack, logicalId }) => ({
      arn: String(assembly.attribute(stack, logicalId, 'Arn')),
      region: stack.region,
      rule: String(assembly.property(stack, logicalId, 'AlarmRule')),
    }));
    let added = true;
    while (added) {
      added = false;
      for (const { arn, region, rule } of composites) {
        if (this.alarms.has(arn) || !namedAlarms(rule).every((child) => this.alarms.has(child))) continue;
        this.alarms.set(arn, { kind: 'composite', arn, region, rule, state: 'INSUFFICIENT_DATA' });
        added = true;
      }
    }
    for (const { stack, logicalId } of assembly.resourcesOfType('AWS::Events::Rule')) {
      this.rules.push(readRule(assembly, stack, logicalId));
    }
  }

  state(alarmArn: string): State | undefined {
    return this.alarms.get(alarmArn)?.state;
  }

  /** Every alarm evaluated now; the targets of the rules that matched a change of state to ALARM. */
  async evaluate(): Promise<FiredTarget[]> {
    const changed: (MetricAlarm | CompositeAlarm)[] = [];
    for (const alarm of this.alarms.values()) {
      if (alarm.kind !== 'metric') continue;
      const next = this.evaluateMetric(alarm);
      if (next !== alarm.state) {
        alarm.state = next;
        changed.push(alarm);
      }
    }
    for (const alarm of this.alarms.values()) {
      if (alarm.kind !== 'composite') continue;
      const next: State = this.ruleHolds(alarm.rule) ? 'ALARM' : 'OK';
      if (next !== alarm.state) {
        alarm.state = next;
        changed.push(alarm);
      }
    }
    const fired: FiredTarget[] = [];
    for (const alarm of changed.filter((a) => a.state === 'ALARM')) fired.push(...(await this.deliver(alarm)));
    return fired;
  }

  private evaluateMetric(alarm: MetricAlarm): State {
    const period = alarm.periodSeconds * 1000;
    const end = Math.floor(this.now().getTime() / period) * period;
    let breaching = 0;
    let withData = 0;
    for (let i = 1; i <= alarm.evaluationPeriods; i++) {
      const from = end - i * period;
      const values = this.aws.metrics
        .filter(
          (m) =>
            m.region === alarm.region &&
            m.namespace === alarm.namespace &&
            m.name === alarm.metricName &&
            m.time !== undefined &&
            m.time >= from &&
            m.time < from + period &&
            Object.entries(alarm.dimensions).every(([k, v]) => m.dimensions?.[k] === v),
        )
        .map((m) => Number(m.value));
      if (values.length === 0) {
        if (alarm.treatMissingData === 'breaching') breaching++;
        if (alarm.treatMissingData === 'breaching' || alarm.treatMissingData === 'notBreaching') withData++;
        continue;
      }
      withData++;
      if (compare(statistic(alarm.statistic, values), alarm.comparison, alarm.threshold)) breaching++;
    }
    if (withData === 0) return alarm.treatMissingData === 'ignore' ? alarm.state : 'INSUFFICIENT_DATA';
    return breaching >= alarm.datapointsToAlarm ? 'ALARM' : 'OK';
  }

  /** `ALARM("arn")`, `OK("arn")` and `INSUFFICIENT_DATA("arn")` terms joined by AND and OR, parenthesised. */
  private ruleHolds(rule: string): boolean {
    const expression = rule
      .replace(/(ALARM|OK|INSUFFICIENT_DATA)\("([^"]+)"\)/g, (_m, state: string, arn: string) => {
        const child = this.alarms.get(arn);
        if (!child) throw new Error(`composite alarm rule names ${arn}, which is not a simulated alarm`);
        return child.state === state ? 'true' : 'false';
      })
      .replace(/\bAND\b/g, '&&')
      .replace(/\bOR\b/g, '||');
    if (!/^[\s()&|a-z]*$/.test(expression)) throw new Error(`the simulated CloudWatch does not model the alarm rule ${rule}`);
    return Function(`return (${expression});`)() as boolean;
  }

  private async deliver(alarm: MetricAlarm | CompositeAlarm): Promise<FiredTarget[]> {
    const event = {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      resources: [alarm.arn],
      detail: { alarmName: alarm.arn.split(':alarm:')[1], state: { value: alarm.state } },
    };
    const fired: FiredTarget[] = [];
    for (const rule of this.rules.filter((r) => r.enabled && r.region === alarm.region && matches(r.pattern, event))) {
      for (const target of rule.targets) {
        if (!target.arn.startsWith('arn:aws:states:')) continue;
        if (!target.role) throw new Error(`rule ${rule.name} targets ${target.arn} without a role`);
        const decision = await this.aws.authorize(target.role, { action: 'states:StartExecution', resource: target.arn });
        if (!decision.allowed) throw new Error(`rule ${rule.name}: its role may not start ${target.arn} (${decision.reason})`);
        fired.push({ region: rule.region, ruleName: rule.name, stateMachineArn: target.arn, input: target.input });
      }
    }
    return fired;
  }
}

function readRule(assembly: DeployedAssembly, stack: DeployedStack, logicalId: string): Rule {
  const prop = (key: string) => assembly.property(stack, logicalId, key);
  const targets = ((prop('Targets') ?? []) as { Arn: unknown; Input?: unknown; RoleArn?: unknown }[]).map((target) => {
    const roleArn = target.RoleArn === undefined ? undefined : String(target.RoleArn);
    const role = roleArn ? roleOf(assembly, roleArn) : undefined;
    return {
      arn: String(target.Arn),
      input: target.Input === undefined ? {} : JSON.parse(String(target.Input)),
      ...(role ? { role } : {}),
    };
  });
  return {
    name: String(prop('Name') ?? logicalId),
    region: stack.region,
    pattern: prop('EventPattern') as Record<string, unknown>,
    enabled: (prop('State') ?? 'ENABLED') === 'ENABLED',
    targets,
  };
}

/** The synthesized role with this ARN, as a principal the simulation authorizes. */
function roleOf(assembly: DeployedAssembly, roleArn: string): Principal {
  for (const { stack, logicalId } of assembly.resourcesOfType('AWS::IAM::Role')) {
    if (String(assembly.attribute(stack, logicalId, 'Arn')) === roleArn) return principalOf(assembly, stack, logicalId, logicalId);
  }
  throw new Error(`no synthesized role ${roleArn}`);
}

/** EventBridge matching of the subset the stacks use: every pattern key an array of allowed values, or a nested pattern. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const have = event[key];
    if (Array.isArray(want)) {
      const values = Array.isArray(have) ? have : [have];
      return values.some((v) => want.some((w) => JSON.stringify(w) === JSON.stringify(v)));
    }
    return typeof want === 'object' && want !== null && typeof have === 'object' && have !== null
      ? matches(want as Record<string, unknown>, have as Record<string, unknown>)
      : false;
  });
}

function statistic(name: string, values: readonly number[]): number {
  switch (name) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
    default:
      throw new Error(`the simulated CloudWatch does not model the statistic ${name}`);
  }
}

function compare(value: number, operator: string, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`the simulated CloudWatch does not model the comparison ${operator}`);
  }
}

/** The alarm ARNs a composite alarm's rule names (`ALARM("arn")`, `OK("arn")`, `INSUFFICIENT_DATA("arn")`). */
function namedAlarms(rule: string): string[] {
  return [...rule.matchAll(/(?:ALARM|OK|INSUFFICIENT_DATA)\("([^"]+)"\)/g)].map((m) => m[1] as string);
}
