import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, test } from 'vitest';
import { FailoverRecordChain, type FailoverRecordChainProps, type RegionalEndpoint } from '../../../constructs/routing';
import { testApp } from '../../support/synth';

const REGIONS = [
  ['us-east-1', 'use1'],
  ['us-west-2', 'usw2'],
  ['eu-west-1', 'euw1'],
  ['ap-southeast-2', 'apse2'],
  ['eu-central-1', 'euc1'],
] as const;

function build(regionCount: number, overrides: Partial<FailoverRecordChainProps> = {}) {
  const app = testApp();
  const stack = new Stack(app, 'Global', { env: { account: '111122223333', region: 'us-east-1' } });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'ml.example.com' });
  const endpoints: RegionalEndpoint[] = REGIONS.slice(0, regionCount).map(([region, code]) => ({
    region,
    domainName: `api.${code}.ml.example.com`,
    healthCheck: route53.HealthCheck.fromHealthCheckId(stack, `Check-${code}`, `hc-${code}`),
  }));
  const chain = new FailoverRecordChain(stack, 'Tracking', {
    zone,
    hostName: 'tracking',
    endpoints,
    ttl: Duration.seconds(60),
    ...overrides,
  });
  return { stack, chain, endpoints };
}

interface Record {
  Name: string;
  Type: string;
  Failover: string;
  SetIdentifier: string;
  ResourceRecords: string[];
  HealthCheckId?: string;
  TTL: string;
  HostedZoneId: string;
}

function records(stack: Stack): Record[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::Route53::RecordSet')).map((r) => r.Properties as Record);
}

/** Walk the chain as Route 53 would when each region in turn is unhealthy: the answers, in order. */
function failoverOrder(all: Record[], start: string): { target: string; healthCheckId?: string }[] {
  const order: { target: string; healthCheckId?: string }[] = [];
  let name = start;
  for (;;) {
    const link = all.filter((r) => r.Name === name);
    const primary = link.filter((r) => r.Failover === 'PRIMARY');
    const secondary = link.filter((r) => r.Failover === 'SECONDARY');
    expect(primary).toHaveLength(1);
    expect(secondary).toHaveLength(1);
    order.push({ target: primary[0]?.ResourceRecords[0] ?? '', healthCheckId: primary[0]?.HealthCheckId });
    const next = secondary[0]?.ResourceRecords[0] ?? '';
    if (all.some((r) => r.Name === `${next}.`)) {
      expect(secondary[0]?.HealthCheckId).toBeUndefined();
      name = `${next}.`;
    } else {
      order.push({ target: next, healthCheckId: secondary[0]?.HealthCheckId });
      return order;
    }
  }
}

describe('FailoverRecordChain', () => {
  test('two regions: one PRIMARY and one SECONDARY record, each with its region and health check', () => {
    const { stack, chain } = build(2);
    expect(chain.domainName).toBe('tracking.ml.example.com');
    expect(chain.linkDomainNames).toEqual(['tracking.ml.example.com']);
    expect(records(stack)).toEqual([
      {
        HostedZoneId: 'Z0123456789ABC',
        Name: 'tracking.ml.example.com.',
        Type: 'CNAME',
        TTL: '60',
        Failover: 'PRIMARY',
        SetIdentifier: 'primary',
        ResourceRecords: ['api.use1.ml.example.com'],
        HealthCheckId: 'hc-use1',
      },
      {
        HostedZoneId: 'Z0123456789ABC',
        Name: 'tracking.ml.example.com.',
        Type: 'CNAME',
        TTL: '60',
        Failover: 'SECONDARY',
        SetIdentifier: 'secondary',
        ResourceRecords: ['api.usw2.ml.example.com'],
        HealthCheckId: 'hc-usw2',
      },
    ]);
  });

  test.each([3, 4, 5])('%i regions: a chain of deterministic names that fails over through every region in order', (count) => {
    const { stack, chain } = build(count);
    const all = records(stack);
    expect(all).toHaveLength(2 * (count - 1));
    expect(chain.linkDomainNames).toEqual([
      'tracking.ml.example.com',
      ...Array.from({ length: count - 2 }, (_, i) => `tracking.failover-${i + 2}.ml.example.com`),
    ]);
    expect(failoverOrder(all, 'tracking.ml.example.com.')).toEqual(
      REGIONS.slice(0, count).map(([, code]) => ({ target: `api.${code}.ml.example.com`, healthCheckId: `hc-${code}` })),
    );
    for (const record of all) {
      expect(record.TTL).toBe('60');
      expect(record.Type).toBe('CNAME');
      expect(record.SetIdentifier).toBe(record.Failover.toLowerCase());
    }
  });

  test.each([0, 30, 172_800])('the TTL comes from props: %i s is allowed', (seconds) => {
    const { stack } = build(3, { ttl: Duration.seconds(seconds) });
    expect(new Set(records(stack).map((r) => r.TTL))).toEqual(new Set([String(seconds)]));
  });
});

describe('invalid failover props fail with a clear ValidationError', () => {
  test.each<[string, number, Partial<FailoverRecordChainProps>, string]>([
    ['no regions', 0, {}, 'Global/Tracking: regions must list at least one region'],
    ['a single region', 1, {}, 'endpoints must list a primary and at least one secondary region for failover, got 1'],
    ['an upper-case host name', 2, { hostName: 'Tracking' }, 'host name "Tracking" is not a DNS label'],
    ['a dotted host name', 2, { hostName: 'tracking.api' }, 'host name "tracking.api" is not a DNS label'],
    ['an empty host name', 2, { hostName: '' }, 'host name "" is not a DNS label'],
    ['a host name ending in a hyphen', 2, { hostName: 'tracking-' }, 'host name "tracking-" is not a DNS label'],
    ['a 64-character host name', 2, { hostName: 'a'.repeat(64) }, 'is not a DNS label'],
    ['a TTL over two days', 2, { ttl: Duration.seconds(172_801) }, 'ttl must be a whole number of seconds from 0 to 172800, got 172801'],
    ['a fractional TTL', 2, { ttl: Duration.millis(1500) }, 'ttl must be a whole number of seconds from 0 to 172800, got 1.5'],
  ])('%s', (_what, count, overrides, message) => {
    expect(() => build(count, overrides)).toThrow(message);
  });

  test('a region listed twice', () => {
    const { endpoints } = build(2);
    const [first] = endpoints;
    if (!first) throw new Error('no endpoint');
    expect(() => build(2, { endpoints: [...endpoints, first] })).toThrow('region name us-east-1 is listed twice');
  });
});
