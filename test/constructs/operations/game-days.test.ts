import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, test } from 'vitest';
import { FaultInjection, GameDays, type GameDaysProps, laterSameDay } from '../../../constructs/operations';
import { type RegionPlan, resolvePlatformConfig } from '../../../lib/config';
import type { RunbookDeps } from '../../../runbooks/core/env';
import { rebootWithFailover } from '../../../runbooks/steps/az-failover';
import { checkReprotection } from '../../../runbooks/steps/failback';
import { validateFailoverInput } from '../../../runbooks/steps/region-failover/plan';
import { type CfnTemplate, LayoutAssembly } from '../../support/assembly';
import { LAYOUTS, layoutContext, TEST_ACCOUNT } from '../../support/layouts';
import { cdkJsonContext } from '../../support/synth';

type Resource = CfnTemplate['Resources'][string];
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** A template value as text: joins flattened, `<Ref>`, `<Id.Attr>`, `<stack@region:output>` for a cross-stack read. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = (value ?? {}) as Record<string, unknown>;
  if (Array.isArray(object['Fn::Join'])) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (typeof object.Ref === 'string') return `<${object.Ref}>`;
  if (Array.isArray(object['Fn::GetAtt'])) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  const output = object['Fn::GetStackOutput'] as { StackName: string; Region: string; OutputName: string } | undefined;
  if (output) return `<${output.StackName}@${output.Region}:${output.OutputName}>`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const GAME_DAY = /-game-day-/;

/** Each layout's game-day schedules by region code, as `<what> <expression>`: the whole plan, spelled out. */
const EXPECTED_SCHEDULES: Readonly<Record<string, Readonly<Record<string, string[]>>>> = {
  // Home (and primary) us-east-1: the quarter's failback at noon, the June fault at 06:00 and the AZ failover at 06:30;
  // its successor us-west-2: the quarter's switchover at 06:00.
  dev: {
    use1: ['failback cron(0 12 1 1,4,7,10 ? *)', 'fault cron(0 6 1 6 ? *)', 'az-failover cron(30 6 1 6 ? *)'],
    usw2: ['switchover cron(0 6 1 1,4,7,10 ? *)'],
  },
  // Failed over to us-west-2: the pair stays by home order; the AZ game day and the templates follow the primary.
  'tier1-failed-over': {
    use1: ['failback cron(0 12 1 1,4,7,10 ? *)'],
    usw2: ['switchover cron(0 6 1 1,4,7,10 ? *)', 'fault cron(0 6 1 6 ? *)', 'az-failover cron(30 6 1 6 ? *)'],
  },
};

/** Dependencies whose every AWS client, database and probe throws SENTINEL: a step that reaches one has accepted its input. */
const SENTINEL = new Error('sentinel: the step got past its input validation and called AWS');
function unreachableDeps(region: string, regions: readonly string[]): RunbookDeps {
  const fail = () => {
    throw SENTINEL;
  };
  const everything = new Proxy({}, { get: () => fail });
  return {
    env: { tier: 'test', region, regions, stateRegions: regions, stateTable: 'mlp-test-dr-state' } as RunbookDeps['env'],
    clients: everything as RunbookDeps['clients'],
    database: everything as RunbookDeps['database'],
    now: () => new Date('2026-06-01T06:30:00Z'),
    probe: fail,
  };
}

describe.each(LAYOUTS)('game days of layout $id are there only when the tier allows them', (layout) => {
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const assembly = LayoutAssembly.of(layout.id);
  const gameDaySchedules = assembly.stackNames.flatMap((stack) =>
    Object.values(assembly.resourcesOfType(stack, 'AWS::Scheduler::Schedule')).filter((s) => GAME_DAY.test(String(s.Properties?.Name))),
  );
  const templates = assembly.stackNames.flatMap((stack) => Object.keys(assembly.resourcesOfType(stack, 'AWS::FIS::ExperimentTemplate')));

  test(`game days ${config.gameDays ? 'on' : 'off'}: schedules and FIS templates ${config.gameDays ? 'present' : 'absent'}`, () => {
    expect(config.gameDays).toBe(layout.id in EXPECTED_SCHEDULES);
    if (config.gameDays) {
      expect(gameDaySchedules.length).toBeGreaterThan(0);
      expect(templates.length).toBeGreaterThan(0);
    } else {
      expect(gameDaySchedules).toEqual([]);
      expect(templates).toEqual([]);
    }
  });
});

describe.each(Object.keys(EXPECTED_SCHEDULES))('the game days of layout %s', (id) => {
  const layout = LAYOUTS.find((l) => l.id === id) as (typeof LAYOUTS)[number];
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const assembly = LayoutAssembly.of(id);
  const tier = config.tier.name;
  const regionNames = config.regions.map((r) => r.name);
  const resilience = (r: RegionPlan) => `Mlp-${tier}-${r.code}-resilience`;
  const regions = config.regions.map((r) => [r.name, r] as const);
  const schedulesOf = (r: RegionPlan) =>
    Object.entries(assembly.resourcesOfType(resilience(r), 'AWS::Scheduler::Schedule')).filter(([, s]) =>
      GAME_DAY.test(String(s.Properties?.Name)),
    );
  const allSchedules = config.regions.flatMap((r) =>
    schedulesOf(r).map(([logicalId, s]) => [String(s.Properties?.Name), r, logicalId, s] as const),
  );
  const templatesOf = (r: RegionPlan) => Object.entries(assembly.resourcesOfType(resilience(r), 'AWS::FIS::ExperimentTemplate'));
  const nameOf = (t: Resource) => String((t.Properties?.Tags as Record<string, string> | undefined)?.Name);
  const allTemplates = config.regions.flatMap((r) => templatesOf(r).map(([logicalId, t]) => [nameOf(t), r, logicalId, t] as const));
  const policiesOf = (stack: string, roleId: string): Statement[] =>
    Object.values(assembly.template(stack).Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && list(r.Properties?.Roles as unknown[]).some((ref) => render(ref) === `<${roleId}>`))
      .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? []);
  const inRegion = (r: RegionPlan) => `:${r.name}:${TEST_ACCOUNT}:`;

  test('each region schedules exactly its part, each step on the drill calendar of the tier config', () => {
    const found = Object.fromEntries(
      config.regions.map((r) => [
        r.code,
        schedulesOf(r).map(
          ([, s]) => `${String(s.Properties?.Name).replace(`mlp-${tier}-${r.code}-game-day-`, '')} ${s.Properties?.ScheduleExpression}`,
        ),
      ]),
    );
    expect(found).toEqual(EXPECTED_SCHEDULES[id]);
    // The calendar is the tier's: the quarterly failover drill and the annual chaos exercise [003].
    expect(config.tier.drills.regionFailoverDrill).toBe('cron(0 6 1 1,4,7,10 ? *)');
    expect(config.tier.drills.chaosExercise).toBe('cron(0 6 1 6 ? *)');
  });

  test.each(allSchedules.map(([name, r, logicalId, s]) => [name, r, logicalId, s]))(
    '%s starts a runbook or experiment of its own region and tier, with a role that may start that one only',
    (_name, region, logicalId, schedule) => {
      const stack = resilience(region as RegionPlan);
      const template = assembly.template(stack);
      expect(assembly.artifact(stack).environment).toBe(`aws://${TEST_ACCOUNT}/${(region as RegionPlan).name}`);
      const target = (schedule as Resource).Properties?.Target as { Arn: unknown; Input: unknown; RoleArn: unknown };
      const roleId = render(target.RoleArn).replace(/^<(.*)\.Arn>$/, '$1');
      expect(template.Resources[roleId]?.Properties?.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          { Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT } } },
        ],
      });
      const statements = policiesOf(stack, roleId);
      if (render(target.Arn).endsWith(':scheduler:::aws-sdk:fis:startExperiment')) {
        const input = JSON.parse(render(target.Input).replace(/"<([^>]+)>"/g, '"REF:$1"')) as Record<string, string>;
        const templateId = input.experimentTemplateId?.replace('REF:', '') as string;
        expect(template.Resources[templateId]?.Type, `${logicalId} starts ${templateId}`).toBe('AWS::FIS::ExperimentTemplate');
        expect(input.clientToken).toBe('game-day-<aws.scheduler.scheduled-time>');
        expect(statements.map((s) => [s.Action, list(s.Resource).map(render).sort()])).toEqual([
          [
            'fis:StartExperiment',
            [
              `arn:aws:fis${inRegion(region as RegionPlan)}experiment-template/<${templateId}>`,
              `arn:aws:fis${inRegion(region as RegionPlan)}experiment/*`,
            ],
          ],
        ]);
      } else {
        const machineId = render(target.Arn).replace(/^<(.*)>$/, '$1');
        const machine = template.Resources[machineId];
        expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
        expect(String(machine?.Properties?.StateMachineName)).toMatch(new RegExp(`^mlp-${tier}-(region-failover|failback|az-failover)$`));
        expect(statements).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } }]);
      }
    },
  );

  test('the runbook inputs scheduled pass the runbooks’ own input validation, in the region each runs in', async () => {
    const started = allSchedules.flatMap(([name, region, , schedule]) => {
      const target = (schedule as Resource).Properties?.Target as { Arn: unknown; Input: string };
      const machine = assembly.template(resilience(region)).Resources[render(target.Arn).replace(/^<(.*)>$/, '$1')];
      return machine ? [[name, region.name, String(machine.Properties?.StateMachineName), JSON.parse(target.Input)] as const] : [];
    });
    expect(started.map(([, region, machine, input]) => [region, machine.replace(`mlp-${tier}-`, ''), input]).sort()).toEqual(
      [
        [config.regions[1]?.name, 'region-failover', { mode: 'planned', targetRegion: config.regions[1]?.name }],
        [config.regions[0]?.name, 'failback', { formerPrimary: config.regions[0]?.name }],
        [config.primaryRegion.name, 'az-failover', {}],
      ].sort(),
    );
    for (const [name, region, machine, input] of started) {
      if (machine.endsWith('-region-failover')) {
        expect(validateFailoverInput(input, regionNames, region), name).toEqual(input);
      } else {
        // Validation comes first in each step: reaching AWS means the input was accepted.
        const step = machine.endsWith('-failback') ? checkReprotection : rebootWithFailover;
        await expect(step({ state: { input } } as never, unreachableDeps(region, regionNames)), name).rejects.toBe(SENTINEL);
      }
    }
    // And the checks are real: the same steps refuse an input meant for another region.
    const other = regionNames.find((r) => r !== config.regions[0]?.name) as string;
    await expect(
      checkReprotection(
        { state: { input: { formerPrimary: other } } } as never,
        unreachableDeps(config.regions[0]?.name as string, regionNames),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(() => validateFailoverInput({ mode: 'planned', targetRegion: other }, regionNames, config.regions[0]?.name as string)).toThrow(
      /start the runbook in the region that becomes the primary/,
    );
  });

  test('FIS templates are in the primary only: per zone the cache power cut, the database failover, the cut from the successor', () => {
    const takeover = config.regions.find((r) => !r.isPrimary) as RegionPlan;
    const byRegion = Object.fromEntries(config.regions.map((r) => [r.code, templatesOf(r).map(([, t]) => nameOf(t))]));
    const primary = config.primaryRegion;
    expect(byRegion).toEqual(
      Object.fromEntries(
        config.regions.map((r) => [
          r.code,
          r.isPrimary
            ? [
                ...primary.availabilityZones.map((zone) => `mlp-${tier}-${r.code}-cache-az-power-${zone}`),
                `mlp-${tier}-${r.code}-database-failover`,
                `mlp-${tier}-${r.code}-cross-region-disruption-${takeover.name}`,
              ]
            : [],
        ]),
      ),
    );
  });

  test.each(allTemplates.map(([name, r, logicalId, t]) => [name, r, logicalId, t]))(
    '%s targets this tier’s resources of its region only, with the documented action',
    (_name, region, _logicalId, template) => {
      const r = region as RegionPlan;
      const properties = (template as Resource).Properties as Record<string, unknown>;
      const targets = Object.values(properties.Targets as Record<string, Record<string, unknown>>);
      const actions = Object.values(
        properties.Actions as Record<string, { ActionId: string; Parameters?: Record<string, string>; Targets: Record<string, string> }>,
      );
      expect(targets).toHaveLength(1);
      expect(actions).toHaveLength(1);
      const [target] = targets as [Record<string, unknown>];
      const [action] = actions as [(typeof actions)[number]];
      expect(Object.values(action.Targets)).toEqual(Object.keys(properties.Targets as object));
      expect(target.SelectionMode).toBe('ALL');
      expect(properties.ExperimentOptions).toEqual({ AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' });
      const arns = list(target.ResourceArns as unknown[]).map(render);
      switch (action.ActionId) {
        case 'aws:elasticache:replicationgroup-interrupt-az-power': {
          // FIS selects replication groups by tag only: the tag the region's own group carries, naming it.
          const groupId = `mlp-${tier}-cache-${r.code}`;
          expect(target).toMatchObject({ ResourceType: 'aws:elasticache:replicationgroup', ResourceTags: { 'mlp:cache': groupId } });
          expect(Object.keys(target.ResourceTags as object)).toEqual(['mlp:cache']);
          const groups = Object.values(assembly.resourcesOfType(`Mlp-${tier}-${r.code}-data`, 'AWS::ElastiCache::ReplicationGroup'));
          expect(groups.map((g) => [g.Properties?.ReplicationGroupId, g.Properties?.Tags])).toEqual([
            [groupId, expect.arrayContaining([{ Key: 'mlp:cache', Value: groupId }])],
          ]);
          expect(r.availabilityZones).toContain((target.Parameters as Record<string, string>).availabilityZoneIdentifier);
          expect(action.Parameters).toEqual({ duration: 'PT10M' });
          break;
        }
        case 'aws:rds:reboot-db-instances':
          expect(config.databaseEngine).toBe('rds-postgresql');
          expect(target.ResourceType).toBe('aws:rds:db');
          expect(arns).toEqual([`arn:aws:rds${inRegion(r)}db:${config.databases[r.name]?.current.instanceIdentifier}`]);
          expect(action.Parameters).toEqual({ forceFailover: 'true' });
          break;
        case 'aws:rds:failover-db-cluster':
          expect(config.databaseEngine).toBe('aurora-postgresql-global');
          expect(target.ResourceType).toBe('aws:rds:cluster');
          expect(arns).toEqual([`arn:aws:rds${inRegion(r)}cluster:mlp-${tier}-pg-${r.code}`]);
          break;
        case 'aws:network:route-table-disrupt-cross-region-connectivity': {
          expect(target.ResourceType).toBe('aws:ec2:subnet');
          // The region's own private subnets, read from its network stack.
          const network = assembly.template(`Mlp-${tier}-${r.code}-network`) as CfnTemplate & {
            Outputs: Record<string, { Value: unknown }>;
          };
          const subnets = arns.map((arn) => {
            const match = new RegExp(`^arn:aws:ec2${inRegion(r)}subnet/<Mlp-${tier}-${r.code}-network@${r.name}:(.+)>$`).exec(arn);
            expect(match, arn).not.toBeNull();
            return network.Resources[render(network.Outputs[match?.[1] as string]?.Value).replace(/^<(.*)>$/, '$1')];
          });
          expect(subnets).toHaveLength(3);
          for (const subnet of subnets) {
            expect(subnet?.Type).toBe('AWS::EC2::Subnet');
            expect(subnet?.Properties?.Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Private' });
          }
          const takeover = config.regions.find((other) => !other.isPrimary) as RegionPlan;
          expect(action.Parameters).toEqual({ region: takeover.name, duration: 'PT10M' });
          break;
        }
        default:
          throw new Error(`unexpected action ${action.ActionId}`);
      }
    },
  );

  test.each(allTemplates.map(([name, r, logicalId, t]) => [name, r, logicalId, t]))(
    '%s stops on alarms of its own region that page there, and logs to its region, encrypted',
    (_name, region, _logicalId, template) => {
      const r = region as RegionPlan;
      const stack = assembly.template(resilience(r));
      const properties = (template as Resource).Properties as Record<string, unknown>;
      const conditions = properties.StopConditions as { Source: string; Value: unknown }[];
      expect(conditions.length).toBeGreaterThanOrEqual(1);
      expect(conditions.length).toBeLessThanOrEqual(5);
      for (const condition of conditions) {
        expect(condition.Source).toBe('aws:cloudwatch:alarm');
        const alarm = stack.Resources[render(condition.Value).replace(/^<(.*)\.Arn>$/, '$1')];
        expect(alarm?.Type).toBe('AWS::CloudWatch::Alarm');
        expect(String(alarm?.Properties?.AlarmName)).toMatch(new RegExp(`^mlp-${tier}-${r.code}-`));
        expect(list(alarm?.Properties?.AlarmActions as unknown[]).map(render)).toHaveLength(1);
      }
      const logGroupId = render(
        (properties.LogConfiguration as { CloudWatchLogsConfiguration: { LogGroupArn: unknown } }).CloudWatchLogsConfiguration.LogGroupArn,
      ).replace(/^<(.*)\.Arn>$/, '$1');
      const logGroup = stack.Resources[logGroupId];
      expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
      expect(render(logGroup?.Properties?.KmsKeyId)).toMatch(
        new RegExp(`^<Mlp-${tier}-${r.code}-data@${r.name}:PublishOutputFnGetAttDataKey`),
      );
    },
  );

  test.each(allTemplates.map(([name, r, logicalId, t]) => [name, r, logicalId, t]))(
    '%s has a role of its own, trusted by FIS of this account and region, that may change its targets only',
    (_name, region, _logicalId, template) => {
      const r = region as RegionPlan;
      const stack = resilience(r);
      const properties = (template as Resource).Properties as Record<string, unknown>;
      const roleId = render(properties.RoleArn).replace(/^<(.*)\.Arn>$/, '$1');
      expect(allTemplates.filter(([, , , t]) => render((t as Resource).Properties?.RoleArn) === render(properties.RoleArn))).toHaveLength(
        1,
      );
      expect(assembly.template(stack).Resources[roleId]?.Properties?.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Principal: { Service: 'fis.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT },
              ArnLike: { 'aws:SourceArn': `arn:aws:fis${inRegion(r)}experiment/*` },
            },
          },
        ],
      });
      const statements = policiesOf(stack, roleId);
      const targetArns = new Set(
        list((Object.values(properties.Targets as object)[0] as { ResourceArns?: unknown[] }).ResourceArns).map(render),
      );
      const cacheArn = `arn:aws:elasticache${inRegion(r)}replicationgroup:mlp-${tier}-cache-${r.code}`;
      const vpc = new RegExp(`^arn:aws:ec2${inRegion(r)}vpc/<Mlp-${tier}-${r.code}-network@${r.name}:PublishOutputRefNetworkVpc`);
      for (const statement of statements) {
        const actions = list(statement.Action);
        const resources = list(statement.Resource).map(render);
        // Calls that take no resource type: reads, target resolution and log delivery.
        if (resources.includes('*')) {
          expect(resources).toEqual(['*']);
          for (const action of actions)
            expect(action).toMatch(
              /^(ec2:Describe|tag:GetResources$|logs:(CreateLogDelivery|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$)/,
            );
          continue;
        }
        for (const resource of resources) {
          if (resource === cacheArn || targetArns.has(resource) || vpc.test(resource)) continue;
          // Anything else is a pattern of this account and region that a condition narrows to what FIS creates in this VPC,
          // or a read of the region's prefix lists (AWS-managed ones included).
          if (resource === `arn:aws:ec2:${r.name}:*:prefix-list/*`) {
            expect(actions).toEqual(['ec2:GetManagedPrefixListEntries']);
            continue;
          }
          expect(resource).toMatch(
            new RegExp(`^arn:aws:ec2${inRegion(r)}(route-table|network-interface|prefix-list|security-group|vpc-endpoint)/\\*$`),
          );
          const narrowed =
            statement.Condition?.StringEquals?.['aws:RequestTag/managedByFIS'] === 'true' ||
            statement.Condition?.StringEquals?.['ec2:ResourceTag/managedByFIS'] === 'true' ||
            (statement.Condition?.StringEquals?.['ec2:Vpc'] !== undefined &&
              vpc.test(render(statement.Condition.StringEquals['ec2:Vpc']))) ||
            (resource.endsWith(':vpc-endpoint/*') && actions.join() === 'ec2:ModifyVpcEndpoint');
          expect(narrowed, `${actions.join()} on ${resource}`).toBe(true);
        }
      }
      // The calls that inject the fault name the target, and only it.
      const granted = (action: string) =>
        statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource).map(render));
      const action = Object.values(properties.Actions as Record<string, { ActionId: string }>)[0]?.ActionId;
      if (action === 'aws:elasticache:replicationgroup-interrupt-az-power')
        expect(granted('elasticache:InterruptClusterAzPower')).toEqual([cacheArn]);
      if (action === 'aws:rds:reboot-db-instances') expect(granted('rds:RebootDBInstance')).toEqual([...targetArns]);
      if (action === 'aws:rds:failover-db-cluster') expect(granted('rds:FailoverDBCluster')).toEqual([...targetArns]);
      if (action === 'aws:network:route-table-disrupt-cross-region-connectivity') {
        expect(granted('ec2:ReplaceRouteTableAssociation').filter((arn) => arn.includes(':subnet/'))).toEqual([...targetArns]);
      }
    },
  );

  test.each(regions)('%s holds nothing of the game days of another tier or region', (_name, region) => {
    const text = JSON.stringify(
      Object.fromEntries(
        Object.entries(assembly.template(resilience(region)).Resources).filter(
          ([logicalId]) => logicalId.startsWith('GameDays') || logicalId.startsWith('FaultInjection'),
        ),
      ),
    );
    // No ARN of another region (the cross-region disruption names its other region as a parameter, not an ARN).
    for (const other of config.regions.filter((r) => r.name !== region.name)) expect(text).not.toContain(`:${other.name}:`);
    expect(text.match(/mlp-[a-z0-9]+-/g)?.every((prefix) => prefix === `mlp-${tier}-`) ?? true).toBe(true);
  });
});

const ENV = { account: TEST_ACCOUNT, region: 'us-east-1' };

describe('GameDays', () => {
  function setup() {
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Probe', { env: ENV });
    const alarm = new cloudwatch.Alarm(stack, 'GateErrors', {
      metric: new cloudwatch.Metric({ namespace: 'MLP/DR', metricName: 'GateErrors' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    const machine = (id: string) =>
      new sfn.StateMachine(stack, id, { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Pass`)) });
    const runbooks = { regionFailover: machine('RegionFailover'), failback: machine('Failback'), azFailover: machine('AzFailover') };
    const fault = new FaultInjection(stack, 'Fault', {
      tier: 'dev',
      regionCode: 'use1',
      stopAlarms: [alarm],
      database: { engine: 'rds-postgresql', identifier: 'mlp-dev-pg-use1' },
      logEncryptionKey: new kms.Key(stack, 'Key'),
    });
    const make = (id: string, overrides: Partial<GameDaysProps>) =>
      new GameDays(stack, id, { tier: 'dev', region: 'us-east-1', regionCode: 'use1', runbooks, ...overrides });
    return { stack, fault, make };
  }

  test('the switchover, its failback six hours later, and the fault then the AZ failover 30 minutes later', () => {
    // GIVEN
    const { stack, fault, make } = setup();
    // WHEN
    const days = make('GameDays', {
      switchoverSchedule: 'cron(0 6 1 1,4,7,10 ? *)',
      failbackAfter: 'cron(0 6 1 1,4,7,10 ? *)',
      azFailoverSchedule: 'cron(0 6 1 6 ? *)',
      faultExperiment: fault.databaseFailover,
    });
    // THEN
    const template = Template.fromStack(stack);
    expect(
      Object.fromEntries([...days.schedules].map(([name, s]) => [name, (s.node.defaultChild as scheduler.CfnSchedule).scheduleExpression])),
    ).toEqual({
      'mlp-dev-use1-game-day-switchover': 'cron(0 6 1 1,4,7,10 ? *)',
      'mlp-dev-use1-game-day-failback': 'cron(0 12 1 1,4,7,10 ? *)',
      'mlp-dev-use1-game-day-fault': 'cron(0 6 1 6 ? *)',
      'mlp-dev-use1-game-day-az-failover': 'cron(30 6 1 6 ? *)',
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'mlp-dev-use1-game-day-switchover',
      Target: Match.objectLike({ Input: '{"mode":"planned","targetRegion":"us-east-1"}' }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'mlp-dev-use1-game-day-failback',
      Target: Match.objectLike({ Input: '{"formerPrimary":"us-east-1"}' }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'mlp-dev-use1-game-day-fault',
      Target: Match.objectLike({
        Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:fis:startExperiment']] },
      }),
    });
  });

  test('without a fault the AZ failover starts on the day itself', () => {
    const { make } = setup();
    const days = make('GameDays', { azFailoverSchedule: 'cron(0 6 1 6 ? *)' });
    expect([...days.schedules.keys()]).toEqual(['mlp-dev-use1-game-day-az-failover']);
  });

  test.each([
    ['cron(0 6 1 1,4,7,10 ? *)', Duration.hours(6), 'cron(0 12 1 1,4,7,10 ? *)'],
    ['cron(45 23 * * ? *)', Duration.minutes(14), 'cron(59 23 * * ? *)'],
    ['cron(30 6 1 6 ? *)', Duration.minutes(45), 'cron(15 7 1 6 ? *)'],
  ])('%s plus %s is %s', (expression, by, later) => {
    expect(laterSameDay(expression, by, new Stack())).toBe(later);
  });

  test.each([
    [
      'cron(0 20 1 1,4,7,10 ? *)',
      Duration.hours(6),
      'cron(0 20 1 1,4,7,10 ? *) plus 360 minutes crosses midnight (UTC); the later step must fall on the same day',
    ],
    ['rate(1 day)', Duration.hours(1), 'rate(1 day) is not a cron(<minute> <hour> ...) expression with a fixed minute and hour'],
    [
      'cron(0/5 6 * * ? *)',
      Duration.hours(1),
      'cron(0/5 6 * * ? *) is not a cron(<minute> <hour> ...) expression with a fixed minute and hour',
    ],
  ])('%s plus %s is refused', (expression, by, message) => {
    expect(() => laterSameDay(expression, by, new Stack(undefined, 'S'))).toThrow(`S: ${message}`);
  });

  test('a fault needs the AZ game day it belongs to', () => {
    const { fault, make } = setup();
    expect(() => make('Lone', { faultExperiment: fault.databaseFailover })).toThrow(
      'Probe/Lone: faultExperiment needs azFailoverSchedule: the fault is injected on the AZ game day',
    );
  });
});
