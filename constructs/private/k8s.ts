import { createHash } from 'node:crypto';
import { Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct, IConstruct } from 'constructs';
import { ValidationError } from './validation-error';

/** Labels every platform Kubernetes object carries. */
export const NAME_LABEL = 'app.kubernetes.io/name';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const PART_OF = 'ml-platform';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `value` is a DNS-1123 label (what Kubernetes requires of most object names). */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** Throws unless `value` is a DNS-1123 label. */
export function validateDnsLabel(scope: IConstruct, what: string, value: string): void {
  if (!isDnsLabel(value)) {
    throw new ValidationError(
      `${what} must be a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit), got '${value}'`,
      scope,
    );
  }
}

/** Throws unless `value` is an integer from `min` to `max`. */
export function validateInteger(scope: IConstruct, what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ValidationError(`${what} must be an integer ${range}, got ${value}`, scope);
  }
}

/** Throws unless `value` is a DNS-1123 subdomain. */
export function validateDnsSubdomain(scope: IConstruct, what: string, value: string): void {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ValidationError(`${what} must be a DNS-1123 subdomain, got '${value}'`, scope);
  }
}

/** Pod security of Pod Security `restricted`, running as `uid` (user and group). */
export function restrictedPodSecurity(uid: number): {
  runAsNonRoot: boolean;
  runAsUser: number;
  runAsGroup: number;
  fsGroup: number;
  seccompProfile: { type: string };
} {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } };
}

/** Container security of Pod Security `restricted`, with a read-only root file system. */
export function restrictedContainerSecurity(): {
  allowPrivilegeEscalation: boolean;
  readOnlyRootFilesystem: boolean;
  capabilities: { drop: string[] };
} {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
}

/** CPU and memory requests of one container. */
export interface ContainerResources {
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
}

/** Requests as given; memory limit = request (memory cannot be throttled, only reclaimed by killing), CPU limit `cpuLimit`. */
export function resourceRequirements(requests: ContainerResources, cpuLimit: string): kplus.k8s.ResourceRequirements {
  const memory = kplus.k8s.Quantity.fromString(`${requests.memoryMiB}Mi`);
  return {
    requests: { cpu: kplus.k8s.Quantity.fromString(`${requests.cpuMillicores}m`), memory },
    limits: { cpu: kplus.k8s.Quantity.fromString(cpuLimit), memory },
  };
}

/** A namespace where Pod Security Admission enforces `restricted`, which every platform container meets. */
export function restrictedNamespace(scope: Construct, name: string): kplus.k8s.KubeNamespace {
  const namespace = new kplus.k8s.KubeNamespace(scope, 'Namespace', {
    metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', [PART_OF_LABEL]: PART_OF } },
  });
  // A chart's namespace goes on every object; a Namespace is cluster-scoped and has none.
  if (Chart.of(scope).namespace !== undefined) namespace.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  return namespace;
}

/** Short content hash, to roll pods (or name Jobs) when their configuration changes. */
export function contentHash(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 10);
}

/**
 * Replace CDK token markers, whose numbering is not stable between syntheses, before hashing. The
 * placeholder is part of the hashes that name existing Jobs, so each caller keeps its own.
 */
export function maskTokens(text: string, placeholder = '<token>'): string {
  return text.replace(/\$\{Token\[[^\]]*\]\}/g, placeholder);
}
