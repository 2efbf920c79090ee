import { Token } from 'aws-cdk-lib';
import { ApiObject } from 'cdk8s';
import type { Construct, IConstruct } from 'constructs';
import { validateDnsSubdomain } from './k8s';
import { ValidationError } from './validation-error';

/** A cert-manager issuer, e.g. the cluster's internal CA (`ClusterIssuer` `mlp-internal-ca`). */
export interface CertificateIssuer {
  readonly kind: 'ClusterIssuer' | 'Issuer';
  readonly name: string;
}

/** Lifetime and renewal of the platform's leaf certificates, ours: cert-manager's defaults. */
export const DEFAULT_CERTIFICATE_DURATION_HOURS = 2160;
export const DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS = 720;

/**
 * Mode of mounted certificate Secret files: readable by their owner and by the pod's fsGroup (the
 * containers' group), writable by nobody. Private keys must not be world-readable.
 */
export const SECRET_FILE_MODE = 0o440;

export interface LeafCertificateProps {
  /** Name of the Certificate object. */
  readonly name: string;
  /** @default - the chart's namespace */
  readonly namespace?: string;
  /** Secret cert-manager writes (`tls.crt`, `tls.key`, `ca.crt`). */
  readonly secretName: string;
  readonly commonName: string;
  /** @default - none */
  readonly dnsNames?: readonly string[];
  /** @default - none */
  readonly ipAddresses?: readonly string[];
  /**
   * Also a server certificate (`server auth`); every certificate authenticates as a client.
   * @default false
   */
  readonly server?: boolean;
  readonly issuer: CertificateIssuer;
  /** @default DEFAULT_CERTIFICATE_DURATION_HOURS */
  readonly durationHours?: number;
  /** @default DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS */
  readonly renewBeforeHours?: number;
  /** @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** cert-manager `keystores` (e.g. PKCS#12 stores for Java). @default - none */
  readonly keystores?: Readonly<Record<string, unknown>>;
}

/** A cert-manager Certificate: ECDSA P-256 with a new key at each renewal, from `issuer`. */
export function leafCertificate(scope: Construct, id: string, props: LeafCertificateProps): ApiObject {
  return new ApiObject(scope, id, {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: {
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
      ...(props.labels ? { labels: { ...props.labels } } : {}),
    },
    spec: {
      secretName: props.secretName,
      commonName: props.commonName,
      ...(props.dnsNames ? { dnsNames: [...props.dnsNames] } : {}),
      ...(props.ipAddresses ? { ipAddresses: [...props.ipAddresses] } : {}),
      duration: `${props.durationHours ?? DEFAULT_CERTIFICATE_DURATION_HOURS}h`,
      renewBefore: `${props.renewBeforeHours ?? DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS}h`,
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['digital signature', 'key encipherment', ...(props.server ? ['server auth'] : []), 'client auth'],
      ...(props.keystores ? { keystores: props.keystores } : {}),
      issuerRef: { group: 'cert-manager.io', kind: props.issuer.kind, name: props.issuer.name },
    },
  });
}

/** Throws unless `issuer` names a known kind and a DNS-1123 subdomain (a token name is taken as is). */
export function validateIssuer(scope: IConstruct, what: string, issuer: CertificateIssuer): void {
  if (issuer.kind !== 'ClusterIssuer' && issuer.kind !== 'Issuer') {
    throw new ValidationError(`${what}.kind must be 'ClusterIssuer' or 'Issuer', got '${issuer.kind}'`, scope);
  }
  if (!Token.isUnresolved(issuer.name)) validateDnsSubdomain(scope, `${what}.name`, issuer.name);
}
