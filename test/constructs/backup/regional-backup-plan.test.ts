import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { RegionalBackupPlan, type RegionalBackupPlanProps } from '../../../constructs/backup';
import { addQualityGates } from '../../../lib/quality-gates';
import { testApp } from '../../support/synth';

const BUCKET_ARN = 'arn:aws:s3:::mlp-tier1-artifacts-111122223333-us-east-1';

function build(overrides: Partial<RegionalBackupPlanProps> = {}, withGates = false) {
  const app = testApp();
  const stack = new Stack(app, 'Backups', { env: { account: '111122223333', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const plan = new RegionalBackupPlan(stack, 'Backups', {
    vaultName: 'mlp-tier1-backup',
    encryptionKey: key,
    copyRegion: 'us-west-2',
    resources: [backup.BackupResource.fromArn(BUCKET_ARN)],
    rules: [
      { name: 'hourly', schedule: 'cron(15 * * * ? *)', retention: Duration.days(7) },
      { name: 'daily', schedule: 'cron(45 4 * * ? *)', retention: Duration.days(30), copyToOtherRegion: true },
      { name: 'weekly', schedule: 'cron(45 5 ? * SUN *)', retention: Duration.days(365), copyToOtherRegion: true },
    ],
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, key, plan };
}

describe('RegionalBackupPlan', () => {
  const { stack, key } = build();
  const template = Template.fromStack(stack);

  test('keeps recovery points in a retained vault encrypted with the given key, unlocked by default', () => {
    template.hasResource('AWS::Backup::BackupVault', {
      Properties: {
        BackupVaultName: 'mlp-tier1-backup',
        EncryptionKeyArn: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    const [vault] = Object.values(template.findResources('AWS::Backup::BackupVault'));
    expect(vault?.Properties).not.toHaveProperty('LockConfiguration');
  });

  test('runs each rule on its schedule, keeps it as long as configured, and copies only where asked', () => {
    const [plan] = Object.values(template.findResources('AWS::Backup::BackupPlan'));
    const rules = plan?.Properties.BackupPlan.BackupPlanRule as Record<string, any>[];
    expect(rules.map((r) => [r.RuleName, r.ScheduleExpression, r.Lifecycle.DeleteAfterDays])).toEqual([
      ['hourly', 'cron(15 * * * ? *)', 7],
      ['daily', 'cron(45 4 * * ? *)', 30],
      ['weekly', 'cron(45 5 ? * SUN *)', 365],
    ]);
    expect(rules[0]).not.toHaveProperty('CopyActions');
    for (const rule of rules.slice(1)) {
      expect(rule.CopyActions).toEqual([
        {
          DestinationBackupVaultArn: 'arn:aws:backup:us-west-2:111122223333:backup-vault:mlp-tier1-backup',
          Lifecycle: { DeleteAfterDays: rule.Lifecycle.DeleteAfterDays },
        },
      ]);
    }
  });

  test('selects the given resources with a role only AWS Backup can assume', () => {
    template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: [BUCKET_ARN] },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'backup.amazonaws.com' } }] },
    });
  });

  test.each([
    ['governance', { MinRetentionDays: 7, MaxRetentionDays: 365 }],
    ['compliance', { MinRetentionDays: 7, MaxRetentionDays: 365, ChangeableForDays: 3 }],
  ] as const)('a %s lock bounds deletion by the shortest and longest rule', (vaultLock, lock) => {
    const { stack: locked } = build({ vaultLock });
    const [vault] = Object.values(Template.fromStack(locked).findResources('AWS::Backup::BackupVault'));
    expect(vault?.Properties.LockConfiguration).toEqual(lock);
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid backup props fail with a clear ValidationError', () => {
  test.each<[string, Partial<RegionalBackupPlanProps>, string]>([
    ['no rules', { rules: [] }, 'rules must list at least one backup rule'],
    ['no resources', { resources: [] }, 'resources must list at least one resource to back up'],
    ['a copy to its own region', { copyRegion: 'us-east-1' }, 'copyRegion must be another region than us-east-1'],
    ['a copy with no copy region', { copyRegion: undefined }, 'rule daily copies to another region, but no copyRegion is set'],
    [
      'a rate schedule',
      { rules: [{ name: 'hourly', schedule: 'rate(1 hour)', retention: Duration.days(7) }] },
      'rule hourly: schedule must be a cron(...) expression, got rate(1 hour)',
    ],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
