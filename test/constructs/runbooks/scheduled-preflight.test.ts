import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig } from '../../../lib/config';
import { LayoutAssembly } from '../../support/assembly';
import { LAYOUTS, layoutContext } from '../../support/layouts';

/** The gated layouts whose stacks hold runbooks: every preset, five regions, and a tier failed over (the primary moved). */
const WITH_RUNBOOKS = ['dev', 'tier1', 'tier3-5regions', 'tier1-failed-over'];

describe.each(WITH_RUNBOOKS)('the daily preflight of layout %s', (id) => {
  const layout = LAYOUTS.find((l) => l.id === id) as (typeof LAYOUTS)[number];
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const assembly = LayoutAssembly.of(id);
  const tier = config.tier.name;
  const resilience = (code: string) => `Mlp-${tier}-${code}-resilience`;

  test('the primary schedules none: it cannot fail over to itself', () => {
    const schedules = Object.values(assembly.resourcesOfType(resilience(config.primaryRegion.code), 'AWS::Scheduler::Schedule'));
    expect(schedules.map((s) => s.Properties?.Name)).not.toContain(`mlp-${tier}-${config.primaryRegion.code}-daily-preflight`);
  });

  test.each(config.regions.filter((r) => !r.isPrimary).map((r) => [r.name, r]))(
    '%s starts its own RegionFailover in preflight mode daily, with a role that may start that state machine only',
    (_name, region) => {
      const template = assembly.template(resilience(region.code));
      const [, schedule] = Object.entries(assembly.resourcesOfType(resilience(region.code), 'AWS::Scheduler::Schedule')).find(
        ([, s]) => s.Properties?.Name === `mlp-${tier}-${region.code}-daily-preflight`,
      ) ?? [undefined, undefined];
      expect(schedule?.Properties).toMatchObject({ ScheduleExpression: config.tier.drills.preflight, State: 'ENABLED' });
      const target = schedule?.Properties?.Target as { Arn: { Ref: string }; Input: string; RoleArn: { 'Fn::GetAtt': [string, string] } };
      const machine = template.Resources[target.Arn.Ref];
      expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
      expect(machine?.Properties?.StateMachineName).toBe(`mlp-${tier}-region-failover`);
      expect(JSON.parse(target.Input)).toEqual({ mode: 'preflight', targetRegion: region.name });
      const roleId = target.RoleArn['Fn::GetAtt'][0];
      const policies = Object.values(template.Resources).filter(
        (r) => r.Type === 'AWS::IAM::Policy' && ((r.Properties?.Roles ?? []) as { Ref: string }[]).some((ref) => ref.Ref === roleId),
      );
      expect(policies.flatMap((p) => (p.Properties?.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement)).toEqual([
        { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: target.Arn.Ref } },
      ]);
      expect(template.Resources[roleId]?.Properties?.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          { Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } },
        ],
      });
    },
  );

  test.each(config.regions.filter((r) => !r.isPrimary).map((r) => [r.name, r]))(
    '%s alarms when the last day’s preflight said no-go, or none answered',
    (_name, region) => {
      const alarms = Object.values(assembly.resourcesOfType(resilience(region.code), 'AWS::CloudWatch::Alarm')).filter(
        (a) => a.Properties?.AlarmName === `mlp-${tier}-${region.code}-preflight-not-ready`,
      );
      expect(alarms.map((a) => a.Properties)).toEqual([
        expect.objectContaining({
          Namespace: 'MLP/DR',
          MetricName: 'PreflightReady',
          Dimensions: [
            { Name: 'Region', Value: region.name },
            { Name: 'Tier', Value: tier },
          ],
          Statistic: 'Minimum',
          Period: 86400,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
          TreatMissingData: 'breaching',
        }),
      ]);
      // It pages in its own region, on ALARM and on OK.
      const [alarm] = alarms;
      expect(alarm?.Properties?.AlarmActions).toHaveLength(1);
      expect(alarm?.Properties?.OKActions).toEqual(alarm?.Properties?.AlarmActions);
      const topicId = ((alarm?.Properties?.AlarmActions ?? []) as { Ref: string }[])[0]?.Ref as string;
      expect(assembly.template(resilience(region.code)).Resources[topicId]?.Properties?.TopicName).toBe(
        `mlp-${tier}-${region.code}-paging`,
      );
    },
  );
});
