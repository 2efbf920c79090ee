import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { OnCallRole } from '../../../constructs/operations';
import {
  artifactBucketName,
  dataKeyAlias,
  type RegionPlan,
  RUNBOOK_NAMES,
  resolvePlatformConfig,
  runbookNames,
  TIER_NAMES,
  type TierName,
} from '../../../lib/config';
import { DeployedAssembly } from '../../../runbooks/local/deployed-assembly';
import { type AuthorizationRequest, Authorizer, type Principal, principalOf } from '../../../runbooks/local/iam';
import { type CfnTemplate, LayoutAssembly } from '../../support/assembly';
import { LAYOUTS, layoutContext, TEST_ACCOUNT } from '../../support/layouts';
import { testApp } from '../../support/synth';

type Resource = CfnTemplate['Resources'][string];
type PolicyDocument = { Statement: Record<string, unknown>[] };

const MFA_SIGNED_IN = { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '300' };

describe.each(LAYOUTS.filter((l) => ['tier1', 'tier3-5regions'].includes(l.id)))('on-call role of layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const deployed = DeployedAssembly.fromDirectory(assembly.directory);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const tier = config.tier.name;
  const otherTier = TIER_NAMES.find((t) => t !== tier) as TierName;
  const automaticStart = config.tier.recovery.regionFailoverStart.kind === 'automatic';
  const regions = config.regions.map((r) => [r.name, r] as const);
  const resilience = (r: RegionPlan) => `Mlp-${tier}-${r.code}-resilience`;
  const roleName = (r: RegionPlan) => `mlp-${tier}-${r.code}-on-call`;
  const authorizer = new Authorizer();

  /** The on-call roles of every stack of the layout, by stack. */
  const onCallRoles = () =>
    assembly.stackNames.flatMap((stack) =>
      Object.entries(assembly.resourcesOfType(stack, 'AWS::IAM::Role'))
        .filter(([, role]) => String(role.Properties?.RoleName ?? '').endsWith('-on-call'))
        .map(([id, role]) => ({ stack, id, role })),
    );
  const onCallRole = (r: RegionPlan) => {
    const found = onCallRoles().filter(({ stack, role }) => stack === resilience(r) && role.Properties?.RoleName === roleName(r));
    expect(found, roleName(r)).toHaveLength(1);
    return found[0] as { stack: string; id: string; role: Resource };
  };
  const principal = (r: RegionPlan): Principal => principalOf(deployed, deployed.stack(resilience(r)), onCallRole(r).id, 'on-call');
  const allowed = async (p: Principal, request: AuthorizationRequest) => (await authorizer.authorize(p, request)).allowed;

  const arn = {
    machine: (r: RegionPlan, runbook: string, ofTier: TierName = tier) =>
      `arn:aws:states:${r.name}:${TEST_ACCOUNT}:stateMachine:${runbookNames.stateMachine(ofTier, runbook as never)}`,
    execution: (r: RegionPlan, runbook: string) =>
      `arn:aws:states:${r.name}:${TEST_ACCOUNT}:execution:${runbookNames.stateMachine(tier, runbook as never)}:drill-2026-01-01`,
    bucket: (r: RegionPlan) => `arn:aws:s3:::${artifactBucketName(tier, TEST_ACCOUNT, r.name)}`,
    report: (r: RegionPlan) => `${arn.bucket(r)}/dr-reports/${runbookNames.stateMachine(tier, 'region-failover')}/drill-2026-01-01.json`,
    dashboard: (name: string) => `arn:aws:cloudwatch::${TEST_ACCOUNT}:dashboard/${name}`,
    alarm: (r: RegionPlan, name: string) => `arn:aws:cloudwatch:${r.name}:${TEST_ACCOUNT}:alarm:${name}`,
    rule: (r: RegionPlan) => `arn:aws:events:${r.name}:${TEST_ACCOUNT}:rule/mlp-${tier}-${r.code}-automatic-failover`,
  };
  /**
   * The region's data key (what the reports are encrypted with), found through its alias in the region's
   * data stack, and its key policy, which KMS evaluates beside the role's.
   */
  const dataKey = (r: RegionPlan): { arn: string; policy: PolicyDocument } => {
    const stack = deployed.stack(`Mlp-${tier}-${r.code}-data`);
    const aliases = Object.values(assembly.resourcesOfType(stack.name, 'AWS::KMS::Alias')).filter(
      (a) => a.Properties?.AliasName === dataKeyAlias(tier),
    );
    expect(aliases).toHaveLength(1);
    const target = aliases[0]?.Properties?.TargetKeyId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    const keyId = (target.Ref ?? target['Fn::GetAtt']?.[0]) as string;
    return { arn: String(deployed.attribute(stack, keyId, 'Arn')), policy: deployed.property(stack, keyId, 'KeyPolicy') as PolicyDocument };
  };

  test('every region has exactly one on-call role, in its resilience stack, and no other stack has one', () => {
    for (const [, region] of regions) onCallRole(region);
    expect(onCallRoles()).toHaveLength(regions.length);
  });

  test.each(regions)('%s: assuming the role takes MFA signed in within the hour, for at most an hour', async (_name, region) => {
    const { id, role } = onCallRole(region);
    expect(role.Properties?.MaxSessionDuration).toBe(3600);
    const trust = deployed.property(deployed.stack(resilience(region)), id, 'AssumeRolePolicyDocument') as PolicyDocument;
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
        Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } },
      },
    ]);
    // A user of the account whose own policy lets it assume the role.
    const roleArn = principal(region).roleArn;
    const user = `arn:aws:iam::${TEST_ACCOUNT}:user/alice`;
    const alice: Principal = {
      name: 'alice',
      roleArn: user,
      sessionArn: user,
      account: TEST_ACCOUNT,
      policies: [
        { name: 'alice', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }] } },
      ],
    };
    const assume = (context: Record<string, string>, who = alice) =>
      allowed(who, { action: 'sts:AssumeRole', resource: roleArn, context, resourcePolicy: trust });
    expect(await assume(MFA_SIGNED_IN)).toBe(true);
    expect(await assume({})).toBe(false);
    expect(await assume({ 'aws:MultiFactorAuthPresent': 'false' })).toBe(false);
    expect(await assume({ 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '7200' })).toBe(false);
    // The account root trusts only the principals whose own policy allows it.
    expect(await assume(MFA_SIGNED_IN, { ...alice, name: 'bob', policies: [] })).toBe(false);
  });

  test.each(regions)("%s: may start, stop and read its own region's runbooks and nothing else of Step Functions", async (_name, region) => {
    const p = principal(region);
    for (const runbook of RUNBOOK_NAMES) {
      expect(await allowed(p, { action: 'states:StartExecution', resource: arn.machine(region, runbook) }), runbook).toBe(true);
      for (const action of ['states:DescribeStateMachine', 'states:ListExecutions']) {
        expect(await allowed(p, { action, resource: arn.machine(region, runbook) }), `${action} ${runbook}`).toBe(true);
      }
      for (const action of ['states:StopExecution', 'states:DescribeExecution', 'states:GetExecutionHistory']) {
        expect(await allowed(p, { action, resource: arn.execution(region, runbook) }), `${action} ${runbook}`).toBe(true);
      }
      for (const action of ['states:DeleteStateMachine', 'states:UpdateStateMachine']) {
        expect(await allowed(p, { action, resource: arn.machine(region, runbook) }), `${action} ${runbook}`).toBe(false);
      }
      // Another tier's state machine of the same name in this region.
      expect(await allowed(p, { action: 'states:StartExecution', resource: arn.machine(region, runbook, otherTier) })).toBe(false);
      // The same runbook in every other region.
      for (const [, other] of regions.filter(([name]) => name !== region.name)) {
        expect(await allowed(p, { action: 'states:StartExecution', resource: arn.machine(other, runbook) }), other.name).toBe(false);
        expect(await allowed(p, { action: 'states:StopExecution', resource: arn.execution(other, runbook) }), other.name).toBe(false);
      }
    }
  });

  test.each(regions)(
    '%s: may read the runbook reports, and only them: no write, nothing outside dr-reports/, no decrypt but through S3',
    async (_name, region) => {
      const p = principal(region);
      const { arn: key, policy: resourcePolicy } = dataKey(region);
      const viaS3 = { 'kms:ViaService': `s3.${region.name}.amazonaws.com` };
      expect(await allowed(p, { action: 's3:GetObject', resource: arn.report(region) })).toBe(true);
      expect(await allowed(p, { action: 's3:ListBucket', resource: arn.bucket(region), context: { 's3:prefix': 'dr-reports/' } })).toBe(
        true,
      );
      expect(await allowed(p, { action: 'kms:Decrypt', resource: key, context: viaS3, resourcePolicy })).toBe(true);

      for (const action of ['s3:PutObject', 's3:DeleteObject']) {
        expect(await allowed(p, { action, resource: arn.report(region) }), action).toBe(false);
      }
      expect(await allowed(p, { action: 's3:GetObject', resource: `${arn.bucket(region)}/models/model.tar.gz` })).toBe(false);
      expect(await allowed(p, { action: 's3:ListBucket', resource: arn.bucket(region), context: { 's3:prefix': 'models/' } })).toBe(false);
      expect(await allowed(p, { action: 's3:ListBucket', resource: arn.bucket(region) })).toBe(false);
      for (const [, other] of regions.filter(([name]) => name !== region.name)) {
        expect(await allowed(p, { action: 's3:GetObject', resource: arn.report(other) }), other.name).toBe(false);
      }
      expect(await allowed(p, { action: 'kms:Decrypt', resource: key, resourcePolicy })).toBe(false);
      expect(
        await allowed(p, {
          action: 'kms:Decrypt',
          resource: key,
          context: { 'kms:ViaService': `secretsmanager.${region.name}.amazonaws.com` },
          resourcePolicy,
        }),
      ).toBe(false);
      for (const action of ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom']) {
        expect(await allowed(p, { action, resource: key, context: viaS3, resourcePolicy }), action).toBe(false);
      }
    },
  );

  test.each(regions)("%s: may read its dashboard, the tier's and its alarms, and change none of them", async (_name, region) => {
    const p = principal(region);
    const own = `mlp-${tier}-${region.code}-dr`;
    const tiers = `mlp-${tier}-dr`;
    // The dashboards exist under these names: the region's in its resilience stack, the tier's in the global stack.
    const dashboardNames = (stack: string) =>
      Object.values(assembly.resourcesOfType(stack, 'AWS::CloudWatch::Dashboard')).map((d) => d.Properties?.DashboardName);
    expect(dashboardNames(resilience(region))).toContain(own);
    expect(dashboardNames(`Mlp-${tier}-global`)).toContain(tiers);
    const primaryLost = `mlp-${tier}-${region.code}-primary-lost`;
    expect(
      Object.values(assembly.resourcesOfType(resilience(region), 'AWS::CloudWatch::CompositeAlarm')).map((a) => a.Properties?.AlarmName),
    ).toContain(primaryLost);

    for (const name of [own, tiers]) {
      expect(await allowed(p, { action: 'cloudwatch:GetDashboard', resource: arn.dashboard(name) }), name).toBe(true);
      expect(await allowed(p, { action: 'cloudwatch:PutDashboard', resource: arn.dashboard(name) }), name).toBe(false);
      expect(await allowed(p, { action: 'cloudwatch:DeleteDashboards', resource: arn.dashboard(name) }), name).toBe(false);
    }
    for (const action of ['cloudwatch:ListDashboards', 'cloudwatch:GetMetricData']) {
      expect(await allowed(p, { action, resource: '*' }), action).toBe(true);
    }
    for (const action of ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory']) {
      expect(await allowed(p, { action, resource: arn.alarm(region, primaryLost) }), action).toBe(true);
    }
    for (const action of [
      'cloudwatch:PutMetricAlarm',
      'cloudwatch:DeleteAlarms',
      'cloudwatch:DisableAlarmActions',
      'cloudwatch:SetAlarmState',
    ]) {
      expect(await allowed(p, { action, resource: arn.alarm(region, primaryLost) }), action).toBe(false);
    }
    expect(await allowed(p, { action: 'cloudwatch:PutMetricData', resource: '*' })).toBe(false);
    for (const [, other] of regions.filter(([name]) => name !== region.name)) {
      expect(
        await allowed(p, { action: 'cloudwatch:GetDashboard', resource: arn.dashboard(`mlp-${tier}-${other.code}-dr`) }),
        other.name,
      ).toBe(false);
      expect(
        await allowed(p, { action: 'cloudwatch:DescribeAlarms', resource: arn.alarm(other, `mlp-${tier}-${other.code}-primary-lost`) }),
        other.name,
      ).toBe(false);
    }
  });

  test.each(regions)("%s: may switch its own automatic failover off and on, and change no rule's definition", async (_name, region) => {
    const p = principal(region);
    const rules = Object.values(assembly.resourcesOfType(resilience(region), 'AWS::Events::Rule')).map((r) => r.Properties?.Name);
    expect(rules.includes(`mlp-${tier}-${region.code}-automatic-failover`)).toBe(automaticStart);
    for (const action of ['events:DisableRule', 'events:EnableRule', 'events:DescribeRule']) {
      expect(await allowed(p, { action, resource: arn.rule(region) }), action).toBe(automaticStart);
      for (const [, other] of regions.filter(([name]) => name !== region.name)) {
        expect(await allowed(p, { action, resource: arn.rule(other) }), `${action} ${other.name}`).toBe(false);
      }
    }
    for (const action of ['events:PutRule', 'events:DeleteRule', 'events:PutTargets', 'events:RemoveTargets']) {
      expect(await allowed(p, { action, resource: arn.rule(region) }), action).toBe(false);
    }
  });

  test.each(regions)('%s: no IAM, no other service', async (_name, region) => {
    const p = principal(region);
    for (const [action, resource] of [
      ['iam:PassRole', `arn:aws:iam::${TEST_ACCOUNT}:role/${roleName(region)}`],
      ['iam:CreateRole', `arn:aws:iam::${TEST_ACCOUNT}:role/anything`],
      ['iam:AttachRolePolicy', `arn:aws:iam::${TEST_ACCOUNT}:role/${roleName(region)}`],
      ['sts:AssumeRole', `arn:aws:iam::${TEST_ACCOUNT}:role/anything`],
      ['ssm:PutParameter', `arn:aws:ssm:${region.name}:${TEST_ACCOUNT}:parameter/mlp/${tier}/operations/on-call-role-arn`],
      ['lambda:InvokeFunction', `arn:aws:lambda:${region.name}:${TEST_ACCOUNT}:function:${runbookNames.databaseAgent(tier)}`],
    ] as const) {
      expect(await allowed(p, { action, resource }), action).toBe(false);
    }
    const statements = p.policies.flatMap((policy) => policy.policy.Statement);
    const actions = new Set(statements.flatMap((s) => [s.Action].flat() as string[]));
    expect([...actions].filter((a) => !/^(states|s3|kms|cloudwatch|events):[A-Za-z]+$/.test(a))).toEqual([]);
    expect(statements.every((s) => s.Effect === 'Allow' && s.NotAction === undefined && s.NotResource === undefined)).toBe(true);
  });
});

describe('OnCallRole', () => {
  function stackWithRole(principalArns?: readonly string[]) {
    const stack = new Stack(testApp(), 'OnCall', { env: { account: '111122223333', region: 'us-west-2' } });
    new OnCallRole(stack, 'OnCall', {
      tier: 'tier1',
      regionCode: 'usw2',
      ...(principalArns ? { principalArns } : {}),
      reportBucketName: 'reports',
      reportKey: new kms.Key(stack, 'Key'),
      dashboards: [new cloudwatch.Dashboard(stack, 'Dashboard', { dashboardName: 'mlp-tier1-usw2-dr' })],
    });
    return stack;
  }

  test('users and account roots must come with MFA; roles, which cannot carry it, are trusted as they are', () => {
    // GIVEN
    const role = 'arn:aws:iam::111122223333:role/sre';
    const user = 'arn:aws:iam::111122223333:user/alice';
    const root = 'arn:aws:iam::444455556666:root';
    // WHEN
    const stack = stackWithRole([role, user, root]);
    // THEN
    const mfa = { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } };
    const trust = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'))[0]?.Properties.AssumeRolePolicyDocument
      .Statement as { Action: string; Principal: { AWS: string | string[] }; Condition?: unknown }[];
    const trusted = trust.flatMap((s) => [s.Principal.AWS].flat().map((arn) => [arn, s.Condition] as const));
    expect(Object.fromEntries(trusted)).toEqual({ [role]: undefined, [user]: mfa, [root]: mfa });
    expect(trust.every((s) => s.Action === 'sts:AssumeRole')).toBe(true);
  });

  test('without an automatic start or runbooks, no Step Functions or EventBridge permission', () => {
    const template = Template.fromStack(stackWithRole());
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'mlp-tier1-usw2-on-call', MaxSessionDuration: 3600 });
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policy).not.toMatch(/"(states|events):/);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudwatch:GetDashboard' })]) },
    });
  });

  test.each([['arn:aws:iam::111122223333:group/oncall'], ['sre'], ['arn:aws:sts::111122223333:assumed-role/sre/alice']])(
    '%s is not a principal it can trust',
    (arn) => {
      expect(() => stackWithRole([arn])).toThrow(
        `OnCall/OnCall: principalArns: "${arn}" is not an IAM principal ARN; expected arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name> or arn:aws:iam::<account>:root`,
      );
    },
  );
});
