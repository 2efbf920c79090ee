import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { describe, expect, test } from 'vitest';
import { PostgresDatabase, type PostgresDatabaseProps } from '../../../constructs/postgres';
import { acknowledgeNist } from '../../../constructs/private/nag';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const CLIENT_CIDRS = ['10.64.0.0/18', '10.64.64.0/18', '10.64.128.0/18'];

function build(overrides: Partial<PostgresDatabaseProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Primary');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const database = new PostgresDatabase(stack, 'Metadata', {
    instanceIdentifier: 'mlp-tier2-pg-use1',
    engineVersion: rds.PostgresEngineVersion.VER_17,
    instanceClass: 'm7g.4xlarge',
    allocatedStorageGiB: 2048,
    maxAllocatedStorageGiB: 4096,
    maxConnections: 500,
    backupRetention: Duration.days(35),
    encryptionKey: key,
    vpc,
    clientCidrs: CLIENT_CIDRS,
    ...overrides,
  });
  if (withGates) {
    acknowledgeNist(
      database,
      'RDSInBackupPlan',
      "The data stack puts the region's primary in its backup plan; this test covers the database alone.",
    );
    addQualityGates(app);
  }
  return { app, stack, key, database };
}

describe('PostgresDatabase', () => {
  const { stack, key, database } = build();
  const template = Template.fromStack(stack);
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
  const primaryId = stack.getLogicalId(database.instance.node.defaultChild as rds.CfnDBInstance);
  const instances = template.findResources('AWS::RDS::DBInstance');

  test('the primary is Multi-AZ gp3 with storage autoscaling, PITR, IAM auth and deletion protection', () => {
    expect(instances[primaryId]).toMatchObject({
      Properties: {
        DBInstanceIdentifier: 'mlp-tier2-pg-use1',
        Engine: 'postgres',
        EngineVersion: '17',
        DBInstanceClass: 'db.m7g.4xlarge',
        AllocatedStorage: '2048',
        MaxAllocatedStorage: 4096,
        StorageType: 'gp3',
        MultiAZ: true,
        BackupRetentionPeriod: 35,
        EnableIAMDatabaseAuthentication: true,
        DeletionProtection: true,
        PubliclyAccessible: false,
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
        MonitoringInterval: 60,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('storage, Performance Insights and the RDS-managed master secret use the given key', () => {
    expect(instances[primaryId]?.Properties).toMatchObject({
      StorageEncrypted: true,
      KmsKeyId: keyArn,
      EnablePerformanceInsights: true,
      PerformanceInsightsKMSKeyId: keyArn,
      ManageMasterUserPassword: true,
      MasterUserSecret: { KmsKeyId: keyArn },
    });
    expect(instances[primaryId]?.Properties).not.toHaveProperty('MasterUserPassword');
  });

  test('every instance enforces TLS and the connection limit through one parameter group', () => {
    template.resourceCountIs('AWS::RDS::DBParameterGroup', 1);
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: Match.objectLike({ 'rds.force_ssl': '1', max_connections: '500', ssl_min_protocol_version: 'TLSv1.2' }),
    });
  });

  test('log groups exist before the instances that write to them, with a retention', () => {
    for (const [id, instance] of Object.entries(instances)) {
      const name = instance.Properties.DBInstanceIdentifier;
      const groups = template.findResources('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: Match.stringLikeRegexp(`^/aws/rds/instance/${name}/`) },
      });
      expect(Object.keys(groups), id).toHaveLength(2);
      expect(instance.DependsOn).toEqual(expect.arrayContaining(Object.keys(groups)));
    }
  });

  test('PostgreSQL is reachable only from the client CIDRs', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'PostgreSQL mlp-tier2-pg-use1 and its replicas' },
    });
    const [group] = Object.values(groups);
    expect(group?.Properties.SecurityGroupIngress.map((r: { CidrIp: string }) => r.CidrIp)).toEqual(CLIENT_CIDRS);
    expect(group?.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
  });

  test('grantConnect allows rds-db:connect as one database user of this instance only', () => {
    // GIVEN
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    // WHEN
    const grant = database.grantConnect(role, 'mlp_tracking_server');
    // THEN
    expect(grant.success).toBe(true);
    expect(stack.resolve(grant.principalStatements[0]?.toStatementJson())).toEqual({
      Action: 'rds-db:connect',
      Effect: 'Allow',
      Resource: {
        'Fn::Join': [
          '',
          ['arn:aws:rds-db:us-east-1:111122223333:dbuser:', { 'Fn::GetAtt': [primaryId, 'DbiResourceId'] }, '/mlp_tracking_server'],
        ],
      },
    });
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid database props fail with a clear ValidationError', () => {
  test.each<[string, Partial<PostgresDatabaseProps>, string]>([
    ['an upper-case identifier', { instanceIdentifier: 'Mlp-PG' }, 'instance identifier "Mlp-PG" is invalid'],
    ['a db. prefix', { instanceClass: 'db.m7g.large' }, 'instanceClass must look like m7g.2xlarge (no db. prefix)'],
    ['10 GiB of storage', { allocatedStorageGiB: 10 }, 'allocatedStorageGiB must be 20 to 65536 (gp3), got 10'],
    [
      'a ceiling below the size',
      { maxAllocatedStorageGiB: 1000 },
      'maxAllocatedStorageGiB must be between allocatedStorageGiB (2048) and 65536',
    ],
    ['36 days of backups', { backupRetention: Duration.days(36) }, 'backupRetention must be 1 to 35 days'],
    ['no backups', { backupRetention: Duration.days(0) }, 'point-in-time recovery needs at least 1'],
    ['no clients', { clientCidrs: [] }, 'clientCidrs must name at least one client CIDR block'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
