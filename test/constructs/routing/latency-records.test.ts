import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, test } from 'vitest';
import { LatencyRecords, type LatencyRecordsProps, type RegionalEndpoint } from '../../../constructs/routing';
import { testApp } from '../../support/synth';

const REGIONS = [
  ['us-east-1', 'use1'],
  ['us-west-2', 'usw2'],
  ['eu-west-1', 'euw1'],
] as const;

function build(overrides: Partial<LatencyRecordsProps> = {}) {
  const app = testApp();
  const stack = new Stack(app, 'Global', { env: { account: '111122223333', region: 'us-east-1' } });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'ml.example.com' });
  const endpoints: RegionalEndpoint[] = REGIONS.map(([region, code]) => ({
    region,
    domainName: `api.${code}.ml.example.com`,
    healthCheck: route53.HealthCheck.fromHealthCheckId(stack, `Check-${code}`, `hc-${code}`),
  }));
  const records = new LatencyRecords(stack, 'Prediction', {
    zone,
    hostName: 'prediction',
    endpoints,
    ttl: Duration.seconds(60),
    ...overrides,
  });
  return { stack, records, endpoints };
}

describe('LatencyRecords', () => {
  test('one latency record per region, with the region as set identifier and its health check', () => {
    const { stack, records } = build();
    expect(records.domainName).toBe('prediction.ml.example.com');
    const all = Object.values(Template.fromStack(stack).findResources('AWS::Route53::RecordSet')).map((r) => r.Properties);
    expect(all).toEqual(
      REGIONS.map(([region, code]) => ({
        HostedZoneId: 'Z0123456789ABC',
        Name: 'prediction.ml.example.com.',
        Type: 'CNAME',
        TTL: '60',
        Region: region,
        SetIdentifier: region,
        ResourceRecords: [`api.${code}.ml.example.com`],
        HealthCheckId: `hc-${code}`,
      })),
    );
  });

  test('a single region still gets its latency record', () => {
    const { stack, endpoints } = build();
    const app = stack.node.root;
    const single = new Stack(app, 'Single', { env: { account: '111122223333', region: 'us-east-1' } });
    const zone = route53.HostedZone.fromHostedZoneAttributes(single, 'Zone', {
      hostedZoneId: 'Z0123456789ABC',
      zoneName: 'ml.example.com',
    });
    new LatencyRecords(single, 'Query', { zone, hostName: 'query', endpoints: endpoints.slice(0, 1), ttl: Duration.seconds(60) });
    Template.fromStack(single).resourceCountIs('AWS::Route53::RecordSet', 1);
  });
});

describe('invalid latency props fail with a clear ValidationError', () => {
  test.each<[string, Partial<LatencyRecordsProps>, string]>([
    ['no regions', { endpoints: [] }, 'Global/Prediction: regions must list at least one region'],
    ['a host name with an underscore', { hostName: 'pre_diction' }, 'host name "pre_diction" is not a DNS label'],
    ['a TTL over two days', { ttl: Duration.days(3) }, 'ttl must be a whole number of seconds from 0 to 172800, got 259200'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });

  test('a region listed twice', () => {
    const { endpoints } = build();
    expect(() => build({ endpoints: [...endpoints, ...endpoints.slice(1, 2)] })).toThrow('region name us-west-2 is listed twice');
  });
});
