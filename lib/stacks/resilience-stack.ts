import type { Construct } from 'constructs';
import { BucketReplication } from '../../constructs/artifacts';
import { artifactBucketName, dataKeyAlias } from '../config';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/**
 * Disaster-recovery machinery of one region. Deployed in every region so a surviving region can
 * drive recovery alone, and after every region's data stack, because replication rules need their
 * destinations to exist.
 */
export class ResilienceStack extends RegionalStack {
  public readonly artifactReplication: BucketReplication;

  constructor(scope: Construct, props: RegionalStackProps) {
    super(scope, 'resilience', props);
    const tier = this.config.tier.name;

    // The primary replicates to every secondary. Each secondary replicates back to the primary, so
    // writes taken while failed over flow home (and queue while the primary is down), which is what
    // failback needs. Replicas are never re-replicated, so this cannot loop.
    const targets = this.regionPlan.isPrimary ? this.otherRegions : [this.primaryRegion];
    this.artifactReplication = new BucketReplication(this, 'ArtifactReplication', {
      sourceBucketName: artifactBucketName(tier, this.account, this.region),
      sourceKmsKeyAlias: dataKeyAlias(tier),
      destinations: targets.map((target) => ({
        bucketName: artifactBucketName(tier, this.account, target.name),
        region: target.name,
        kmsKeyAlias: dataKeyAlias(tier),
      })),
    });
  }
}
