import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, test } from 'vitest';
import { FaultInjection, GameDays, type GameDaysProps, laterSameDay } from '../../../constructs/operations';
import { TEST_ACCOUNT } from '../../support/layouts';
import { cdkJsonContext } from '../../support/synth';

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
