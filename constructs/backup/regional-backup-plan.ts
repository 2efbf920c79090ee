import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';

/** One backup rule: when it runs, how long its recovery points live, whether they leave the region. */
export interface BackupRuleSpec {
  /** Rule name: letters, digits, hyphens, underscores, dots. */
  readonly name: string;
  /** EventBridge cron expression, in UTC. */
  readonly schedule: string;
  readonly retention: Duration;
  /**
   * Copy each recovery point to the copy region's vault, kept as long as the original.
   * @default false
   */
  readonly copyToOtherRegion?: boolean;
}

/** Hourly, daily and weekly backups; every schedule is an EventBridge cron expression in UTC. */
export interface TieredBackupSchedule {
  readonly hourlySchedule: string;
  readonly dailySchedule: string;
  readonly weeklySchedule: string;
  readonly hourlyRetentionDays: number;
  readonly dailyRetentionDays: number;
  readonly weeklyRetentionDays: number;
}

/** The rules of a tiered schedule: hourly points stay in the region, daily and weekly ones are also copied out of it. */
export function tieredBackupRules(schedule: TieredBackupSchedule): BackupRuleSpec[] {
  return [
    { name: 'hourly', schedule: schedule.hourlySchedule, retention: Duration.days(schedule.hourlyRetentionDays) },
    { name: 'daily', schedule: schedule.dailySchedule, retention: Duration.days(schedule.dailyRetentionDays), copyToOtherRegion: true },
    { name: 'weekly', schedule: schedule.weeklySchedule, retention: Duration.days(schedule.weeklyRetentionDays), copyToOtherRegion: true },
  ];
}

/**
 * AWS Backup Vault Lock. `governance` can be lifted by a principal allowed to; `compliance` cannot
 * be lifted by anyone once its grace period ends.
 */
export type VaultLock = 'off' | 'governance' | 'compliance';

/** Days a compliance-mode lock can still be removed after it is set (AWS's minimum grace period). */
export const COMPLIANCE_GRACE_DAYS = 3;

export interface RegionalBackupPlanProps {
  /** Vault name, the same in every region so copy rules can name the destination. */
  readonly vaultName: string;
  /** Encrypts the vault's recovery points. */
  readonly encryptionKey: kms.IKey;
  readonly rules: readonly BackupRuleSpec[];
  /**
   * Region whose vault of the same name receives the copies.
   * @default - no cross-region copies; then no rule may set `copyToOtherRegion`
   */
  readonly copyRegion?: string;
  /** What the plan backs up, by ARN. */
  readonly resources: readonly backup.BackupResource[];
  /**
   * Vault Lock. `governance` forbids deleting recovery points before their retention ends, unless a
   * principal allowed to bypass it does so; `compliance` cannot be lifted once its grace period ends.
   * @default 'off'
   */
  readonly vaultLock?: VaultLock;
}

/**
 * The backups of one region: an encrypted vault that outlives the stack, a plan of scheduled rules
 * with optional copies to another region's vault, and a selection of the region's stores.
 */
export class RegionalBackupPlan extends Construct {
  public readonly vault: backup.BackupVault;
  public readonly plan: backup.BackupPlan;

  constructor(scope: Construct, id: string, props: RegionalBackupPlanProps) {
    super(scope, id);
    validate(this, props);
    const stack = Stack.of(this);
    const retentions = props.rules.map((rule) => rule.retention.toDays());
    const lock = props.vaultLock ?? 'off';

    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.vaultName,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration:
        lock === 'off'
          ? undefined
          : {
              minRetention: Duration.days(Math.min(...retentions)),
              maxRetention: Duration.days(Math.max(...retentions)),
              changeableFor: lock === 'compliance' ? Duration.days(COMPLIANCE_GRACE_DAYS) : undefined,
            },
    });

    const copyVault = props.copyRegion
      ? backup.BackupVault.fromBackupVaultArn(
          this,
          'CopyVault',
          Arn.format(
            {
              service: 'backup',
              region: props.copyRegion,
              resource: 'backup-vault',
              resourceName: props.vaultName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        )
      : undefined;

    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: props.vaultName,
      backupVault: this.vault,
      backupPlanRules: props.rules.map(
        (rule) =>
          new backup.BackupPlanRule({
            ruleName: rule.name,
            scheduleExpression: events.Schedule.expression(rule.schedule),
            deleteAfter: rule.retention,
            startWindow: Duration.hours(1),
            completionWindow: Duration.hours(8),
            copyActions:
              rule.copyToOtherRegion && copyVault ? [{ destinationBackupVault: copyVault, deleteAfter: rule.retention }] : undefined,
          }),
      ),
    });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup role of ${props.vaultName}`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AWSBackupServiceRolePolicyForS3Backup'),
      ],
    });
    for (const policy of ['service-role/AWSBackupServiceRolePolicyForBackup', 'AWSBackupServiceRolePolicyForS3Backup']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
        reason:
          'AWS-maintained policy AWS Backup documents for its service role; it tracks every API the backup of RDS and S3 needs and is assumable by AWS Backup only.',
      });
    }
    this.plan.addSelection('Selection', { resources: [...props.resources], role });
  }
}

function validate(scope: Construct, props: RegionalBackupPlanProps): void {
  const fail = (message: string) => {
    throw new ValidationError(message, scope);
  };
  const region = Stack.of(scope).region;
  if (props.rules.length === 0) fail('rules must list at least one backup rule');
  if (props.resources.length === 0) fail('resources must list at least one resource to back up');
  for (const rule of props.rules) {
    if (!/^cron\(.+\)$/.test(rule.schedule)) {
      fail(`rule ${rule.name}: schedule must be a cron(...) expression, got ${rule.schedule}`);
    }
    const days = rule.retention.toDays({ integral: false });
    if (days < 1) fail(`rule ${rule.name}: retention must be at least 1 day, got ${days}`);
    if (rule.copyToOtherRegion && !props.copyRegion) {
      fail(`rule ${rule.name} copies to another region, but no copyRegion is set`);
    }
  }
  if (props.copyRegion && !Token.isUnresolved(region) && props.copyRegion === region) {
    fail(`copyRegion must be another region than ${region}, the vault's own`);
  }
}
