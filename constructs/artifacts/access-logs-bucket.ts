import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNist } from '../private/nag';

export interface AccessLogsBucketProps {
  /**
   * Days to keep server access logs.
   * @default 365
   */
  readonly retentionDays?: number;
}

/**
 * Target of S3 server access logs for the region's buckets. Encrypted with SSE-S3: S3 log delivery
 * cannot write to a bucket whose default encryption is SSE-KMS.
 */
export class AccessLogsBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Resource', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.retentionDays ?? 365),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
    });
    acknowledgeNist(
      this.bucket,
      'S3DefaultEncryptionKMS',
      'S3 server access logging delivers only to buckets whose default encryption is SSE-S3; SSE-KMS targets are not supported.',
    );
    acknowledgeNist(
      this.bucket,
      'S3BucketReplicationEnabled',
      "Access logs record this region's requests and are read in this region; a copy elsewhere would add nothing a region loss takes away from recovery.",
    );
  }
}
