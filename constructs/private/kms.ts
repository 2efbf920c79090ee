import { Stack } from 'aws-cdk-lib';
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
