import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AccessLogsBucket, ArtifactBucket } from '../../constructs/artifacts';
import { artifactBucketName, dataKeyAlias } from '../config';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/**
 * The region's stateful resources. Termination protection is on, every store is retained on delete,
 * and the construct ids below are part of the stack's contract: renaming one replaces the resource
 * (test/stateful-logical-ids.test.ts holds them).
 */
export class DataStack extends RegionalStack {
  public readonly dataKey: kms.Key;
  public readonly artifactBucket: s3.Bucket;

  constructor(scope: Construct, props: RegionalStackProps) {
    super(scope, 'data', { ...props, terminationProtection: true });
    const tier = this.config.tier;

    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: dataKeyAlias(tier.name),
      description: `Encrypts the ${tier.name} platform's data stores in ${this.region}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const accessLogs = new AccessLogsBucket(this, 'AccessLogs');
    this.artifactBucket = new ArtifactBucket(this, 'Artifacts', {
      bucketName: artifactBucketName(tier.name, this.account, this.region),
      encryptionKey: this.dataKey,
      accessLogsBucket: accessLogs.bucket,
      lifecycle: tier.artifacts,
    }).bucket;
  }
}
