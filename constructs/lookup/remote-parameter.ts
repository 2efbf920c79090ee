import { Arn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { sdkCallResource } from '../private/sdk-call';

export interface RemoteParameterProps {
  /** Name of the SSM parameter in `region`. */
  readonly parameterName: string;
  /** The region that holds it. */
  readonly region: string;
  /**
   * Encrypts the log group of the function that reads the parameter; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * Reads an SSM parameter of another region at deploy time: how a stack learns an identifier that
 * another region's stack creates and config cannot derive (a Global Datastore id, whose prefix
 * ElastiCache chooses; an MSK cluster ARN, which holds a generated uuid). Stacks in different regions
 * cannot reference each other, so the owner publishes the value and the reader reads it here.
 *
 * The value is read when the resource is created, and again only when `parameterName` or `region`
 * change: later deployments of the reader never call the other region, so they keep working while
 * it is down.
 */
export class RemoteParameter extends Construct {
  public readonly value: string;

  constructor(scope: Construct, id: string, props: RemoteParameterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const parameterArn = Arn.format(
      { service: 'ssm', region: props.region, resource: 'parameter', resourceName: props.parameterName.replace(/^\//, '') },
      stack,
    );
    const read: cr.AwsSdkCall = {
      service: 'SSM',
      action: 'getParameter',
      parameters: { Name: props.parameterName },
      region: props.region,
      physicalResourceId: cr.PhysicalResourceId.of(`${props.region}:${props.parameterName}`),
    };
    const resource = sdkCallResource(this, {
      resourceType: 'Custom::RemoteParameter',
      description: `Reads ${props.parameterName} in ${props.region}`,
      onCreate: read,
      logEncryptionKey: props.logEncryptionKey,
      statements: [new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] })],
    });
    this.value = resource.getResponseField('Parameter.Value');
  }
}
