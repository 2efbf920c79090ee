import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { sdkCallResource } from '../private/sdk-call';
import { ValidationError } from '../private/validation-error';

/** A bucket in another region that receives replicas. */
export interface ReplicationDestination {
  /** Name of the destination bucket. */
  readonly bucketName: string;
  /** Region of the destination bucket. */
  readonly region: string;
  /**
   * Alias of the KMS key, in the destination region, that encrypts replicas (e.g. `alias/mlp-tier1-data`).
   * An alias because the key's id is only known once that region is deployed.
   */
  readonly kmsKeyAlias: string;
}

export interface BucketReplicationProps {
  /** Name of the bucket whose objects are replicated; it lives in this stack's region. */
  readonly sourceBucketName: string;
  /** Alias of the KMS key that encrypts the source bucket. */
  readonly sourceKmsKeyAlias: string;
  /** One replication rule per destination, in priority order. */
  readonly destinations: readonly ReplicationDestination[];
  /**
   * Replication Time Control: 99.99 % of objects replicated within 15 minutes, with metrics and
   * missed-threshold events.
   * @default true
   */
  readonly replicationTimeControl?: boolean;
  /**
   * Encrypts the log group of the function that turns replication on; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

const RTC_MINUTES = 15;

/** A replication rule as S3 names it in its replication metrics. */
export interface BucketReplicationRule {
  readonly ruleId: string;
  readonly sourceBucketName: string;
  readonly destinationBucketName: string;
  readonly destinationRegion: string;
}

/**
 * Cross-region replication of an existing bucket to buckets in other regions, with Replication Time
 * Control, replication metrics, delete-marker replication and replica-modification sync.
 *
 * The rules are written with `PutBucketReplication` from a custom resource instead of the bucket's
 * own `ReplicationConfiguration`, because S3 refuses a rule whose destination bucket does not exist
 * yet. Primary -> secondary and secondary -> primary rules would otherwise make the first deployment
 * of every region wait for the other. Deploy this after every destination bucket exists.
 */
export class BucketReplication extends Construct {
  /** Role S3 assumes to replicate. */
  public readonly role: iam.Role;
  /** The replication configuration exactly as it is sent to S3. */
  public readonly replicationConfiguration: Record<string, unknown>;
  /** One rule per destination: what S3's replication metrics are dimensioned by (SourceBucket, DestinationBucket, RuleId). */
  public readonly rules: readonly BucketReplicationRule[];
  /** Replication Time Control's threshold, in minutes, when it is on. */
  public readonly replicationTimeControlMinutes?: number;

  constructor(scope: Construct, id: string, props: BucketReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.destinations.length === 0) {
      throw new ValidationError('destinations must name at least one bucket to replicate to', this);
    }
    const regions = props.destinations.map((d) => d.region);
    if (!Token.isUnresolved(stack.region) && regions.includes(stack.region)) {
      throw new ValidationError(
        `a destination is in ${stack.region}, the source region; cross-region replication needs another region`,
        this,
      );
    }
    if (new Set(props.destinations.map((d) => d.bucketName)).size !== props.destinations.length) {
      throw new ValidationError(`destinations name the same bucket twice: ${props.destinations.map((d) => d.bucketName).join(', ')}`, this);
    }

    const bucketArn = (name: string) =>
      stack.formatArn({ service: 's3', region: '', account: '', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const keysIn = (region: string) => stack.formatArn({ service: 'kms', region, resource: 'key', resourceName: '*' });
    const sourceArn = bucketArn(props.sourceBucketName);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: `S3 replication of ${props.sourceBucketName}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [sourceArn] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        resources: [`${sourceArn}/*`],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [keysIn(stack.region)],
        conditions: {
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': props.sourceKmsKeyAlias },
          StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
        },
      }),
    );
    for (const destination of props.destinations) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
          resources: [`${bucketArn(destination.bucketName)}/*`],
        }),
      );
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [keysIn(destination.region)],
          conditions: {
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': destination.kmsKeyAlias },
            StringEquals: { 'kms:ViaService': `s3.${destination.region}.amazonaws.com` },
          },
        }),
      );
    }

    const rtc = props.replicationTimeControl ?? true;
    if (rtc) this.replicationTimeControlMinutes = RTC_MINUTES;
    this.rules = props.destinations.map((destination) => ({
      ruleId: `to-${destination.region}`,
      sourceBucketName: props.sourceBucketName,
      destinationBucketName: destination.bucketName,
      destinationRegion: destination.region,
    }));
    this.replicationConfiguration = {
      Role: this.role.roleArn,
      Rules: props.destinations.map((destination, index) => ({
        ID: `to-${destination.region}`,
        Priority: index,
        Status: 'Enabled',
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        SourceSelectionCriteria: {
          SseKmsEncryptedObjects: { Status: 'Enabled' },
          ReplicaModifications: { Status: 'Enabled' },
        },
        Destination: {
          Bucket: bucketArn(destination.bucketName),
          EncryptionConfiguration: {
            ReplicaKmsKeyID: stack.formatArn({ service: 'kms', region: destination.region, resource: destination.kmsKeyAlias }),
          },
          ...(rtc
            ? {
                ReplicationTime: { Status: 'Enabled', Time: { Minutes: RTC_MINUTES } },
                Metrics: { Status: 'Enabled', EventThreshold: { Minutes: RTC_MINUTES } },
              }
            : { Metrics: { Status: 'Enabled' } }),
        },
      })),
    };

    const put: cr.AwsSdkCall = {
      service: 'S3',
      action: 'putBucketReplication',
      parameters: { Bucket: props.sourceBucketName, ReplicationConfiguration: this.replicationConfiguration },
      physicalResourceId: cr.PhysicalResourceId.of(`${props.sourceBucketName}-replication`),
    };
    const resource = sdkCallResource(this, {
      resourceType: 'Custom::BucketReplication',
      description: `Writes the replication configuration of ${props.sourceBucketName}`,
      onCreate: put,
      onDelete: { service: 'S3', action: 'deleteBucketReplication', parameters: { Bucket: props.sourceBucketName } },
      logEncryptionKey: props.logEncryptionKey,
      statements: [
        // PutBucketReplication and DeleteBucketReplication are both authorised by this one action.
        new iam.PolicyStatement({ actions: ['s3:PutReplicationConfiguration'], resources: [sourceArn] }),
        new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.role.roleArn] }),
      ],
    });
    resource.node.addDependency(this.role);

    const acknowledge = (resource: string, reason: string) =>
      Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${stack.resolve(resource)}]`, reason });
    for (const name of [props.sourceBucketName, ...props.destinations.map((d) => d.bucketName)]) {
      acknowledge(
        `${bucketArn(name)}/*`,
        'S3 replication acts on every object version of one named bucket; the object key is the only wildcard.',
      );
    }
    for (const region of new Set([stack.region, ...regions])) {
      acknowledge(
        keysIn(region),
        'The key id is only known after its region deploys; kms:ResourceAliases and kms:ViaService conditions limit the statement to the one aliased data key, used through S3.',
      );
    }
  }
}
