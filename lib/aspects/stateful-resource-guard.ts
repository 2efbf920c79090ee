import { Annotations, CfnDeletionPolicy, CfnResource, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { derivedCopyReason } from '../../constructs/private/derived-copy';

/**
 * CloudFormation types that hold data. Each must be retained (or snapshotted) on delete and on
 * replacement; the property named here, if any, must also turn deletion protection on.
 */
export const STATEFUL_RESOURCE_TYPES: Readonly<Record<string, string | undefined>> = {
  'AWS::S3::Bucket': undefined,
  'AWS::KMS::Key': undefined,
  'AWS::RDS::DBInstance': 'DeletionProtection',
  'AWS::RDS::DBCluster': 'DeletionProtection',
  'AWS::RDS::GlobalCluster': 'DeletionProtection',
  'AWS::ElastiCache::ReplicationGroup': undefined,
  'AWS::ElastiCache::GlobalReplicationGroup': undefined,
  'AWS::MSK::Cluster': undefined,
  'AWS::Cassandra::Keyspace': undefined,
  'AWS::Cassandra::Table': undefined,
  'AWS::Backup::BackupVault': undefined,
  'AWS::SecretsManager::Secret': undefined,
  'AWS::Logs::LogGroup': undefined,
};

const KEEPING_POLICIES = new Set<CfnDeletionPolicy>([CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.SNAPSHOT]);

/**
 * Fails synthesis when a stateful resource could be deleted by CloudFormation: a stack delete, a
 * resource removed from the code, or a replacement must never destroy data.
 *
 * A resource marked as a derived copy (`markDerivedCopy`, e.g. an in-region read replica) holds
 * nothing its same-region source does not, and is exempt; the mark carries the reason.
 */
export class StatefulResourceGuard implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || !(node.cfnResourceType in STATEFUL_RESOURCE_TYPES)) return;
    if (derivedCopyReason(node) !== undefined) return;
    const { deletionPolicy, updateReplacePolicy } = node.cfnOptions;
    if (!deletionPolicy || !KEEPING_POLICIES.has(deletionPolicy)) {
      Annotations.of(node).addError(
        `${node.cfnResourceType} must have DeletionPolicy Retain or Snapshot, has ${deletionPolicy ?? 'Delete'}`,
      );
    }
    if (!updateReplacePolicy || !KEEPING_POLICIES.has(updateReplacePolicy)) {
      Annotations.of(node).addError(
        `${node.cfnResourceType} must have UpdateReplacePolicy Retain or Snapshot, has ${updateReplacePolicy ?? 'Delete'}`,
      );
    }
    const protectionProperty = STATEFUL_RESOURCE_TYPES[node.cfnResourceType];
    if (protectionProperty) {
      // L1 classes expose each CloudFormation property as a public camel-case attribute.
      const attribute = protectionProperty.charAt(0).toLowerCase() + protectionProperty.slice(1);
      if ((node as unknown as Record<string, unknown>)[attribute] !== true) {
        Annotations.of(node).addError(`${node.cfnResourceType} must set ${protectionProperty}: true`);
      }
    }
  }
}
