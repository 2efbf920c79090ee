import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as rds from 'aws-cdk-lib/aws-rds';
import { describe, expect, test } from 'vitest';
import { DatabaseBootstrap, type DatabaseBootstrapProps, PostgresDatabase } from '../../../constructs/postgres';
import { planSha256, toPlanProperty } from '../../../constructs/postgres/database-bootstrap/plan';
import { type BootstrapStatement, bootstrapPlan } from '../../../runbooks/core/database-bootstrap';
import { LayoutAssembly } from '../../support/assembly';
import { stackWithVpc, testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const BOOTSTRAP = 'Custom::PostgresBootstrap';

describe('DatabaseBootstrap in the platform', () => {
  test.each([
    ['tier1-rds', ['Mlp-tier1-use1-data']],
    ['tier3', ['Mlp-tier3-use1-data']],
    // The primary is a promoted cross-region replica: no master secret, no bootstrap anywhere.
    ['tier1-rds-reprotected', []],
    ['tier3-rds-failed-back', []],
  ])('%s: only the primary region’s data stack runs it, once', (layout, expected) => {
    const assembly = LayoutAssembly.of(layout);
    const holders = assembly.stackNames.flatMap((stack) =>
      Array(Object.keys(assembly.resourcesOfType(stack, BOOTSTRAP)).length).fill(stack),
    );
    expect(holders).toEqual(expected);
  });

  test.each([
    ['tier1-rds-reprotected', 'Mlp-tier1-usw2-data', 'us-west-2', 'mlp-tier1-pg-usw2'],
    ['tier3-rds-failed-back', 'Mlp-tier3-use1-data', 'us-east-1', 'mlp-tier3-pg-use1-g2'],
  ])('%s: a primary without a master secret is said so at synthesis, not skipped silently', (layout, stack, region, instance) => {
    const infos = LayoutAssembly.of(layout)
      .metadataOfType('aws:cdk:info')
      .filter((m) => String(m.data).includes('database bootstrap'));
    expect(infos).toEqual([
      {
        path: `/${stack}`,
        data: `The deploy does not run the database bootstrap in ${region}: the primary ${instance} is a promoted replica with no RDS-managed master secret. It holds the roles and databases its source had when promoted; a bootstrap plan changed since is not applied to it.`,
      },
    ]);
  });

  describe('in the primary’s data stack (tier1 on RDS)', () => {
    const assembly = LayoutAssembly.of('tier1-rds');
    const template = assembly.assertions('Mlp-tier1-use1-data');
    const resources = assembly.template('Mlp-tier1-use1-data').Resources;
    const idOf = (type: string, prefix: string) => {
      const ids = Object.keys(resources).filter((id) => resources[id]?.Type === type && id.startsWith(prefix));
      expect(ids).toHaveLength(1);
      return ids[0] as string;
    };
    const databaseGroup = idOf('AWS::EC2::SecurityGroup', 'MetadataSecurityGroup');
    const bootstrapGroup = idOf('AWS::EC2::SecurityGroup', 'MetadataBootstrapSecurityGroup');
    const handlerRole = idOf('AWS::IAM::Role', 'MetadataBootstrapHandlerRole');
    const instance = idOf('AWS::RDS::DBInstance', 'MetadataInstance');

    test('runs the platform’s plan against the primary’s endpoint, with the master secret', () => {
      template.hasResourceProperties(BOOTSTRAP, {
        Host: { 'Fn::GetAtt': [instance, 'Endpoint.Address'] },
        Port: { 'Fn::GetAtt': [instance, 'Endpoint.Port'] },
        MasterSecretArn: { 'Fn::GetAtt': [instance, 'MasterUserSecret.SecretArn'] },
        PlanSha256: planSha256(bootstrapPlan()),
        Plan: toPlanProperty(bootstrapPlan()),
      });
    });

    test('the handler is in the private subnets, with a group that reaches the database port and HTTPS in the VPC only', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.onEvent',
        Environment: { Variables: { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' } },
        VpcConfig: {
          SecurityGroupIds: [{ 'Fn::GetAtt': [bootstrapGroup, 'GroupId'] }],
          SubnetIds: Array(3).fill({
            'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp('privateSubnet') }),
          }),
        },
      });
      expect(resources[bootstrapGroup]?.Properties?.SecurityGroupEgress).toEqual([
        {
          Description: 'PostgreSQL to mlp-tier1-pg-use1',
          DestinationSecurityGroupId: { 'Fn::GetAtt': [databaseGroup, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
        },
        {
          Description: 'HTTPS to the Secrets Manager interface endpoint in the VPC',
          CidrIp: { 'Fn::GetStackOutput': expect.objectContaining({ OutputName: expect.stringMatching(/NetworkVpc\w*CidrBlock/) }) },
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
        },
      ]);
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [databaseGroup, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [bootstrapGroup, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
      });
    });

    test('its role reads exactly the master secret and decrypts with exactly its key, through Secrets Manager', () => {
      const policies = Object.values(assembly.resourcesOfType('Mlp-tier1-use1-data', 'AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties?.Roles).includes(handlerRole),
      );
      expect(policies).toHaveLength(1);
      const statements = (policies[0]?.Properties?.PolicyDocument as { Statement?: Record<string, unknown>[] } | undefined)?.Statement;
      expect(statements).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MetadataBootstrapLogs/), 'Arn'] },
        },
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { 'Fn::GetAtt': [instance, 'MasterUserSecret.SecretArn'] } },
        {
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.us-east-1.', { Ref: 'AWS::URLSuffix' }]] } } },
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [idOf('AWS::KMS::Key', 'DataKey'), 'Arn'] },
        },
      ]);
      // The master secret is the one the instance encrypts with that key.
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        MasterUserSecret: { KmsKeyId: { 'Fn::GetAtt': [idOf('AWS::KMS::Key', 'DataKey'), 'Arn'] } },
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        ManagedPolicyArns: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] },
        ],
        Description: 'Bootstraps the roles and databases of mlp-tier1-pg-use1',
      });
    });

    test('the network it runs in has a Secrets Manager interface endpoint with private DNS', () => {
      assembly.assertions('Mlp-tier1-use1-network').hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: 'com.amazonaws.us-east-1.secretsmanager',
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
    });
  });
});

describe('DatabaseBootstrap', () => {
  // GIVEN a primary in a platform VPC
  function build(overrides: Partial<DatabaseBootstrapProps> = {}) {
    const { stack, vpc } = stackWithVpc(testApp(), 'Primary');
    const database = new PostgresDatabase(stack, 'Metadata', {
      instanceIdentifier: 'mlp-dev-pg-use1',
      engineVersion: rds.PostgresEngineVersion.VER_17,
      instanceClass: 't4g.medium',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      maxConnections: 100,
      backupRetention: Duration.days(7),
      encryptionKey: testLogsKey(stack),
      vpc,
      clientCidrs: ['10.64.0.0/18'],
    });
    // WHEN
    new DatabaseBootstrap(stack, 'Bootstrap', {
      database,
      masterSecret: database.masterSecret,
      vpc,
      logEncryptionKey: testLogsKey(stack),
      ...overrides,
    });
    return stack;
  }
  const hashOf = (stack: Stack) =>
    Object.values(Template.fromStack(stack).findResources(BOOTSTRAP)).map((r) => r.Properties.PlanSha256 as string);

  test('the hash property changes when the plan changes, and only then', () => {
    const plan = bootstrapPlan();
    const reordered = [plan[1], plan[0], ...plan.slice(2)] as BootstrapStatement[];
    const extended = [...plan, { database: 'mlp', sql: 'GRANT USAGE ON SCHEMA public TO "mlp_dr"' }];
    const guardChanged = plan.map((s, i) => (i === 0 ? { ...s, unless: `${s.unless} AND true` } : s));
    // THEN
    const hashes = [plan, plan, reordered, extended, guardChanged].map((p) => hashOf(build({ plan: p })));
    expect(hashes[0]).toEqual([planSha256(plan)]);
    expect(hashes[1]).toEqual(hashes[0]);
    expect(new Set(hashes.slice(1).map((h) => h[0])).size).toBe(4);
    expect(hashOf(build())).toEqual(hashes[0]);
  });

  test('an empty plan fails at synthesis', () => {
    expect(() => build({ plan: [] })).toThrow('plan must hold at least one statement, got none');
  });
});
