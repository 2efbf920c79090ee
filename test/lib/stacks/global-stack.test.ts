import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { READ_HOSTS, resolvePlatformConfig, WRITE_HOSTS } from '../../../lib/config';
import { addQualityGates } from '../../../lib/quality-gates';
import { GlobalStack } from '../../../lib/stacks/global-stack';
import { testApp } from '../../support/synth';

const DOMAIN = 'ml.example.com';
const ZONE_ID = 'Z0123456789ABC';

function build(regions: string, withGates = false) {
  const app = testApp();
  const { config } = resolvePlatformConfig({ tier: 'tier1', account: '111122223333', domain: DOMAIN, hostedZoneId: ZONE_ID, regions });
  const stack = new GlobalStack(app, { config });
  if (withGates) addQualityGates(app);
  return { app, stack, config };
}

interface RecordProps {
  Name: string;
  Type: string;
  TTL: string;
  HostedZoneId: string;
  ResourceRecords: string[];
  Failover?: 'PRIMARY' | 'SECONDARY';
  SetIdentifier: string;
  Region?: string;
  HealthCheckId?: { Ref: string };
}

describe.each([
  ['two regions', 'us-east-1,us-west-2'],
  ['four regions', 'us-east-1,us-west-2,eu-west-1,ap-southeast-2'],
])('GlobalStack over %s', (_what, regionList) => {
  const { app, stack, config } = build(regionList);
  const template = Template.fromStack(stack);
  const records = Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => r.Properties as RecordProps);
  const [primary, ...secondaries] = config.regions;
  if (!primary) throw new Error('no primary');
  const apiName = (code: string) => `api.${code}.${DOMAIN}`;

  /** Logical id of each region's health check, by region code, read from the template. */
  const allChecks = template.findResources('AWS::Route53::HealthCheck');
  const healthChecks = Object.fromEntries(
    Object.entries(allChecks).filter(
      ([, r]) => r.Properties.HealthCheckConfig.Type === 'HTTPS' && r.Properties.HealthCheckConfig.ResourcePath === '/health',
    ),
  );
  const checkOf = (code: string) => {
    const entry = Object.entries(healthChecks).find(([, r]) => r.Properties.HealthCheckConfig.FullyQualifiedDomainName === apiName(code));
    if (!entry) throw new Error(`no health check for ${code}`);
    return { Ref: entry[0] };
  };
  const gateCheckOf = (region: { name: string; code: string }) => {
    const entry = Object.entries(allChecks).find(
      ([, r]) =>
        r.Properties.HealthCheckConfig.ResourcePath === '/write-gate' &&
        r.Properties.HealthCheckConfig.FullyQualifiedDomainName === apiName(region.code),
    );
    if (!entry) throw new Error(`no gate check for ${region.code}`);
    return { Ref: entry[0] };
  };
  /** The calculated check write records use: HTTPS up and the region's own gate open. */
  const writableOf = (code: string) => {
    const entry = Object.entries(allChecks).find(
      ([, r]) =>
        r.Properties.HealthCheckConfig.Type === 'CALCULATED' &&
        r.Properties.HealthCheckConfig.ChildHealthChecks.some((c: { Ref: string }) => c.Ref === checkOf(code).Ref),
    );
    if (!entry) throw new Error(`no write check for ${code}`);
    return { Ref: entry[0] };
  };

  test('is Mlp-tier1-global in us-east-1 of the configured account, tagged with tier and layer', () => {
    expect(stack.stackName).toBe('Mlp-tier1-global');
    expect(stack.node.id).toBe('Mlp-tier1-global');
    expect(stack.region).toBe('us-east-1');
    expect(stack.account).toBe('111122223333');
    const artifact = app.synth().getStackByName('Mlp-tier1-global');
    expect(artifact.environment.name).toBe('aws://111122223333/us-east-1');
    expect(artifact.tags).toEqual({ 'mlp:tier': 'tier1', 'mlp:layer': 'global' });
  });

  test("one HTTPS health check per region on api.<code>.<domain>/health, with the tier's interval and threshold", () => {
    expect(config.tier.routing).toEqual({
      healthCheckIntervalSeconds: 10,
      healthCheckFailureThreshold: 3,
      recordTtlSeconds: 60,
      writeRecordTtlSeconds: 5,
    });
    expect(Object.keys(healthChecks)).toHaveLength(config.regions.length);
    expect(Object.keys(allChecks)).toHaveLength(3 * config.regions.length);
    for (const region of config.regions) {
      const check = healthChecks[checkOf(region.code).Ref];
      expect(check?.Properties).toEqual({
        HealthCheckConfig: {
          Type: 'HTTPS',
          FullyQualifiedDomainName: apiName(region.code),
          Port: 443,
          EnableSNI: true,
          ResourcePath: '/health',
          RequestInterval: config.tier.routing.healthCheckIntervalSeconds,
          FailureThreshold: config.tier.routing.healthCheckFailureThreshold,
          MeasureLatency: true,
          Inverted: false,
        },
        HealthCheckTags: [{ Key: 'Name', Value: `mlp-tier1-api-${region.code}` }],
      });
    }
  });

  test('an unhealthy alarm per health check, notifying the encrypted topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(alarms).toHaveLength(config.regions.length);
    for (const region of config.regions) {
      const alarm = alarms.find((a) => a.Dimensions[0].Value.Ref === checkOf(region.code).Ref);
      expect(alarm).toMatchObject({
        AlarmName: `mlp-tier1-api-${region.code}-unhealthy`,
        Namespace: 'AWS/Route53',
        MetricName: 'HealthCheckStatus',
        Dimensions: [{ Name: 'HealthCheckId', Value: checkOf(region.code) }],
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
    }
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  test.each(WRITE_HOSTS)('%s: one PRIMARY record at the primary, then every secondary in order', (host) => {
    const name = `${host}.${DOMAIN}.`;
    const top = records.filter((r) => r.Name === name);
    const topPrimary = top.filter((r) => r.Failover === 'PRIMARY');
    expect(topPrimary).toHaveLength(1);
    expect(topPrimary[0]).toMatchObject({ ResourceRecords: [apiName(primary.code)], HealthCheckId: writableOf(primary.code) });
    expect(top.filter((r) => r.Failover === 'SECONDARY')).toHaveLength(1);
    expect(top).toHaveLength(2);

    // Follow the SECONDARY records down the chain: each link answers with one secondary while it may
    // take writes; the last SECONDARY fails closed to a name that never resolves.
    const answered: { target: string; check?: { Ref: string } }[] = [];
    let link = top;
    for (;;) {
      const secondary = link.find((r) => r.Failover === 'SECONDARY');
      if (!secondary) throw new Error(`no SECONDARY record in ${link[0]?.Name}`);
      const target = secondary.ResourceRecords[0] ?? '';
      const next = records.filter((r) => r.Name === `${target}.`);
      if (next.length === 0) {
        answered.push({ target, check: secondary.HealthCheckId });
        break;
      }
      expect(target).toBe(`${host}.failover-${answered.length + 2}.${DOMAIN}`);
      expect(secondary.HealthCheckId).toBeUndefined();
      expect(next.map((r) => r.Failover).sort()).toEqual(['PRIMARY', 'SECONDARY']);
      const nextPrimary = next.find((r) => r.Failover === 'PRIMARY');
      answered.push({ target: nextPrimary?.ResourceRecords[0] ?? '', check: nextPrimary?.HealthCheckId });
      link = next;
    }
    expect(answered).toEqual([
      ...secondaries.map((r) => ({ target: apiName(r.code), check: writableOf(r.code) })),
      { target: 'write-gate-closed.invalid', check: undefined },
    ]);
  });

  test.each(config.regions.map((r) => [r.name, r]))(
    "%s's write check passes only with its HTTPS check healthy and its own write-gate endpoint answering open",
    (_name, region) => {
      const write = allChecks[writableOf(region.code).Ref]?.Properties.HealthCheckConfig;
      expect(write).toMatchObject({ Type: 'CALCULATED', HealthThreshold: 2 });
      expect(write.ChildHealthChecks).toEqual([checkOf(region.code), gateCheckOf(region)]);
      expect(allChecks[gateCheckOf(region).Ref]?.Properties).toEqual({
        HealthCheckConfig: {
          Type: 'HTTPS',
          FullyQualifiedDomainName: apiName(region.code),
          Port: 443,
          EnableSNI: true,
          ResourcePath: '/write-gate',
          RequestInterval: 10,
          FailureThreshold: 1,
          MeasureLatency: false,
          Inverted: false,
        },
        HealthCheckTags: [{ Key: 'Name', Value: `mlp-tier1-gate-${region.name}` }],
      });
    },
  );

  test("no region's writability reads a CloudWatch alarm or an endpoint of another region", () => {
    const leaves = (ref: string): Record<string, unknown>[] => {
      const check = allChecks[ref]?.Properties.HealthCheckConfig;
      return check.Type === 'CALCULATED' ? check.ChildHealthChecks.flatMap((c: { Ref: string }) => leaves(c.Ref)) : [check];
    };
    for (const region of config.regions) {
      for (const leaf of leaves(writableOf(region.code).Ref)) {
        expect(leaf.Type, region.name).toBe('HTTPS');
        expect(leaf.FullyQualifiedDomainName, region.name).toBe(apiName(region.code));
      }
    }
  });

  test('a region whose gate is closed receives no write traffic even while its HTTPS check is healthy', () => {
    // Resolve the chain the way Route 53 does, for every combination of gates, with every region healthy.
    const resolve = (name: string, gates: Record<string, boolean>): string => {
      const link = records.filter((r) => r.Name === `${name}.`);
      if (link.length === 0) return name;
      const writable = (record: RecordProps) => {
        if (!record.HealthCheckId) return true;
        const check = allChecks[record.HealthCheckId.Ref]?.Properties.HealthCheckConfig;
        const childOk = (ref: string): boolean => {
          const c = allChecks[ref]?.Properties.HealthCheckConfig;
          if (c.ResourcePath === '/health') return true; // every region healthy
          const region = regions.find((r) => apiName(r.code) === c.FullyQualifiedDomainName);
          return gates[region?.name ?? ''] === true;
        };
        return check.ChildHealthChecks.filter((child: { Ref: string }) => childOk(child.Ref)).length >= check.HealthThreshold;
      };
      const primaryRecord = link.find((r) => r.Failover === 'PRIMARY') as RecordProps;
      const secondaryRecord = link.find((r) => r.Failover === 'SECONDARY') as RecordProps;
      const chosen = writable(primaryRecord) ? primaryRecord : writable(secondaryRecord) ? secondaryRecord : primaryRecord;
      return resolve(chosen.ResourceRecords[0] as string, gates);
    };
    const regions = config.regions;
    for (let mask = 0; mask < 1 << regions.length; mask++) {
      const gates = Object.fromEntries(regions.map((r, i) => [r.name, (mask & (1 << i)) !== 0]));
      const open = regions.filter((r) => gates[r.name]);
      const answer = resolve(`tracking.${DOMAIN}`, gates);
      // One answer at a time: the first open gate in failover order (the write lease lets only one
      // region's endpoint answer open), and with none open, a name that never resolves.
      expect(answer, JSON.stringify(gates)).toBe(
        open.length > 0 ? apiName((open[0] as { code: string }).code) : 'write-gate-closed.invalid',
      );
    }
  });

  test.each(READ_HOSTS)('%s: a latency record per region with its health check', (host) => {
    const latency = records.filter((r) => r.Name === `${host}.${DOMAIN}.`);
    expect(latency).toEqual(
      config.regions.map((region) => ({
        HostedZoneId: ZONE_ID,
        Name: `${host}.${DOMAIN}.`,
        Type: 'CNAME',
        TTL: '60',
        Region: region.name,
        SetIdentifier: region.name,
        ResourceRecords: [apiName(region.code)],
        HealthCheckId: checkOf(region.code),
      })),
    );
  });

  test("every record is a CNAME in the configured zone: the write hosts' with a 5 s TTL, the read hosts' 60 s", () => {
    expect(records.length).toBe(WRITE_HOSTS.length * 2 * config.regions.length + READ_HOSTS.length * config.regions.length);
    for (const record of records) {
      const write = WRITE_HOSTS.some((host) => record.Name.startsWith(`${host}.`));
      expect(record).toMatchObject({ HostedZoneId: ZONE_ID, Type: 'CNAME', TTL: write ? '5' : '60' });
    }
  });

  test('passes the quality gates', () => {
    const { app: gated } = build(regionList, true);
    expect(() => gated.synth()).not.toThrow();
  });
});
