import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * Key policy statements that let EC2 Auto Scaling, which launches the instances of EKS node groups and Batch compute environments, encrypt their
 * volumes with a customer managed key.  * The service-linked role must exist when the key policy is set: it is created with the account's
 * first Auto Scaling group, or by `aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com`.
 */
export function autoScalingEbsKeyStatements(scope: Construct): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const principal = new iam.ArnPrincipal(
    stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: 'aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
    }),
  );
  return [
    new iam.PolicyStatement({
      sid: 'AutoScalingUseForEbs',
      principals: [principal],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'AutoScalingGrantsForEbs',
      principals: [principal],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
    }),
  ];
}

/**
 * A key policy for a customer managed key of this account, in place of CDK's default (the account
 * root with `kms:*`): the account's IAM policies decide who may use and administer the key, but
 * grants can only be created for AWS resources (`kms:GrantIsForAWSResource`), i.e. by an integrated
 * service acting for a caller (EBS, RDS, EKS, ...), never handed out directly by an IAM principal.
 * Pass it as `policy` of `kms.Key`; further statements are added to it as usual.
 */
export function accountKeyPolicy(): iam.PolicyDocument {
  const account = new iam.AccountRootPrincipal();
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AccountUsesAndAdministersKeyThroughIam',
        principals: [account],
        notActions: ['kms:CreateGrant'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'AccountCreatesGrantsOnlyForAwsResources',
        principals: [account],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
      }),
    ],
  });
}

/**
 * The key policy statement that lets CloudWatch Logs of the key's region encrypt this account's
 * log groups of that region with it, and no other log group (encryption-context condition).
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function cloudWatchLogsKeyStatement(scope: Construct): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid: 'CloudWatchLogsOfThisAccountAndRegion',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  });
}

/**
 * The key policy statement that lets CloudWatch alarms of this account and of the key's region
 * publish to an SNS topic encrypted with the key: SNS asks KMS for a data key on CloudWatch's behalf,
 * so CloudWatch needs `kms:GenerateDataKey*` and `kms:Decrypt` (SNS Developer Guide, "Enable
 * compatibility between event sources from AWS services and encrypted topics"). Without it the
 * alarm changes state and no notification is delivered.
 */
export function cloudWatchAlarmsKeyStatement(scope: Construct): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsOfThisAccountAndRegion',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': cloudWatchAlarmArnPattern(scope) },
    },
  });
}

/** Every CloudWatch alarm (metric or composite) of this account in the scope's region. */
export function cloudWatchAlarmArnPattern(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'cloudwatch',
    resource: 'alarm',
    resourceName: '*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
