import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { describe, expect, test } from 'vitest';
import { CrossRegionReadReplica } from '../../../constructs/postgres';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const SOURCE_ARN = 'arn:aws:rds:us-east-1:111122223333:db:mlp-tier1-metadata';

function build(sourceDbInstanceArn = SOURCE_ARN, withGates = false, backupRetention = Duration.days(35)) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Replica', 'us-west-2', '10.65.0.0/16');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const replica = new CrossRegionReadReplica(stack, 'Metadata', {
    sourceDbInstanceArn,
    instanceIdentifier: 'mlp-tier1-pg-usw2',
    engineVersion: rds.PostgresEngineVersion.VER_17,
    instanceClass: 'm7g.2xlarge',
    maxConnections: 200,
    encryptionKey: key,
    vpc,
    clientCidrs: ['10.65.0.0/18'],
    backupRetention,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, key, replica };
}

describe('CrossRegionReadReplica', () => {
  const { stack, key, replica } = build();
  const template = Template.fromStack(stack);
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };

  test("replicates the primary's ARN from its region, re-keyed with a key of its own region", () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      SourceDBInstanceIdentifier: SOURCE_ARN,
      SourceRegion: 'us-east-1',
      KmsKeyId: keyArn,
      PerformanceInsightsKMSKeyId: keyArn,
      DBInstanceClass: 'db.m7g.2xlarge',
    });
  });

  test('is private, Multi-AZ, IAM-authenticated, deletion-protected and retained', () => {
    template.hasResource('AWS::RDS::DBInstance', {
      Properties: {
        MultiAZ: true,
        PubliclyAccessible: false,
        EnableIAMDatabaseAuthentication: true,
        DeletionProtection: true,
        StorageType: 'gp3',
        MonitoringInterval: 60,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test("has its own parameter group with the primary's server settings, in its own region", () => {
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: Match.objectLike({ 'rds.force_ssl': '1', max_connections: '200', 'rds.logical_replication': '0' }),
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceIdentifier: 'mlp-tier1-pg-usw2',
      DBParameterGroupName: Match.anyValue(),
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
    });
  });

  test('accepts PostgreSQL only from the client CIDRs', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.65.0.0/18', FromPort: 5432, ToPort: 5432 })],
    });
  });

  test('sets none of the properties CloudFormation forbids on a replica', () => {
    const [instance] = Object.values(template.findResources('AWS::RDS::DBInstance'));
    for (const forbidden of ['StorageEncrypted', 'DBName', 'MasterUsername', 'MasterUserPassword', 'DBSnapshotIdentifier']) {
      expect(instance?.Properties).not.toHaveProperty(forbidden);
    }
  });

  test('keeps automated backups, so the moment a runbook promotes it, it has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 35, PreferredBackupWindow: '03:00-04:00' });
  });

  test('exposes its identity as a regional database: identifier, ARN by name, endpoint and resource id', () => {
    const logicalId = stack.getLogicalId(replica.resource);
    expect(replica.instanceIdentifier).toBe('mlp-tier1-pg-usw2');
    expect(stack.resolve(replica.instanceArn)).toBe('arn:aws:rds:us-west-2:111122223333:db:mlp-tier1-pg-usw2');
    expect(stack.resolve(replica.dbiResourceId)).toEqual({ 'Fn::GetAtt': [logicalId, 'DbiResourceId'] });
    expect(stack.resolve(replica.endpoint)).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Endpoint.Address'] }, ':', { 'Fn::GetAtt': [logicalId, 'Endpoint.Port'] }]],
    });
    expect(stack.resolve(replica.instance.instanceIdentifier)).toEqual({ Ref: logicalId });
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build(SOURCE_ARN, true);
    expect(() => app.synth()).not.toThrow();
  });

  test.each([
    [
      'arn:aws:rds:us-west-2:111122223333:db:same-region',
      "the source instance is in us-west-2, this replica's own region; a cross-region replica needs another region",
    ],
    [
      'arn:aws:rds:us-east-1:111122223333:cluster:aurora',
      'sourceDbInstanceArn must be an RDS DB instance ARN (arn:<partition>:rds:<region>:<account>:db:<id>), got arn:aws:rds:us-east-1:111122223333:cluster:aurora',
    ],
  ])('rejects %s', (arn, message) => {
    expect(() => build(arn)).toThrow(message);
  });

  test('rejects a backup retention outside 1 to 35 days', () => {
    expect(() => build(SOURCE_ARN, false, Duration.days(0))).toThrow(
      'backupRetention must be 1 to 35 days (a promoted replica needs point-in-time recovery), got 0',
    );
  });
});
