import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, test } from 'vitest';
import { RegionalHealthChecks, type RegionalHealthChecksProps } from '../../../constructs/routing';
import { addQualityGates } from '../../../lib/quality-gates';
import { testApp } from '../../support/synth';

const REGIONS = [
  { name: 'us-east-1', code: 'use1' },
  { name: 'us-west-2', code: 'usw2' },
  { name: 'eu-west-1', code: 'euw1' },
];

function build(overrides: Partial<RegionalHealthChecksProps> = {}, options: { region?: string; withGates?: boolean } = {}) {
  const app = testApp();
  const stack = new Stack(app, 'Global', { env: { account: '111122223333', region: options.region ?? 'us-east-1' } });
  const checks = new RegionalHealthChecks(stack, 'HealthChecks', {
    regions: REGIONS,
    domain: 'ml.example.com',
    namePrefix: 'mlp-tier1',
    requestInterval: Duration.seconds(30),
    failureThreshold: 5,
    ...overrides,
  });
  if (options.withGates) addQualityGates(app);
  return { app, stack, checks };
}

describe('RegionalHealthChecks', () => {
  const { stack, checks } = build();
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct | undefined) => stack.getLogicalId(construct?.node.defaultChild as CfnElement);

  test('probes https://api.<code>.<domain>/health once per region, with the given interval and threshold', () => {
    const healthChecks = template.findResources('AWS::Route53::HealthCheck');
    expect(Object.keys(healthChecks)).toHaveLength(REGIONS.length);
    for (const [index, region] of REGIONS.entries()) {
      const endpoint = checks.endpoints[index];
      expect(endpoint?.region).toBe(region.name);
      expect(endpoint?.domainName).toBe(`api.${region.code}.ml.example.com`);
      const resource = healthChecks[id(endpoint?.healthCheck)];
      expect(resource?.Properties).toEqual({
        HealthCheckConfig: {
          Type: 'HTTPS',
          FullyQualifiedDomainName: `api.${region.code}.ml.example.com`,
          Port: 443,
          EnableSNI: true,
          ResourcePath: '/health',
          RequestInterval: 30,
          FailureThreshold: 5,
          MeasureLatency: true,
          Inverted: false,
        },
        HealthCheckTags: [{ Key: 'Name', Value: `mlp-tier1-api-${region.code}` }],
      });
    }
  });

  test('alarms on each check going unhealthy, and on recovery, through the topic', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms)).toHaveLength(REGIONS.length);
    const topic = { Ref: id(checks.alarmTopic) };
    for (const [index, region] of REGIONS.entries()) {
      const alarm = alarms[id(checks.alarms[index])];
      expect(alarm?.Properties).toMatchObject({
        AlarmName: `mlp-tier1-api-${region.code}-unhealthy`,
        Namespace: 'AWS/Route53',
        MetricName: 'HealthCheckStatus',
        Dimensions: [{ Name: 'HealthCheckId', Value: { Ref: id(checks.endpoints[index]?.healthCheck) } }],
        Statistic: 'Minimum',
        Period: 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'missing',
        AlarmActions: [topic],
        OKActions: [topic],
      });
    }
  });

  test('the topic is encrypted with a retained, rotated customer key that CloudWatch may use', () => {
    const keyId = id(checks.alarmTopicKey);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const key = template.findResources('AWS::KMS::Key')[keyId];
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    expect(key?.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: 'AllowCloudWatchAlarmsToPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
  });

  test('the topic accepts TLS only, and only the alarms of this construct may publish', () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const statements = policy?.Properties.PolicyDocument.Statement as Record<string, any>[];
    const topic = { Ref: id(checks.alarmTopic) };
    expect(statements).toContainEqual({
      Sid: 'AllowPublishThroughSSLOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: topic,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(statements).toContainEqual({
      Sid: 'AllowHealthAlarmsToPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topic,
      Condition: {
        StringEquals: { 'aws:SourceAccount': '111122223333' },
        ArnEquals: { 'aws:SourceArn': checks.alarms.map((alarm) => ({ 'Fn::GetAtt': [id(alarm), 'Arn'] })) },
      },
    });
  });

  test('finds an endpoint by region name, and fails clearly for an unknown one', () => {
    expect(checks.endpoint('us-west-2').domainName).toBe('api.usw2.ml.example.com');
    expect(() => checks.endpoint('ap-south-1')).toThrow('Global/HealthChecks: no health check for region ap-south-1');
  });

  test('alarmPeriod sets the alarm period', () => {
    const { stack: custom } = build({ alarmPeriod: Duration.minutes(5) });
    const alarms = Object.values(Template.fromStack(custom).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.Period)).toEqual([300, 300, 300]);
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, { withGates: true });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid health check props fail with a clear ValidationError', () => {
  test.each<[string, Partial<RegionalHealthChecksProps>, string]>([
    ['no regions', { regions: [] }, 'Global/HealthChecks: regions must list at least one region'],
    [
      'a region listed twice',
      { regions: [...REGIONS, { name: 'us-west-2', code: 'usw2b' }] },
      'region name us-west-2 is listed twice; each region may appear once',
    ],
    [
      'two regions with one code',
      { regions: [...REGIONS, { name: 'us-west-1', code: 'usw2' }] },
      'region code usw2 is listed twice; each region may appear once',
    ],
    [
      'a region code that is not a DNS label',
      { regions: [{ name: 'us-east-1', code: 'use_1' }] },
      'region code "use_1" of us-east-1 is not a DNS label',
    ],
    [
      'a 20 s interval',
      { requestInterval: Duration.seconds(20) },
      'requestInterval must be 10 or 30 seconds (the only intervals Route 53 offers), got 20 seconds',
    ],
    ['a threshold of 0', { failureThreshold: 0 }, 'failureThreshold must be an integer from 1 to 10, got 0'],
    ['a threshold of 11', { failureThreshold: 11 }, 'failureThreshold must be an integer from 1 to 10, got 11'],
    ['a fractional threshold', { failureThreshold: 2.5 }, 'failureThreshold must be an integer from 1 to 10, got 2.5'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });

  test('a stack outside us-east-1, where no Route 53 metric exists to alarm on', () => {
    expect(() => build({}, { region: 'eu-west-1' })).toThrow(
      'Global/HealthChecks: must be deployed in us-east-1, where Route 53 publishes health check metrics; this stack is in eu-west-1',
    );
  });
});
