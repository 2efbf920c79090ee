import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { expect, test } from 'vitest';
import { PagingTopic, RegionAlarms, ReplicationAlarms } from '../../../constructs/operations';
import { testApp } from '../../support/synth';

function paging() {
  const stack = new Stack(testApp(), 'Paging', { env: { account: '111122223333', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key');
  return { stack, key, paging: new PagingTopic(stack, 'Paging', { tier: 'tier1', regionCode: 'euw1', masterKey: key }) };
}

test('the topic is named for its tier and region and CloudWatch may publish to it for this account and region only', () => {
  const { stack } = paging();
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::SNS::Topic', {
    TopicName: 'mlp-tier1-euw1-paging',
    KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
  });
  template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Action: 'sns:Publish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '111122223333' },
            ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:*' },
          },
        }),
      ]),
    },
  });
});

test('grantPublish lets a role publish to the topic and encrypt with its key', () => {
  const { stack, paging: topic } = paging();
  const role = new iam.Role(stack, 'Publisher', { assumedBy: new iam.AccountRootPrincipal() });
  expect(topic.grantPublish(role).success).toBe(true);
  const statements = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
  expect(statements).toContain('sns:Publish');
  expect(statements).toContain('kms:GenerateDataKey*');
});

test('the alarm action notifies the topic', () => {
  const { stack, paging: topic } = paging();
  const alarm = new cloudwatch.Alarm(stack, 'Alarm', {
    metric: new cloudwatch.Metric({ namespace: 'Test', metricName: 'Test' }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  alarm.addAlarmAction(topic.alarmAction);
  Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmActions: [{ Ref: Match.stringLikeRegexp('^PagingTopic') }],
  });
});

test('a region without runbooks has no runbook alarm; nothing replicating into it, no rpo-at-risk', () => {
  const { stack, paging: topic } = paging();
  const alarms = new RegionAlarms(stack, 'Alarms', {
    tier: 'tier1',
    region: 'eu-west-1',
    regionCode: 'euw1',
    rtoSeconds: 300,
    paging: topic.alarmAction,
  });
  const replication = new ReplicationAlarms(stack, 'Replication', {
    tier: 'tier1',
    regionCode: 'euw1',
    paging: topic.alarmAction,
    rpoSeconds: 60,
    kafkaMessageLag: 100_000,
  });
  expect(alarms.alarms.size).toBe(0);
  expect(replication.rpoAtRisk).toBeUndefined();
  Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
});

test('RDS replica lag is held to the RPO in seconds, Aurora RPO lag in milliseconds', () => {
  const { stack, paging: topic } = paging();
  const common = { regionCode: 'euw1', paging: topic.alarmAction, rpoSeconds: 60, kafkaMessageLag: 100_000 };
  new ReplicationAlarms(stack, 'Rds', {
    ...common,
    tier: 'tier1',
    database: { engine: 'rds-postgresql', databaseIdentifier: 'mlp-tier1-pg-euw1', rpoSeconds: 60 },
  });
  new ReplicationAlarms(stack, 'Aurora', {
    ...common,
    tier: 'tier2',
    database: { engine: 'aurora-postgresql-global', databaseIdentifier: 'mlp-tier2-pg-euw1', rpoSeconds: 60 },
  });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ReplicaLag', Threshold: 60 });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuroraGlobalDBRPOLag', Threshold: 60_000 });
});
