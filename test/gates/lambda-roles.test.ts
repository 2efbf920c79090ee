import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, test } from 'vitest';
import { type CfnTemplate, LayoutAssembly } from '../support/assembly';
import { ENI_ACTIONS, functionDefects, LOG_WRITE_ACTIONS } from '../support/lambda-roles';
import { LAYOUTS } from '../support/layouts';

describe.each(LAYOUTS)('Lambda execution roles: $id', ({ id }) => {
  const assembly = LayoutAssembly.of(id);
  const functions = (stack: string) => Object.keys(assembly.resourcesOfType(stack, 'AWS::Lambda::Function'));

  test('every function has a role Lambda may assume, that can write its logs and manage its network interfaces in a VPC', () => {
    expect(assembly.stackNames.flatMap(functions).length).toBeGreaterThan(0);
    const defects = assembly.stackNames.flatMap((stack) => functionDefects(assembly.template(stack)).map((d) => `${stack}/${d}`));
    expect(defects).toEqual([]);
  });
});

describe('the role check reads roles as Lambda needs them', () => {
  type Grant = (role: iam.Role, logGroup: logs.LogGroup) => void;

  /** One function, in a VPC or not, whose role gets what `grant` gives it; the defects the check finds, without id hashes. */
  function defectsOf(options: { inVpc: boolean; ownLogGroup?: boolean; grant?: Grant }): string[] {
    const stack = new Stack(new App(), 'Probe', { env: { account: '111122223333', region: 'us-east-1' } });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const logGroup = new logs.LogGroup(stack, 'Logs');
    options.grant?.(role, logGroup);
    const vpc = options.inVpc
      ? new ec2.Vpc(stack, 'Vpc', {
          natGateways: 0,
          subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
        })
      : undefined;
    new lambda.Function(stack, 'Function', {
      functionName: 'probe',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      role,
      vpc,
      vpcSubnets: vpc ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : undefined,
      logGroup: options.ownLogGroup ? logGroup : undefined,
    });
    return functionDefects(Template.fromStack(stack).toJSON() as CfnTemplate).map((d) => d.replace(/[0-9A-F]{8}\b/g, ''));
  }
  const managed =
    (...names: string[]): Grant =>
    (role) => {
      for (const name of names) role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName(`service-role/${name}`));
    };
  const statement =
    (actions: string[], resources = ['*']): Grant =>
    (role) =>
      role.addToPolicy(new iam.PolicyStatement({ actions, resources }));
  const both =
    (...grants: Grant[]): Grant =>
    (role, logGroup) => {
      for (const grant of grants) grant(role, logGroup);
    };

  test('a function in a VPC whose role has only the basic execution policy cannot manage its network interfaces', () => {
    expect(defectsOf({ inVpc: true, grant: managed('AWSLambdaBasicExecutionRole') })).toEqual([
      'Function: it is in a VPC and its role Role cannot manage its network interfaces: no AWSLambdaVPCAccessExecutionRole or ' +
        'AWSLambdaENIManagementAccess, and no ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets, ' +
        'ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses on "*"',
    ]);
  });

  test.each<[string, Grant]>([
    ['AWSLambdaVPCAccessExecutionRole', managed('AWSLambdaVPCAccessExecutionRole')],
    ['AWSLambdaENIManagementAccess', managed('AWSLambdaBasicExecutionRole', 'AWSLambdaENIManagementAccess')],
    ['the actions on "*" in a statement', both(managed('AWSLambdaBasicExecutionRole'), statement(ENI_ACTIONS))],
    ['a wildcard action on "*"', both(managed('AWSLambdaBasicExecutionRole'), statement(['ec2:*']))],
  ])('a function in a VPC can manage its network interfaces through %s', (_, grant) => {
    expect(defectsOf({ inVpc: true, grant })).toEqual([]);
  });

  test('the actions on a narrower resource, without DescribeSubnets, or denied, are not enough', () => {
    const basic = managed('AWSLambdaBasicExecutionRole');
    const subnetless = ENI_ACTIONS.filter((a) => a !== 'ec2:DescribeSubnets');
    expect(defectsOf({ inVpc: true, grant: both(basic, statement(subnetless)) })).toEqual([
      expect.stringMatching(/, and no ec2:DescribeSubnets on "\*"$/),
    ]);
    const scoped = statement(ENI_ACTIONS, ['arn:aws:ec2:us-east-1:111122223333:network-interface/*']);
    expect(defectsOf({ inVpc: true, grant: both(basic, scoped) })).toHaveLength(1);
    const denied: Grant = (role) =>
      role.addToPolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['ec2:DeleteNetworkInterface'], resources: ['*'] }));
    expect(defectsOf({ inVpc: true, grant: both(basic, statement(ENI_ACTIONS), denied) })).toEqual([
      expect.stringMatching(/, and no ec2:DeleteNetworkInterface on "\*"$/),
    ]);
  });

  test('a function must be able to write its logs: through a managed policy, or a grant on its log group', () => {
    expect(defectsOf({ inVpc: false, grant: managed('AWSLambdaBasicExecutionRole') })).toEqual([]);
    expect(defectsOf({ inVpc: false })).toEqual([
      'Function: its role Role cannot write /aws/lambda/probe: no logs:CreateLogStream, logs:PutLogEvents',
    ]);
    expect(defectsOf({ inVpc: false, ownLogGroup: true })).toEqual([
      'Function: its role Role cannot write Logs: no logs:CreateLogStream, logs:PutLogEvents',
    ]);
    expect(defectsOf({ inVpc: false, ownLogGroup: true, grant: (role, logGroup) => logGroup.grantWrite(role) })).toEqual([]);
    // A grant on another log group does not let it write its own.
    const elsewhere: Grant = (role) =>
      role.addToPolicy(
        new iam.PolicyStatement({ actions: LOG_WRITE_ACTIONS, resources: ['arn:aws:logs:us-east-1:111122223333:log-group:other:*'] }),
      );
    expect(defectsOf({ inVpc: false, ownLogGroup: true, grant: elsewhere })).toHaveLength(1);
  });

  test('a role Lambda may not assume is reported', () => {
    const stack = new Stack(new App(), 'Probe');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'));
    new lambda.Function(stack, 'Function', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      role,
    });
    expect(functionDefects(Template.fromStack(stack).toJSON() as CfnTemplate)).toEqual([
      expect.stringMatching(/^Function\w+: its role Role\w+ does not trust lambda.amazonaws.com$/),
    ]);
  });
});
