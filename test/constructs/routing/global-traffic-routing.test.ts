import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, test } from 'vitest';
import { GlobalTrafficRouting, type GlobalTrafficRoutingProps } from '../../../constructs/routing';
import { addQualityGates } from '../../../lib/quality-gates';
import { testApp } from '../../support/synth';

const WRITE_HOSTS = ['tracking', 'registry', 'metadata', 'scheduler'];
const READ_HOSTS = ['prediction', 'query'];

const REGIONS = [
  { name: 'us-east-1', code: 'use1' },
  { name: 'us-west-2', code: 'usw2' },
  { name: 'eu-west-1', code: 'euw1' },
];

function build(overrides: Partial<GlobalTrafficRoutingProps> = {}, withGates = false) {
  const app = testApp();
  const stack = new Stack(app, 'Global', { env: { account: '111122223333', region: 'us-east-1' } });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'ml.example.com' });
  const routing = new GlobalTrafficRouting(stack, 'Routing', {
    zone,
    regions: REGIONS,
    namePrefix: 'mlp-tier1',
    healthCheckInterval: Duration.seconds(10),
    healthCheckFailureThreshold: 3,
    recordTtl: Duration.seconds(60),
    writeHosts: WRITE_HOSTS,
    readHosts: READ_HOSTS,
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, routing };
}

describe('GlobalTrafficRouting', () => {
  const { stack, routing } = build();
  const template = Template.fromStack(stack);
  const records = Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => r.Properties);

  test('failover chains for the write hosts and latency records for the read hosts', () => {
    expect([...routing.failover.keys()]).toEqual([...WRITE_HOSTS]);
    expect([...routing.latency.keys()]).toEqual([...READ_HOSTS]);
    for (const host of WRITE_HOSTS) {
      const names = records.filter((r) => r.Failover).map((r) => r.Name);
      expect(names.filter((n) => n === `${host}.ml.example.com.`)).toHaveLength(2);
      expect(names.filter((n) => n === `${host}.failover-2.ml.example.com.`)).toHaveLength(2);
    }
    for (const host of READ_HOSTS) {
      expect(records.filter((r) => r.Name === `${host}.ml.example.com.`).map((r) => r.Region)).toEqual(REGIONS.map((r) => r.name));
    }
    expect(records).toHaveLength(WRITE_HOSTS.length * 2 * (REGIONS.length - 1) + READ_HOSTS.length * REGIONS.length);
  });

  test('one health check per region, shared by every record of that region', () => {
    template.resourceCountIs('AWS::Route53::HealthCheck', REGIONS.length);
    template.resourceCountIs('AWS::CloudWatch::Alarm', REGIONS.length);
    for (const endpoint of routing.healthChecks.endpoints) {
      const checkId = { Ref: stack.getLogicalId(endpoint.healthCheck.node.defaultChild as route53.CfnHealthCheck) };
      const pointing = records.filter((r) => r.ResourceRecords[0] === endpoint.domainName);
      expect(pointing).toHaveLength(WRITE_HOSTS.length + READ_HOSTS.length);
      for (const record of pointing) expect(record.HealthCheckId).toEqual(checkId);
    }
  });

  test('custom host lists replace the defaults', () => {
    const { stack: custom } = build({ writeHosts: ['admin'], readHosts: [] });
    const names = Object.values(Template.fromStack(custom).findResources('AWS::Route53::RecordSet')).map((r) => r.Properties.Name);
    expect(new Set(names)).toEqual(new Set(['admin.ml.example.com.', 'admin.failover-2.ml.example.com.']));
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid routing props fail with a clear ValidationError', () => {
  test.each<[string, Partial<GlobalTrafficRoutingProps>, string]>([
    ['no regions', { regions: [] }, 'Global/Routing: regions must list at least one region'],
    ['a region listed twice', { regions: [...REGIONS, { name: 'us-east-1', code: 'use1b' }] }, 'region name us-east-1 is listed twice'],
    ['a host that is not a DNS label', { readHosts: ['query', 'Prediction'] }, 'host name "Prediction" is not a DNS label'],
    [
      'a host both written and read',
      { readHosts: ['prediction', 'tracking'] },
      'host name tracking is listed twice; a name is either a write host or a read host, once',
    ],
    ['a single region, which cannot fail over', { regions: REGIONS.slice(0, 1) }, 'at least one secondary region for failover, got 1'],
    ['a 60 s health check interval', { healthCheckInterval: Duration.minutes(1) }, 'requestInterval must be 10 or 30 seconds'],
    ['a failure threshold of 0', { healthCheckFailureThreshold: 0 }, 'failureThreshold must be an integer from 1 to 10, got 0'],
    ['a TTL over two days', { recordTtl: Duration.days(3) }, 'ttl must be a whole number of seconds from 0 to 172800, got 259200'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
