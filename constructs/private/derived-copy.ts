import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Node metadata key that marks a resource of a stateful type as a derived copy. */
export const DERIVED_COPY_METADATA = 'mlp:derived-copy';

/**
 * Mark a resource of a stateful type (an RDS instance) as a derived copy: it holds only what
 * another resource of the same region holds, so it may be deleted without deletion protection. The
 * stateful-resource guard accepts it only with this mark, and the reason is kept for reviewers.
 */
export function markDerivedCopy(resource: CfnResource, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`a derived copy needs a reason a reviewer can check, got "${reason}"`);
  resource.node.addMetadata(DERIVED_COPY_METADATA, reason);
}

/** The reason `resource` was marked a derived copy, if it was. */
export function derivedCopyReason(resource: IConstruct): string | undefined {
  return resource.node.metadata.find((entry) => entry.type === DERIVED_COPY_METADATA)?.data as string | undefined;
}
