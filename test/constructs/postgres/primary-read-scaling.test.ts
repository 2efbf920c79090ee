import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { describe, expect, test } from 'vitest';
import {
  CrossRegionReadReplica,
  type IRegionalDatabase,
  PostgresDatabase,
  PrimaryReadScaling,
  type PrimaryReadScalingProps,
} from '../../../constructs/postgres';
import { acknowledgeNist } from '../../../constructs/private/nag';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { TEST_ACCOUNT } from '../../support/layouts';
import { testApp } from '../../support/synth';

const CLIENT_CIDRS = ['10.64.0.0/18', '10.64.64.0/18', '10.64.128.0/18'];
const REPLICAS = [
  { instanceIdentifier: 'mlp-tier2-pg-use1-scheduler-polling-1', role: 'scheduler-polling' },
  { instanceIdentifier: 'mlp-tier2-pg-use1-status-api-1', role: 'status-api' },
  { instanceIdentifier: 'mlp-tier2-pg-use1-analytics-1', role: 'analytics' },
];

type DatabaseKind = 'created as the primary' | 'a promoted cross-region replica';

function databaseOf(kind: DatabaseKind, stack: Stack, vpc: ec2.IVpc, key: kms.IKey): IRegionalDatabase {
  const common = {
    instanceIdentifier: 'mlp-tier2-pg-use1',
    engineVersion: rds.PostgresEngineVersion.VER_17,
    instanceClass: 'm7g.4xlarge',
    maxConnections: 500,
    backupRetention: Duration.days(35),
    encryptionKey: key,
    vpc,
    clientCidrs: CLIENT_CIDRS,
  };
  return kind === 'created as the primary'
    ? new PostgresDatabase(stack, 'Metadata', { ...common, allocatedStorageGiB: 2048, maxAllocatedStorageGiB: 4096 })
    : new CrossRegionReadReplica(stack, 'Metadata', {
        ...common,
        sourceDbInstanceArn: 'arn:aws:rds:us-west-2:111122223333:db:mlp-tier2-pg-usw2',
      });
}

function build(kind: DatabaseKind, overrides: Partial<PrimaryReadScalingProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Primary');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const database = databaseOf(kind, stack, vpc, key);
  const scaling = new PrimaryReadScaling(stack, 'MetadataReadScaling', {
    database,
    instanceClass: 'm7g.4xlarge',
    encryptionKey: key,
    vpc,
    clientCidrs: CLIENT_CIDRS,
    readReplicas: REPLICAS,
    connectionPooler: true,
    ...overrides,
  });
  if (withGates) {
    acknowledgeNist(
      database,
      'RDSInBackupPlan',
      "The data stack puts the region's primary in its backup plan; this test covers the read scaling alone.",
    );
    addQualityGates(app);
  }
  return { app, stack, database, scaling };
}

describe.each<DatabaseKind>(['created as the primary', 'a promoted cross-region replica'])(
  'PrimaryReadScaling beside a database %s',
  (kind) => {
    const { stack, database, scaling } = build(kind);
    const template = Template.fromStack(stack);
    const instances = template.findResources('AWS::RDS::DBInstance');
    const primaryId = Object.entries(instances).find(([, r]) => r.Properties.DBInstanceIdentifier === 'mlp-tier2-pg-use1')?.[0] as string;
    const replicas = Object.values(instances).filter((r) => r.Properties.DBInstanceIdentifier !== 'mlp-tier2-pg-use1');

    test('read replicas of the database, named and tagged by role, spread over the zones', () => {
      expect(replicas.map((r) => r.Properties.DBInstanceIdentifier)).toEqual(REPLICAS.map((r) => r.instanceIdentifier));
      expect(replicas.map((r) => r.Properties.AvailabilityZone)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      for (const replica of replicas) {
        expect(replica.Properties.Tags).toContainEqual({ Key: 'mlp:replica-role', Value: expect.any(String) });
        expect(JSON.stringify(replica.Properties.SourceDBInstanceIdentifier)).toContain(primaryId);
        expect(replica.Properties).toMatchObject({ MultiAZ: false, EnableIAMDatabaseAuthentication: true, StorageType: 'gp3' });
      }
    });

    test('the replicas are derived copies: deletable when the primary moves, unlike the database', () => {
      for (const replica of replicas) {
        expect(replica).toMatchObject({ Properties: { DeletionProtection: false }, DeletionPolicy: 'Delete' });
      }
      expect(instances[primaryId]).toMatchObject({ Properties: { DeletionProtection: true }, DeletionPolicy: 'Retain' });
    });

    test("the replicas' log groups exist before them and are retained", () => {
      for (const replica of replicas) {
        const groups = template.findResources('AWS::Logs::LogGroup', {
          Properties: { LogGroupName: Match.stringLikeRegexp(`^/aws/rds/instance/${replica.Properties.DBInstanceIdentifier}/`) },
        });
        expect(Object.keys(groups)).toHaveLength(2);
        expect(Object.values(groups).map((g) => g.DeletionPolicy)).toEqual(['Retain', 'Retain']);
        expect(replica.DependsOn).toEqual(expect.arrayContaining(Object.keys(groups)));
      }
    });

    test('RDS Proxy, named like the database, authenticates end to end with IAM and requires TLS', () => {
      template.hasResourceProperties('AWS::RDS::DBProxy', {
        DBProxyName: 'mlp-tier2-pg-use1',
        EngineFamily: 'POSTGRESQL',
        DefaultAuthScheme: 'IAM_AUTH',
        RequireTLS: true,
      });
      expect(Object.values(template.findResources('AWS::RDS::DBProxy'))[0]?.Properties).not.toHaveProperty('Auth');
    });

    test("the proxy's role may connect to this database's users only", () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            {
              Action: 'rds-db:connect',
              Effect: 'Allow',
              Resource: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [primaryId, 'DbiResourceId'] }, '/*'])] },
            },
          ],
        },
      });
    });

    test("the proxy reaches the database through the database's security group", () => {
      const databaseGroup = stack.getLogicalId(database.securityGroup.node.defaultChild as ec2.CfnSecurityGroup);
      const proxyGroup = Object.keys(
        template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'RDS Proxy of mlp-tier2-pg-use1' } }),
      )[0];
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [databaseGroup, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [proxyGroup, 'GroupId'] },
      });
    });

    test('grantConnectThroughProxy names the proxy as the database user resource', () => {
      const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      const grant = scaling.grantConnectThroughProxy(role, 'mlp_registry_api');
      expect(grant?.success).toBe(true);
      expect(JSON.stringify(stack.resolve(grant?.principalStatements[0]?.toStatementJson()))).toMatch(/dbuser:.*\/mlp_registry_api/);
    });

    test('a grant in another stack reads the proxy id as an output, which it never splits', () => {
      // GIVEN a client role in another stack of the region, as the compute stack's are
      const { app, stack: data, scaling: readScaling } = build(kind);
      const compute = new Stack(app, 'Compute', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
      const role = new iam.Role(compute, 'Client', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

      // WHEN
      readScaling.grantConnectThroughProxy(role, 'mlp_registry_api');

      // THEN the proxy's stack splits its ARN, and CloudFormation is given no Fn::GetStackOutput inside Fn::Split (E1022)
      const proxyId = Object.keys(Template.fromStack(data).findResources('AWS::RDS::DBProxy'))[0] as string;
      const outputs = Template.fromStack(data).findOutputs('*', {
        Value: { 'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': [proxyId, 'DBProxyArn'] }] }] },
      });
      expect(Object.keys(outputs)).toHaveLength(1);
      Template.fromStack(compute).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            {
              Action: 'rds-db:connect',
              Resource: {
                'Fn::Join': [
                  '',
                  [
                    'arn:aws:rds-db:us-east-1:111122223333:dbuser:',
                    { 'Fn::GetStackOutput': { StackName: 'Primary', Region: 'us-east-1', OutputName: Object.keys(outputs)[0] } },
                    '/mlp_registry_api',
                  ],
                ],
              },
            },
          ],
        },
      });
      expect(compute.dependencies).toContain(data);
    });

    test('a grant in another region is refused: the proxy id is published for its own region only', () => {
      const { app, scaling: readScaling } = build(kind);
      const elsewhere = new Stack(app, 'Elsewhere', { env: { account: TEST_ACCOUNT, region: 'us-west-2' } });
      const role = new iam.Role(elsewhere, 'Client', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      expect(() => readScaling.grantConnectThroughProxy(role, 'mlp_registry_api')).toThrow(
        'Elsewhere (111122223333/us-west-2) cannot read this value: it is published for stacks of 111122223333/us-east-1 only',
      );
    });

    test('passes the quality gates with only reasoned acknowledgements', () => {
      const { app } = build(kind, {}, true);
      expect(() => app.synth()).not.toThrow();
    });
  },
);

describe('PrimaryReadScaling', () => {
  test('without a pooler there is no proxy, and no grant through one', () => {
    const { stack, scaling } = build('created as the primary', { connectionPooler: false, readReplicas: [] });
    Template.fromStack(stack).resourceCountIs('AWS::RDS::DBProxy', 0);
    Template.fromStack(stack).resourceCountIs('AWS::RDS::DBInstance', 1);
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    expect(scaling.grantConnectThroughProxy(role, 'mlp_any')).toBeUndefined();
  });

  const replicas = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ instanceIdentifier: `mlp-pg-replica-${i + 1}`, role: 'analytics' }));
  test.each<[string, Partial<PrimaryReadScalingProps>, string]>([
    ['16 read replicas', { readReplicas: replicas(16) }, 'RDS allows at most 15 read replicas of one instance, got 16'],
    [
      'a replica named like the primary',
      { readReplicas: [{ instanceIdentifier: 'mlp-tier2-pg-use1', role: 'analytics' }] },
      'instance identifiers must be unique',
    ],
    [
      'an upper-case replica name',
      { readReplicas: [{ instanceIdentifier: 'Replica-1', role: 'analytics' }] },
      'instance identifier "Replica-1" is invalid',
    ],
  ])('rejects %s', (_what, overrides, message) => {
    expect(() => build('created as the primary', overrides)).toThrow(message);
  });
});
