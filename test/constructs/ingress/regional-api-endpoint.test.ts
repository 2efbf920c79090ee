import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, test } from 'vitest';
import { RegionalApiEndpoint, type RegionalApiEndpointProps } from '../../../constructs/ingress';
import { acknowledgeNist } from '../../../constructs/private/nag';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const SERVICES = {
  'tracking-server': { host: 'tracking.ml.example.com', port: 8080, healthCheckPath: '/health' },
  'query-api': { host: 'query.ml.example.com', port: 8080, healthCheckPath: '/health' },
};

function build(overrides: Partial<RegionalApiEndpointProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Compute');
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
    hostedZoneId: 'Z0123456789ABC',
    zoneName: 'ml.example.com',
  });
  const endpoint = new RegionalApiEndpoint(stack, 'Api', {
    vpc,
    hostedZone,
    apiHost: 'api.use1.ml.example.com',
    services: SERVICES,
    healthService: 'tracking-server',
    ...overrides,
  });
  if (withGates) {
    acknowledgeNist(
      endpoint.loadBalancer,
      'ALBWAFEnabled',
      'The compute stack puts a RegionalWebAcl in front of this load balancer; this test covers the endpoint alone.',
    );
    addQualityGates(app);
  }
  return { app, stack, endpoint };
}

describe('RegionalApiEndpoint', () => {
  const { stack, endpoint } = build();
  const template = Template.fromStack(stack);
  const groupId = (name: string) => stack.resolve((endpoint.targetGroups[name] as { targetGroupArn: string }).targetGroupArn);

  test('is an internet-facing ALB that drops invalid headers, logs access and resists deletion', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'deletion_protection.enabled', Value: 'true' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  test('serves HTTPS with a modern policy and a certificate for the API and every service host', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
    });
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.use1.ml.example.com',
      SubjectAlternativeNames: ['tracking.ml.example.com', 'query.ml.example.com'],
      ValidationMethod: 'DNS',
    });
  });

  test('routes each host to its own IP target group, and /health on the API name to the health service', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 8080,
      HealthCheckPath: '/health',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['query.ml.example.com'] } }],
      Actions: [Match.objectLike({ Type: 'forward', TargetGroupArn: groupId('query-api') })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 1,
      Conditions: [
        { Field: 'host-header', HostHeaderConfig: { Values: ['api.use1.ml.example.com'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/health'] } },
      ],
      Actions: [Match.objectLike({ TargetGroupArn: groupId('tracking-server') })],
    });
  });

  test('api.<code>.<domain> is an alias of the load balancer', () => {
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'api.use1.ml.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
  });

  test('the load balancer may reach only the pods’ port inside the VPC', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Load balancer of api.use1.ml.example.com',
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkVpc'), 'CidrBlock'] }, FromPort: 8080, ToPort: 8080 }),
      ],
    });
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });

  test('serves a path from a function ahead of every service, invocable by this account’s load balancers only', () => {
    const { stack: own, endpoint: api } = build();
    const handler = lambda.Function.fromFunctionArn(own, 'Gate', 'arn:aws:lambda:us-east-1:111122223333:function:gate');
    api.serveFromFunction('WriteGate', '/write-gate', handler);
    const served = Template.fromStack(own);
    served.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: 'arn:aws:lambda:us-east-1:111122223333:function:gate',
      Principal: 'elasticloadbalancing.amazonaws.com',
      SourceAccount: Match.anyValue(),
    });
    served.resourceCountIs('AWS::Lambda::Permission', 1);
    served.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'lambda',
      Targets: [{ Id: 'arn:aws:lambda:us-east-1:111122223333:function:gate' }],
    });
    served.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 2,
      Conditions: Match.arrayWith([
        { Field: 'host-header', HostHeaderConfig: { Values: ['api.use1.ml.example.com'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/write-gate'] } },
      ]),
    });
    const [groupId] = Object.keys(
      served.findResources('AWS::ElasticLoadBalancingV2::TargetGroup', { Properties: { TargetType: 'lambda' } }),
    );
    const [permissionId] = Object.keys(served.findResources('AWS::Lambda::Permission'));
    expect(served.toJSON().Resources[groupId as string].DependsOn).toContain(permissionId);
    expect(() => api.serveFromFunction('Other', 'write gate', handler)).toThrow(/path must be one lowercase segment/);
  });

  test.each<[string, Partial<RegionalApiEndpointProps>, string]>([
    ['no services', { services: {} }, 'services must list at least one service'],
    ['an unknown health service', { healthService: 'nope' }, 'healthService nope is not one of the services'],
    [
      'two services on one host',
      { services: { a: SERVICES['query-api'], b: SERVICES['query-api'] }, healthService: 'a' },
      'two services share a host',
    ],
  ])('rejects %s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
