import { join } from 'node:path';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeModuleIam, acknowledgeNist } from '../private/nag';

export interface KeyspaceRegionsProps {
  /** The keyspace, created single-Region in this stack's Region. */
  readonly keyspaceName: string;
  /** Every Region the keyspace must be in, this stack's first. */
  readonly regions: readonly string[];
  /**
   * How long one deployment may wait for Keyspaces to add the Regions (each is a cross-Region
   * restore of every table).
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * Encrypts the log group of the functions and the waiter state machine; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * Extends a keyspace to more Regions through the Keyspaces `UpdateKeyspace` API, one Region at a
 * time, waiting for each. The keyspace's own replication specification stays as created, so adding
 * (or removing) a Region never replaces the keyspace or its tables: CloudFormation's resource
 * specification treats that property as create-only. Keyspaces cannot remove a Region from a
 * keyspace; a Region dropped from `regions` keeps its replica until an operator deletes the data.
 */
export class KeyspaceRegions extends Construct {
  public readonly resource: CustomResource;
  /** The Regions the keyspace is in once the resource is complete, comma-separated. */
  public readonly replicatedRegions: string;

  constructor(scope: Construct, id: string, props: KeyspaceRegionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const entry = join(import.meta.dirname, 'keyspace-regions', 'handler.ts');
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Adds Regions to keyspace ${props.keyspaceName} with UpdateKeyspace`,
    });
    logGroup.grantWrite(role);
    // UpdateKeyspace's documented permissions, on the keyspace and its tables in each of its Regions.
    const keyspaceArns = props.regions.flatMap((region) => {
      const keyspace = stack.formatArn({
        service: 'cassandra',
        region,
        resource: `/keyspace/${props.keyspaceName}/`,
        arnFormat: ArnFormat.NO_RESOURCE_NAME,
      });
      return [keyspace, `${keyspace}table/*`];
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'cassandra:Select',
          'cassandra:SelectMultiRegionResource',
          'cassandra:Alter',
          'cassandra:AlterMultiRegionResource',
          'cassandra:Create',
          'cassandra:CreateMultiRegionResource',
          'cassandra:Modify',
          'cassandra:ModifyMultiRegionResource',
        ],
        resources: keyspaceArns,
      }),
    );
    // Tables in provisioned mode carry auto scaling to the new Region; Application Auto Scaling has
    // no resource-level permissions.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'application-autoscaling:RegisterScalableTarget',
          'application-autoscaling:DeregisterScalableTarget',
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:PutScalingPolicy',
          'application-autoscaling:DescribeScalingPolicies',
        ],
        resources: ['*'],
      }),
    );

    const handler = (name: string, handlerName: string) => {
      const fn = new nodejs.NodejsFunction(this, name, {
        entry,
        handler: handlerName,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        role,
        logGroup,
        timeout: Duration.minutes(1),
        description: `Keyspace ${props.keyspaceName}: ${handlerName}`,
        bundling: { minify: true, target: 'node24', externalModules: ['@aws-sdk/*'] },
      });
      acknowledgeNist(
        fn,
        'LambdaConcurrency',
        'A custom resource handler: it runs only while CloudFormation deploys this stack, one call at a time for one keyspace.',
      );
      acknowledgeNist(
        fn,
        'LambdaDLQ',
        'Invoked synchronously by the provider framework, which returns every error to CloudFormation and fails the deployment; a DLQ only receives failed asynchronous invocations.',
      );
      acknowledgeNist(
        fn,
        'LambdaInsideVPC',
        'Calls only the Amazon Keyspaces and Application Auto Scaling APIs, no resource inside a VPC; a VPC would add NAT or endpoint dependencies to the deployment.',
      );
      return fn;
    };
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler('OnEvent', 'onEvent'),
      isCompleteHandler: handler('IsComplete', 'isComplete'),
      queryInterval: Duration.minutes(1),
      totalTimeout: props.timeout ?? Duration.hours(2),
      logGroup,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'The provider framework’s waiter state machine (aws-cdk-lib) offers no tracing setting; it only polls the isComplete handler, whose calls are logged.',
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KeyspaceRegions',
      properties: { KeyspaceName: props.keyspaceName, Regions: [...props.regions] },
    });
    this.replicatedRegions = this.resource.getAttString('Regions');

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Application Auto Scaling actions support no resource-level permissions; UpdateKeyspace needs them to carry the tables’ provisioned auto scaling to a new Region.',
    });
    for (const arn of keyspaceArns.filter((a) => a.endsWith('*'))) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arn}]`,
        reason: 'Adding a Region replicates every table of this one keyspace; table names are the only wildcard.',
      });
    }
    acknowledgeModuleIam(
      provider,
      'The custom resource provider framework of aws-cdk-lib: its functions may invoke only this construct’s two handlers, and its waiter state machine only those functions.',
    );
  }
}
