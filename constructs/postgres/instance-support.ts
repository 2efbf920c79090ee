import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type { Construct } from 'constructs';
import { acknowledgeNist } from '../private/nag';

/** Logs every instance exports to CloudWatch Logs. */
export const EXPORTED_LOGS = ['postgresql', 'upgrade'] as const;

/** The PostgreSQL port; the same on every instance, so a promoted replica needs no client change. */
export const POSTGRES_PORT = 5432;

/** Daily automated backup window (UTC), on every instance that keeps backups. */
export const BACKUP_WINDOW = '03:00-04:00';
/** Weekly maintenance window (UTC), after the backup window. */
export const MAINTENANCE_WINDOW = 'sun:05:30-sun:06:30';

/** Settings every aws-rds instance of the platform shares, primary and in-region replicas alike. */
export function instanceDefaults(encryptionKey: kms.IKey) {
  return {
    port: POSTGRES_PORT,
    storageType: rds.StorageType.GP3,
    iamAuthentication: true,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: encryptionKey,
    cloudwatchLogsExports: [...EXPORTED_LOGS],
    autoMinorVersionUpgrade: true,
    copyTagsToSnapshot: true,
    publiclyAccessible: false,
    caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    preferredMaintenanceWindow: MAINTENANCE_WINDOW,
  } satisfies Partial<rds.DatabaseInstanceReadReplicaProps>;
}

/**
 * Server parameters of every instance, primary and replicas alike, so a promoted replica behaves as
 * the primary did.
 */
export function postgresParameters(maxConnections: number): Record<string, string> {
  return {
    'rds.force_ssl': '1',
    ssl_min_protocol_version: 'TLSv1.2',
    password_encryption: 'scram-sha-256',
    max_connections: String(maxConnections),
    // Replication to other regions is physical (RDS read replicas); nothing needs logical decoding.
    'rds.logical_replication': '0',
    log_min_duration_statement: '1000',
    log_lock_waits: '1',
  };
}

/**
 * The log groups RDS writes an instance's exports to, created up front so their retention and
 * removal policy are ours (RDS would create them with unlimited retention). The instance must
 * depend on them, or RDS creates them first and their creation fails.
 */
export function instanceLogGroups(
  scope: Construct,
  instanceIdentifier: string,
  retention: logs.RetentionDays,
  encryptionKey: kms.IKey,
): logs.LogGroup[] {
  return EXPORTED_LOGS.map(
    (log) =>
      new logs.LogGroup(scope, `Logs${log.charAt(0).toUpperCase()}${log.slice(1)}`, {
        logGroupName: `/aws/rds/instance/${instanceIdentifier}/${log}`,
        retention,
        encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
  );
}

/** Role RDS Enhanced Monitoring publishes OS metrics with. */
export function enhancedMonitoringRole(scope: Construct, id: string): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    reason: 'AWS-maintained policy that only lets RDS publish Enhanced Monitoring metrics to CloudWatch Logs.',
  });
  return role;
}

/** Acknowledge the cdk-nag rules that do not apply to an RDS read replica (encryption is inherited). */
export function acknowledgeReplicaFindings(instance: rds.CfnDBInstance | Construct): void {
  const encryption = 'Encryption is inherited from the encrypted source; CloudFormation forbids StorageEncrypted on a read replica.';
  Validations.of(instance).acknowledge({ id: 'AwsSolutions-RDS2', reason: encryption });
  acknowledgeNist(instance, 'RDSStorageEncrypted', encryption);
  acknowledgeNist(
    instance,
    'RDSInBackupPlan',
    'AWS Backup cannot back up a read replica; its source is in its region backup plan, and once promoted and deployed as the primary (-c primaryRegion) the data stack adds it to its own.',
  );
  acknowledgeDefaultPort(instance);
}

export function acknowledgeDefaultPort(instance: Construct): void {
  Validations.of(instance).acknowledge({
    id: 'AwsSolutions-RDS11',
    reason:
      'A non-default port adds no protection: the instance sits in isolated subnets behind its security group, with TLS and IAM auth.',
  });
}
