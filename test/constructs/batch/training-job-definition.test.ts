import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, test } from 'vitest';
import { type JobRetryBudgets, jobRetryPlan, TrainingJobDefinition, type TrainingJobDefinitionProps } from '../../../constructs/batch';
import { addQualityGates } from '../../../lib/quality-gates';
import { testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

/** Seed 002's retry table, as lib/config/tiers.ts passes it. */
const SEED_RETRIES: JobRetryBudgets = {
  transientNetwork: 5,
  rateLimited: 10,
  resourceUnavailable: 3,
  outOfMemory: 2,
  userStepDefault: 3,
  minutesBetweenUserRetries: 2,
};

function build(overrides: Partial<TrainingJobDefinitionProps> = {}, withGates = false) {
  const app = testApp();
  const stack = new Stack(app, 'Compute', { env: { account: '111122223333', region: 'us-east-1' } });
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'mlp/tier2/trainer');
  const definition = new TrainingJobDefinition(stack, 'Training', {
    logEncryptionKey: testLogsKey(stack),
    image: ecs.ContainerImage.fromEcrRepository(repository, '2024.06.1'),
    vcpus: 8,
    memory: Size.gibibytes(60),
    gpus: 1,
    retries: SEED_RETRIES,
    timeout: Duration.hours(24),
    sharedMemorySize: Size.gibibytes(8),
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, definition };
}

describe('TrainingJobDefinition', () => {
  const { stack, definition } = build();
  const template = Template.fromStack(stack);
  const [jobDefinition] = Object.values(template.findResources('AWS::Batch::JobDefinition'));
  const properties = jobDefinition?.Properties;

  test('reserves the given vCPUs, memory and GPUs on ECS-on-EC2, with the image and shared memory', () => {
    expect(properties.Type).toBe('container');
    expect(properties.PlatformCapabilities).toEqual(['EC2']);
    expect(properties.ContainerProperties.ResourceRequirements).toEqual(
      expect.arrayContaining([
        { Type: 'VCPU', Value: '8' },
        { Type: 'MEMORY', Value: '61440' },
        { Type: 'GPU', Value: '1' },
      ]),
    );
    expect(properties.ContainerProperties.ResourceRequirements).toHaveLength(3);
    expect(JSON.stringify(properties.ContainerProperties.Image)).toContain('mlp/tier2/trainer:2024.06.1');
    expect(properties.ContainerProperties.LinuxParameters).toEqual({ SharedMemorySize: 8192 });
    expect(properties.ContainerProperties.Privileged).toBeFalsy();
  });

  test('stops an attempt after the timeout', () => {
    expect(properties.Timeout).toEqual({ AttemptDurationSeconds: 24 * 3600 });
  });

  test("maps seed 002's retry table onto 5 attempts and five ordered exit rules", () => {
    expect(properties.RetryStrategy).toEqual({
      Attempts: 5,
      EvaluateOnExit: [
        { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
        { Action: 'RETRY', OnReason: 'CannotPullContainerError:*' },
        { Action: 'RETRY', OnReason: 'ResourceInitializationError*' },
        { Action: 'EXIT', OnReason: 'OutOfMemoryError*' },
        { Action: 'EXIT', OnExitCode: '*' },
      ],
    });
    expect(definition.retryPlan.retriesOutOfMemory).toBe(false);
  });

  test('the job runs as a role with no permissions and logs to its own retained log group', () => {
    const roleId = stack.getLogicalId(definition.jobRole.node.defaultChild as iam.CfnRole);
    expect(properties.ContainerProperties.JobRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'ecs-tasks.amazonaws.com' } }] },
    });
    const roles = template.findResources('AWS::IAM::Role');
    expect(roles[roleId]?.Properties).not.toHaveProperty('ManagedPolicyArns');
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: roleId }] }, 0);

    const logGroupId = stack.getLogicalId(definition.logGroup.node.defaultChild as logs.CfnLogGroup);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(properties.ContainerProperties.LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': { Ref: logGroupId }, 'awslogs-stream-prefix': 'training', 'awslogs-region': 'us-east-1' },
    });
  });

  test('a given job role is used as is, and a CPU-only step reserves no GPU', () => {
    const { stack: custom } = build({ gpus: 0, jobRole: undefined });
    const [cpuOnly] = Object.values(Template.fromStack(custom).findResources('AWS::Batch::JobDefinition'));
    expect(cpuOnly?.Properties.ContainerProperties.ResourceRequirements.map((r: { Type: string }) => r.Type).sort()).toEqual([
      'MEMORY',
      'VCPU',
    ]);

    const app = testApp();
    const withRole = new Stack(app, 'WithRole', { env: { account: '111122223333', region: 'us-east-1' } });
    const role = new iam.Role(withRole, 'StepRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const given = new TrainingJobDefinition(withRole, 'Training', {
      logEncryptionKey: testLogsKey(withRole),
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/python:3.12'),
      vcpus: 4,
      memory: Size.gibibytes(16),
      retries: SEED_RETRIES,
      timeout: Duration.hours(1),
      jobRole: role,
    });
    expect(given.jobRole).toBe(role);
    Template.fromStack(withRole).resourceCountIs('AWS::IAM::Role', 2); // the given role and the execution role
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('jobRetryPlan', () => {
  const actions = (budgets: JobRetryBudgets) => jobRetryPlan(budgets).strategies.map((strategy) => [strategy.action, strategy.on]);

  test('infrastructure failures retry, OOM and user code exit, with the largest infrastructure budget as attempts', () => {
    const plan = jobRetryPlan(SEED_RETRIES);
    expect(plan.attempts).toBe(5);
    expect(actions(SEED_RETRIES)).toEqual([
      [batch.Action.RETRY, { onStatusReason: 'Host EC2*' }],
      [batch.Action.RETRY, { onReason: 'CannotPullContainerError:*' }],
      [batch.Action.RETRY, { onReason: 'ResourceInitializationError*' }],
      [batch.Action.EXIT, { onReason: 'OutOfMemoryError*' }],
      [batch.Action.EXIT, { onExitCode: '*' }],
    ]);
  });

  test('rate-limit and user-step budgets do not change what Batch does', () => {
    const plan = jobRetryPlan({ ...SEED_RETRIES, rateLimited: 1, userStepDefault: 0, minutesBetweenUserRetries: 30 });
    expect(plan.attempts).toBe(5);
    expect(actions({ ...SEED_RETRIES, rateLimited: 1 })).toEqual(actions(SEED_RETRIES));
  });

  test('OOM is retried only when its budget covers every attempt Batch may make', () => {
    const covered = jobRetryPlan({ ...SEED_RETRIES, outOfMemory: 6 });
    expect(covered).toMatchObject({ attempts: 6, retriesOutOfMemory: true });
    expect(covered.strategies[3]?.action).toBe(batch.Action.RETRY);
    const equal = jobRetryPlan({ ...SEED_RETRIES, outOfMemory: 5 });
    expect(equal).toMatchObject({ attempts: 5, retriesOutOfMemory: true });
  });

  test('a class with a budget of 0 or 1 exits instead of retrying', () => {
    const plan = jobRetryPlan({ ...SEED_RETRIES, transientNetwork: 1, resourceUnavailable: 0, outOfMemory: 1 });
    expect(plan.attempts).toBe(1);
    expect(plan.strategies.map((s) => s.action)).toEqual(Array(5).fill(batch.Action.EXIT));
  });

  test('the smaller infrastructure budget does not lower attempts', () => {
    expect(jobRetryPlan({ ...SEED_RETRIES, transientNetwork: 2, resourceUnavailable: 7 }).attempts).toBe(7);
  });
});

describe('invalid job definition props fail with a clear ValidationError', () => {
  test.each<[string, Partial<TrainingJobDefinitionProps>, string]>([
    [
      '11 attempts for transient network failures',
      { retries: { ...SEED_RETRIES, transientNetwork: 11 } },
      "retries.transientNetwork sets AWS Batch's attempts, which must be 1 to 10, got 11",
    ],
    [
      '12 attempts for OOM kills',
      { retries: { ...SEED_RETRIES, outOfMemory: 12 } },
      "retries.outOfMemory sets AWS Batch's attempts, which must be 1 to 10, got 12",
    ],
    [
      'a negative budget',
      { retries: { ...SEED_RETRIES, resourceUnavailable: -1 } },
      'retries.resourceUnavailable must be a non-negative integer, got -1',
    ],
    [
      'a fractional budget',
      { retries: { ...SEED_RETRIES, rateLimited: 2.5 } },
      'retries.rateLimited must be a non-negative integer, got 2.5',
    ],
    ['a 30-second timeout', { timeout: Duration.seconds(30) }, 'timeout must be at least 60 seconds, got 30'],
    ['no vCPUs', { vcpus: 0 }, 'vcpus must be a positive integer on EC2, got 0'],
    ['half a GPU', { gpus: 0.5 }, 'gpus must be a non-negative integer, got 0.5'],
    ['2 MiB of memory', { memory: Size.mebibytes(2) }, 'memory must be a whole number of MiB, at least 4, got 2 MiB'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
