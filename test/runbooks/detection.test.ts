import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig } from '../../lib/config';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { detectionLead } from '../../runbooks/local/detection';
import { LayoutAssembly } from '../support/assembly';

const config = resolvePlatformConfig({ tier: 'tier1', account: '111122223333' }).config;
const tier1 = () => DeployedAssembly.fromDirectory(LayoutAssembly.of('tier1').directory);

describe('the modelled time from a region loss to the start of the unplanned failover', () => {
  test('reads the primary’s health check and its alarm from the synthesized stacks, then the tier’s start', () => {
    const lead = detectionLead(tier1(), config);
    expect(lead.map((l) => l.seconds)).toEqual([30, 60, 240, 300]);
    expect(lead[0]?.what).toBe("Route 53 marks us-east-1's API unhealthy (3 failed checks, every 10 s)");
    expect(lead[1]?.what).toMatch(/^mlp-tier1-api-use1-unhealthy goes to ALARM and pages \(1 x 60 s/);
    expect(lead.reduce((sum, l) => sum + l.seconds, 0)).toBe(630);
  });

  test('follows the tier’s start: a shorter sustained failure and decision budget shorten it', () => {
    const faster = {
      ...config,
      tier: {
        ...config.tier,
        recovery: {
          ...config.tier.recovery,
          regionFailoverStart: { kind: 'operator' as const, sustainedFailureSeconds: 60, decisionSeconds: 120 },
        },
      },
    };
    expect(detectionLead(tier1(), faster).map((l) => l.seconds)).toEqual([30, 60, 0, 120]);
  });

  test('a primary whose health check nobody alarms on is an error: nobody would be paged', () => {
    const assembly = tier1();
    for (const { stack, logicalId } of assembly.resourcesOfType('AWS::CloudWatch::Alarm')) {
      const props = stack.template.Resources[logicalId]?.Properties as Record<string, unknown>;
      if (props.MetricName === 'HealthCheckStatus') props.MetricName = 'SomethingElse';
    }
    expect(() => detectionLead(assembly, config)).toThrow(/no CloudWatch alarm .* watches mlp-tier1-api-use1's HealthCheckStatus/);
  });
});
