import { Arn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { sdkCallResource } from '../private/sdk-call';

export interface GlobalDatastoreIdLookupProps {
  /** SSM parameter, in `region`, that holds the global datastore id. */
  readonly parameterName: string;
  /** Region of the global primary. */
  readonly region: string;
}

/**
 * Reads the id of a Global Datastore from an SSM parameter in the primary's region, at deploy time.
 *
 * ElastiCache prefixes every global id with a region-specific string that no API documents, so a
 * member cannot derive the id from config. Stacks in different regions cannot reference each other,
 * so the primary publishes the id and each member reads it once, when it is created.
 */
export class GlobalDatastoreIdLookup extends Construct {
  public readonly globalDatastoreId: string;

  constructor(scope: Construct, id: string, props: GlobalDatastoreIdLookupProps) {
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
      resourceType: 'Custom::GlobalDatastoreIdLookup',
      description: `Reads ${props.parameterName} in ${props.region}`,
      onCreate: read,
      statements: [new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] })],
    });
    this.globalDatastoreId = resource.getResponseField('Parameter.Value');
  }
}
