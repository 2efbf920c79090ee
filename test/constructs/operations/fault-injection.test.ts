import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { FaultInjection, type FaultInjectionProps, FIS_ACTIONS } from '../../../constructs/operations';
import { cdkJsonContext } from '../../support/synth';

const ENV = { account: '111122223333', region: 'us-east-1' };

function fixture() {
  const app = new App({ context: cdkJsonContext() });
  const stack = new Stack(app, 'Probe', { env: ENV });
  const alarm = (id: string, scope: Stack = stack) =>
    new cloudwatch.Alarm(scope, id, {
      metric: new cloudwatch.Metric({ namespace: 'MLP/DR', metricName: id }),
      threshold: 1,
      evaluationPeriods: 1,
    });
  const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], natGateways: 1 });
  const key = new kms.Key(stack, 'Key');
  const props = (overrides: Partial<FaultInjectionProps> = {}): FaultInjectionProps => ({
    tier: 'dev',
    regionCode: 'use1',
    stopAlarms: [alarm('GateErrors')],
    cache: {
      replicationGroupId: 'mlp-dev-cache-use1',
      selectionTags: { 'mlp:tier': 'dev', 'mlp:region': 'us-east-1' },
      availabilityZones: ['us-east-1a', 'us-east-1b'],
    },
    database: { engine: 'aurora-postgresql-global', identifier: 'mlp-dev-pg-use1' },
    crossRegion: { vpc, subnets: vpc.privateSubnets, region: 'us-west-2' },
    logEncryptionKey: key,
    ...overrides,
  });
  return { app, stack, alarm, vpc, props };
}

describe('FaultInjection', () => {
  test('one template per fault, each with its documented action id, its stop conditions and its own role', () => {
    // GIVEN
    const { stack, props } = fixture();
    // WHEN
    const fault = new FaultInjection(stack, 'Fault', props());
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::FIS::ExperimentTemplate', 4);
    expect([...fault.cacheAzPower.keys()]).toEqual(['us-east-1a', 'us-east-1b']);
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Actions: { InterruptAzPower: { ActionId: FIS_ACTIONS.cacheAzPower, Parameters: { duration: 'PT10M' } } },
      Targets: { ReplicationGroups: Match.objectLike({ Parameters: { availabilityZoneIdentifier: 'us-east-1b' } }) },
      StopConditions: [{ Source: 'aws:cloudwatch:alarm', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('GateErrors'), 'Arn'] } }],
      ExperimentOptions: { AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' },
      LogConfiguration: { LogSchemaVersion: 2, CloudWatchLogsConfiguration: { LogGroupArn: Match.anyValue() } },
      Tags: { Name: 'mlp-dev-use1-cache-az-power-us-east-1b' },
    });
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Actions: { FailOver: { ActionId: 'aws:rds:failover-db-cluster', Targets: { Clusters: 'Clusters' } } },
      Targets: {
        Clusters: {
          ResourceType: 'aws:rds:cluster',
          ResourceArns: ['arn:aws:rds:us-east-1:111122223333:cluster:mlp-dev-pg-use1'],
          SelectionMode: 'ALL',
        },
      },
    });
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Actions: {
        DisruptCrossRegion: {
          ActionId: 'aws:network:route-table-disrupt-cross-region-connectivity',
          Parameters: { region: 'us-west-2', duration: 'PT10M' },
        },
      },
    });
    expect(new Set(fault.templates.map((t) => stack.resolve(t.roleArn)['Fn::GetAtt'][0])).size).toBe(4);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('an RDS instance is rebooted with a forced failover, named by ARN', () => {
    const { stack, props } = fixture();
    new FaultInjection(
      stack,
      'Fault',
      props({ cache: undefined, crossRegion: undefined, database: { engine: 'rds-postgresql', identifier: 'mlp-dev-pg-use1' } }),
    );
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::FIS::ExperimentTemplate', 1);
    template.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Actions: { RebootWithFailover: { ActionId: 'aws:rds:reboot-db-instances', Parameters: { forceFailover: 'true' } } },
      Targets: {
        DBInstances: {
          ResourceType: 'aws:rds:db',
          ResourceArns: ['arn:aws:rds:us-east-1:111122223333:db:mlp-dev-pg-use1'],
          SelectionMode: 'ALL',
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['rds:DescribeDBInstances', 'rds:RebootDBInstance'],
            Effect: 'Allow',
            Resource: 'arn:aws:rds:us-east-1:111122223333:db:mlp-dev-pg-use1',
          },
        ]),
      },
    });
  });

  test.each([
    [
      'no stop alarm',
      (f: ReturnType<typeof fixture>) => f.props({ stopAlarms: [] }),
      "Probe/Fault: stopAlarms must hold 1 to 5 alarms (FIS's quota per template), got 0",
    ],
    [
      'six stop alarms',
      (f: ReturnType<typeof fixture>) => f.props({ stopAlarms: ['A', 'B', 'C', 'D', 'E', 'F'].map((id) => f.alarm(id)) }),
      "Probe/Fault: stopAlarms must hold 1 to 5 alarms (FIS's quota per template), got 6",
    ],
    [
      'a stop alarm of another region',
      (f: ReturnType<typeof fixture>) =>
        f.props({ stopAlarms: [f.alarm('Far', new Stack(f.app, 'West', { env: { ...ENV, region: 'us-west-2' } }))] }),
      'Probe/Fault: stop alarm West/Far is in us-west-2; a stop condition must be an alarm of us-east-1',
    ],
    [
      'a cross-region disruption from its own region',
      (f: ReturnType<typeof fixture>) => f.props({ crossRegion: { vpc: f.vpc, subnets: f.vpc.privateSubnets, region: 'us-east-1' } }),
      'Probe/Fault: crossRegion.region must be another region than us-east-1',
    ],
    [
      'a cache selected by no tag',
      (f: ReturnType<typeof fixture>) =>
        f.props({ cache: { replicationGroupId: 'mlp-dev-cache-use1', selectionTags: {}, availabilityZones: ['us-east-1a'] } }),
      'Probe/Fault: cache.selectionTags must name at least one tag: FIS selects the group by tags only',
    ],
    [
      'a fault of 30 seconds',
      (f: ReturnType<typeof fixture>) => f.props({ faultDuration: Duration.seconds(30) }),
      "Probe/Fault: faultDuration must be whole minutes from 1 minute to 12 hours (FIS's action duration), got 0.5 minutes",
    ],
  ])('refuses %s', (_what, props, message) => {
    const f = fixture();
    expect(() => new FaultInjection(f.stack, 'Fault', props(f))).toThrow(message);
  });
});
