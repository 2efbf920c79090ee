import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

export interface SdkCallResourceProps {
  /** `Custom::<Name>` type of the resource. */
  readonly resourceType: string;
  /** What the provider does, for its role's description. */
  readonly description: string;
  readonly onCreate: cr.AwsSdkCall;
  /** @default onCreate */
  readonly onUpdate?: cr.AwsSdkCall;
  /** @default - nothing is called on delete */
  readonly onDelete?: cr.AwsSdkCall;
  /** Everything the calls need, and nothing more. */
  readonly statements: iam.PolicyStatement[];
  /**
   * Encrypts the provider's log group; its policy must admit CloudWatch Logs of the region
   * (`cloudWatchLogsKeyStatement`).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * An `AwsCustomResource` whose provider function has its own role and log group, so it holds no
 * AWS managed policy and writes nowhere but its own logs. Creates `ProviderLogs`, `ProviderRole` and
 * `Resource` in `scope`.
 */
export function sdkCallResource(scope: Construct, props: SdkCallResourceProps): cr.AwsCustomResource {
  const logGroup = new logs.LogGroup(scope, 'ProviderLogs', {
    retention: logs.RetentionDays.ONE_YEAR,
    encryptionKey: props.logEncryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const role = new iam.Role(scope, 'ProviderRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
  });
  logGroup.grantWrite(role);
  return new cr.AwsCustomResource(scope, 'Resource', {
    role,
    logGroup,
    resourceType: props.resourceType,
    onCreate: props.onCreate,
    onUpdate: props.onUpdate ?? props.onCreate,
    onDelete: props.onDelete,
    installLatestAwsSdk: false,
    policy: cr.AwsCustomResourcePolicy.fromStatements(props.statements),
  });
}
