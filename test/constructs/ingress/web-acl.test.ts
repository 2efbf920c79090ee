import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, test } from 'vitest';
import { MANAGED_RULE_GROUPS, RATE_LIMIT_RULE, RegionalWebAcl, type RegionalWebAclProps } from '../../../constructs/ingress';
import { acknowledgeNist } from '../../../constructs/private/nag';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc, testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

function build(overrides: Partial<RegionalWebAclProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Compute');
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', {
    vpc,
    internetFacing: true,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
  });
  Validations.of(loadBalancer).acknowledge({
    id: 'AwsSolutions-ELB2',
    reason: 'A bare load balancer as the test fixture: only the resources of the web ACL are under test here.',
  });
  for (const rule of ['ELBDeletionProtectionEnabled', 'ELBLoggingEnabled']) {
    acknowledgeNist(loadBalancer, rule, 'A bare load balancer as the test fixture: only the resources of the web ACL are under test here.');
  }
  const acl = new RegionalWebAcl(stack, 'Firewall', {
    webAclName: 'mlp-tier1-use1-api',
    loadBalancers: [loadBalancer],
    requestsPerIpPer5Minutes: 1_500_000,
    logEncryptionKey: testLogsKey(stack),
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, acl };
}

describe('RegionalWebAcl', () => {
  const { stack, acl } = build();
  const template = Template.fromStack(stack);

  test('a rate limit per client IP first, then the AWS managed IP reputation, known bad inputs and common rule groups', () => {
    const [webAcl] = Object.values(template.findResources('AWS::WAFv2::WebACL'));
    expect(webAcl?.Properties.Scope).toBe('REGIONAL');
    expect(webAcl?.Properties.DefaultAction).toEqual({ Allow: {} });
    const rules = webAcl?.Properties.Rules as { Name: string; Priority: number; Statement: Record<string, unknown> }[];
    expect(rules.map((r) => [r.Name, r.Priority])).toEqual([
      [RATE_LIMIT_RULE, 0],
      ['AWSManagedRulesAmazonIpReputationList', 10],
      ['AWSManagedRulesKnownBadInputsRuleSet', 20],
      ['AWSManagedRulesCommonRuleSet', 30],
    ]);
    expect(rules[0]?.Statement).toEqual({
      RateBasedStatement: { AggregateKeyType: 'IP', Limit: 1_500_000, EvaluationWindowSec: 300 },
    });
    for (const name of MANAGED_RULE_GROUPS) {
      expect(rules.find((r) => r.Name === name)?.Statement).toEqual({ ManagedRuleGroupStatement: { VendorName: 'AWS', Name: name } });
    }
  });

  test('every rule and the web ACL publish CloudWatch metrics and sampled requests', () => {
    const [webAcl] = Object.values(template.findResources('AWS::WAFv2::WebACL'));
    const configs = [
      webAcl?.Properties.VisibilityConfig,
      ...((webAcl?.Properties.Rules ?? []) as { VisibilityConfig: unknown }[]).map((r) => r.VisibilityConfig),
    ];
    expect(configs).toHaveLength(5);
    for (const config of configs) {
      expect(config).toMatchObject({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true });
    }
  });

  test('is associated with the load balancer', () => {
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: Match.stringLikeRegexp('^Alb') },
      WebACLArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Firewall'), 'Arn'] },
    });
  });

  test('logs every request, credentials redacted, to a retained log group encrypted with the given key', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: 'aws-waf-logs-mlp-tier1-use1-api',
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
        RetentionInDays: 365,
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }],
    });
    const [logging] = Object.values(template.findResources('AWS::WAFv2::LoggingConfiguration'));
    expect(JSON.stringify(logging?.Properties.LogDestinationConfigs)).toContain(':log-group:');
    expect(JSON.stringify(logging?.Properties.LogDestinationConfigs)).not.toContain(':*');
  });

  test('blocked and counted requests per rule as metrics', () => {
    const blocked = stack.resolve(acl.metricBlockedRequests(RATE_LIMIT_RULE).toMetricConfig().metricStat);
    expect(blocked).toMatchObject({
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      statistic: 'Sum',
      dimensions: expect.arrayContaining([
        { name: 'WebACL', value: 'mlp-tier1-use1-api' },
        { name: 'Rule', value: RATE_LIMIT_RULE },
        { name: 'Region', value: 'us-east-1' },
      ]),
    });
    const counted = stack.resolve(acl.metricCountedRequests().toMetricConfig().metricStat);
    expect(counted).toMatchObject({ metricName: 'CountedRequests', dimensions: expect.arrayContaining([{ name: 'Rule', value: 'ALL' }]) });
  });

  test('passes the quality gates', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });

  test.each<[string, Partial<RegionalWebAclProps>, string]>([
    [
      'a limit below WAF minimum',
      { requestsPerIpPer5Minutes: 5 },
      'requestsPerIpPer5Minutes must be a whole number from 10 to 2000000000, got 5',
    ],
    [
      'a fractional limit',
      { requestsPerIpPer5Minutes: 100.5 },
      'requestsPerIpPer5Minutes must be a whole number from 10 to 2000000000, got 100.5',
    ],
    ['a name with a space', { webAclName: 'my acl' }, 'webAclName must be 1-128 letters, digits, - or _, got my acl'],
    ['no load balancer', { loadBalancers: [] }, 'loadBalancers must list at least one load balancer'],
  ])('rejects %s', (_, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
