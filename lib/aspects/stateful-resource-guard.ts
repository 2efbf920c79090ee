import { Annotations, CfnDeletionPolicy, CfnResource, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * CloudFormation types that hold data. Each must be retained (or snapshotted) on delete and on
 * replacement; the property named here, if any, must also turn deletion protection on.
 */
export const STATEFUL_RESOURCE_TYPES: Readonly<Record<string, string | undefined>> = {
  'AWS::S3::Bucket': undefined,
  'AWS::KMS::Key': undefined,
  'AWS::RDS::DBInstance': 'DeletionProtection',
  'AWS::RDS::DBCluster': 'DeletionProtection',
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
 */
export class StatefulResourceGuard implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || !(node.cfnResourceType in STATEFUL_RESOURCE_TYPES)) return;
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
