import type { IConstruct } from 'constructs';
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
