import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { expect, test } from 'vitest';
import { RunbookSet } from '../../../constructs/runbooks';
import { testApp } from '../../support/synth';

function runbookSet() {
  const stack = new Stack(testApp(), 'Runbooks', { env: { account: '111122223333', region: 'us-west-2' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-west-2a', 'us-west-2b'] });
  const runbooks = new RunbookSet(stack, 'Runbooks', {
    tier: 'tier1',
    regions: ['us-east-1', 'us-west-2'],
    regionCode: 'usw2',
    vpc,
    reportBucketName: 'reports',
    reportBucketKey: new kms.Key(stack, 'BucketKey'),
    rpoSeconds: 60,
    rtoSeconds: 300,
    domain: 'ml-platform.example.com',
  });
  return { stack, runbooks };
}

test('grantStartExecution lets an operator start a runbook and stop its executions, nothing else', () => {
  // GIVEN
  const { stack, runbooks } = runbookSet();
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  // WHEN
  const grant = runbooks.grantStartExecution(operator, 'region-failover');
  // THEN
  expect(grant.success).toBe(true);
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Action: 'states:StartExecution', Resource: { Ref: Match.stringLikeRegexp('RunbooksRegionFailover') } }),
        Match.objectLike({
          Action: 'states:StopExecution',
          Resource: 'arn:aws:states:us-west-2:111122223333:execution:mlp-tier1-region-failover:*',
        }),
      ]),
    },
  });
});

test('metricExecutionsFailed counts the failed executions of one runbook', () => {
  const { stack, runbooks } = runbookSet();
  const metric = runbooks.metricExecutionsFailed('failback');
  expect(metric).toMatchObject({ namespace: 'AWS/States', metricName: 'ExecutionsFailed', statistic: 'Sum' });
  expect(stack.resolve(metric.dimensions?.StateMachineArn)).toEqual({ Ref: expect.stringMatching(/^RunbooksFailback/) });
});

test('every function that connects to a database over verified TLS loads the Amazon CA bundle, which Node.js 20+ runtimes skip', () => {
  const { stack } = runbookSet();
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as {
    Properties: { VpcConfig?: unknown; Environment?: { Variables?: Record<string, string> } };
  }[];
  const inVpc = functions.filter((f) => f.Properties.VpcConfig);
  expect(inVpc.length).toBeGreaterThan(0);
  for (const fn of inVpc) expect(fn.Properties.Environment?.Variables?.NODE_EXTRA_CA_CERTS).toBe('/var/runtime/ca-cert.pem');
  for (const fn of functions.filter((f) => !f.Properties.VpcConfig))
    expect(fn.Properties.Environment?.Variables?.NODE_EXTRA_CA_CERTS).toBeUndefined();
});

test('every runbook function in the VPC that only an execution calls is invoked daily with the no-op event, by a role allowed nothing else', () => {
  const { stack, runbooks } = runbookSet();
  const template = Template.fromStack(stack);
  const kept = ['Preflight', 'CheckCaughtUp', 'OpenGate', 'VerifyWrites', 'CheckReprotection'] as const;
  const schedules = template.findResources('AWS::Scheduler::Schedule', {
    Properties: { ScheduleExpression: 'rate(1 day)', Target: { Input: JSON.stringify({ mlpKeepActive: true }) } },
  });
  const targets = Object.values(schedules).map((s) =>
    JSON.stringify((s as { Properties: { Target: { Arn: unknown } } }).Properties.Target.Arn),
  );
  const logicalId = (fn: { node: { defaultChild?: unknown } }) => stack.getLogicalId(fn.node.defaultChild as never);
  expect(targets.sort()).toEqual(
    [...kept.map((step) => runbooks.functions[step]), runbooks.databaseAgent]
      .map((fn) => JSON.stringify({ 'Fn::GetAtt': [logicalId(fn), 'Arn'] }))
      .sort(),
  );
  // The functions that run every minute stay Active by themselves.
  for (const step of ['RefreshGate', 'WriteHeartbeats'] as const)
    expect(targets).not.toContain(JSON.stringify({ 'Fn::GetAtt': [logicalId(runbooks.functions[step]), 'Arn'] }));
  const [policy] = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('KeepActiveRole') }] } }),
  ) as { Properties: { PolicyDocument: { Statement: { Action: string }[] } } }[];
  expect(new Set(policy?.Properties.PolicyDocument.Statement.map((s) => s.Action))).toEqual(new Set(['lambda:InvokeFunction']));
});
