import type { CfnTemplate } from './assembly';

/** A Kubernetes object found in a template, with where it came from. */
export interface TemplateManifestObject {
  readonly logicalId: string;
  readonly object: Record<string, unknown>;
}

/** What a CloudFormation intrinsic inside a manifest becomes; it stands for a string at deploy time. */
export const TOKEN_PLACEHOLDER = 'cfn-token';

/**
 * Every Kubernetes object the kubectl provider will apply from this template
 * (`Custom::AWSCDK-EKS-KubernetesResource`, from `addManifest` and `addCdk8sChart`). The manifest is
 * a JSON string, joined with intrinsics where it holds references; each intrinsic is replaced by a
 * placeholder string, which is what it resolves to.
 */
export function manifestObjectsIn(template: CfnTemplate): TemplateManifestObject[] {
  const found: TemplateManifestObject[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'Custom::AWSCDK-EKS-KubernetesResource') continue;
    const text = flatten(resource.Properties?.Manifest);
    const objects = JSON.parse(text) as Record<string, unknown>[];
    for (const object of objects) found.push({ logicalId, object });
  }
  return found;
}

/**
 * Logical id of the manifest resource that applies the object of this kind and name (and namespace,
 * when given; `null` for a cluster-scoped object); throws if none does.
 */
export function manifestHolding(template: CfnTemplate, kind: string, name: string, namespace?: string | null): string {
  const found = manifestObjectsIn(template).find(({ object }) => {
    const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
    return object.kind === kind && metadata.name === name && (namespace === undefined || (metadata.namespace ?? null) === namespace);
  });
  if (!found) throw new Error(`no manifest applies ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
  return found.logicalId;
}

/** The logical ids a template's resource depends on. */
export function dependenciesOf(template: CfnTemplate, logicalId: string): string[] {
  return [template.Resources[logicalId]?.DependsOn ?? []].flat();
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && Array.isArray((value as Record<string, unknown>)['Fn::Join'])) {
    const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map((part) => (typeof part === 'string' ? part : TOKEN_PLACEHOLDER)).join(separator);
  }
  throw new Error(`unexpected manifest value ${JSON.stringify(value).slice(0, 200)}`);
}
