import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';

/** When objects move to cheaper storage classes, and how long old versions are kept. */
export interface ArtifactLifecycleProps {
  /** Days after which objects move to Intelligent-Tiering. */
  readonly warmAfterDays: number;
  /** Days after which objects move to Glacier Instant Retrieval (still millisecond reads). */
  readonly coldAfterDays: number;
  /** Days after which objects under `archivePrefix` move to Deep Archive. */
  readonly archiveAfterDays: number;
  /** Prefix whose objects are archived; everything else stays instantly readable. */
  readonly archivePrefix: string;
  /** Days a noncurrent object version is kept. */
  readonly noncurrentVersionExpirationDays: number;
}

export interface ArtifactBucketProps {
  /**
   * Physical bucket name. Required: replication rules in other regions address the bucket by name.
   */
  readonly bucketName: string;
  /** Customer managed key for default encryption (SSE-KMS with S3 Bucket Keys). */
  readonly encryptionKey: kms.IKey;
  /** Where server access logs go. */
  readonly accessLogsBucket: s3.IBucket;
  /** Storage tiering and version retention. */
  readonly lifecycle: ArtifactLifecycleProps;
  /**
   * What happens to the bucket when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** What a grantee may do with the objects of an artifact bucket. */
export interface ArtifactObjectsGrantOptions {
  /**
   * Object keys the grant covers.
   * @default '*' - every object
   */
  readonly keys?: string;
  /**
   * Allow deleting objects too.
   * @default false
   */
  readonly withDelete?: boolean;
}

/** A region's artifact bucket, created here or named by another stack, and what may be granted on it. */
export interface IArtifactBucket {
  readonly bucketName: string;
  /** ARN of the key the bucket's objects are encrypted with. */
  readonly encryptionKeyArn: string;
  /** Allow `grantee` to list the bucket and read and write objects under `keys` (and delete them, if asked), with the bucket's key. */
  grantReadWriteObjects(grantee: iam.IGrantable, options?: ArtifactObjectsGrantOptions): iam.Grant;
}

/** The grant every artifact bucket shares, whether created or named. */
function grantReadWriteObjects(
  bucket: s3.IBucket,
  encryptionKeyArn: string,
  grantee: iam.IGrantable,
  options: ArtifactObjectsGrantOptions = {},
): iam.Grant {
  const objects = bucket.arnForObjects(options.keys ?? '*');
  const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] })
    .combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', ...(options.withDelete ? ['s3:DeleteObject'] : [])],
        resourceArns: [objects],
      }),
    )
    .combine(iam.Grant.addToPrincipal({ grantee, actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resourceArns: [encryptionKeyArn] }));
  if (Construct.isConstruct(grantee))
    acknowledgeWildcardResource(
      grantee,
      objects,
      'The role reads and writes objects under one prefix (or all) of the one artifact bucket of its region; object keys are the only wildcard.',
    );
  return grant;
}

/**
 * Versioned, KMS-encrypted, TLS-only artifact bucket for experiment runs, checkpoints and registered
 * models. Replication to other regions is configured separately (see `BucketReplication`), because a
 * replication rule can only be written once its destination bucket exists.
 */
export class ArtifactBucket extends Construct implements IArtifactBucket {
  /**
   * An artifact bucket by its fixed name and its key's ARN: its ARN needs no reference to the stack
   * that owns it. The imported bucket is created under `scope` as `id`.
   */
  public static fromBucketName(scope: Construct, id: string, bucketName: string, encryptionKeyArn: string): IArtifactBucket {
    const bucket = s3.Bucket.fromBucketName(scope, id, bucketName);
    return {
      bucketName,
      encryptionKeyArn,
      grantReadWriteObjects: (grantee, options) => grantReadWriteObjects(bucket, encryptionKeyArn, grantee, options),
    };
  }

  public readonly bucket: s3.Bucket;
  public readonly bucketName: string;
  public readonly encryptionKeyArn: string;

  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    super(scope, id);
    this.bucketName = props.bucketName;
    this.encryptionKeyArn = props.encryptionKey.keyArn;
    const { warmAfterDays, coldAfterDays, archiveAfterDays } = props.lifecycle;
    if (!(warmAfterDays > 0 && warmAfterDays < coldAfterDays && coldAfterDays < archiveAfterDays)) {
      throw new ValidationError(
        `lifecycle days must increase: 0 < warmAfterDays (${warmAfterDays}) < coldAfterDays (${coldAfterDays}) < archiveAfterDays (${archiveAfterDays})`,
        this,
      );
    }
    if (props.lifecycle.noncurrentVersionExpirationDays < 1) {
      throw new ValidationError(
        `noncurrentVersionExpirationDays must be at least 1, got ${props.lifecycle.noncurrentVersionExpirationDays}`,
        this,
      );
    }

    this.bucket = new s3.Bucket(this, 'Resource', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${props.bucketName}/`,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'tiering',
          transitions: [
            { storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(warmAfterDays) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(coldAfterDays) },
          ],
          noncurrentVersionExpiration: Duration.days(props.lifecycle.noncurrentVersionExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        {
          id: 'archive-run-outputs',
          prefix: props.lifecycle.archivePrefix,
          transitions: [{ storageClass: s3.StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(archiveAfterDays) }],
        },
      ],
    });
  }

  public grantReadWriteObjects(grantee: iam.IGrantable, options?: ArtifactObjectsGrantOptions): iam.Grant {
    return grantReadWriteObjects(this.bucket, this.encryptionKeyArn, grantee, options);
  }
}
