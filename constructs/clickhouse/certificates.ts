import { Construct } from 'constructs';
import { leafCertificate } from '../private/certificates';
import { pascalCase } from '../private/ids';
import { NAME_LABEL, SERVER_APP } from './k8s';
import {
  ADMIN_TLS_SECRET,
  certificateCommonName,
  clientCommonName,
  clientSecretName,
  KEEPER_TLS_SECRET,
  SERVER_TLS_SECRET,
} from './security';
import { CLUSTER_DOMAIN, type ClickHouseTopology, KEEPER_NAME, QUERY_SERVICE_NAME } from './topology';
import type { ClickHouseClientSpec, ClickHouseTlsSpec } from './types';

export interface ClickHouseCertificatesProps {
  /** Namespace of the cluster: the server, Keeper and admin certificates go there. */
  readonly namespace: string;
  /** The shards, whose replicas' DNS names the server certificate covers. */
  readonly topology: ClickHouseTopology;
  /** Each gets a certificate in its own namespace. */
  readonly clients: readonly ClickHouseClientSpec[];
  readonly tls: ClickHouseTlsSpec;
}

/**
 * One cert-manager certificate per role from the issuer: the servers (every replica's DNS name
 * through its shard's headless Service, the query Service, and localhost for the backup sidecar),
 * the Keeper members, the admin Jobs, and one per client namespace and access, in that namespace.
 * Each Certificate is named after its Secret, without `-tls`.
 */
export class ClickHouseCertificates extends Construct {
  private readonly tls: ClickHouseTlsSpec;

  constructor(scope: Construct, id: string, props: ClickHouseCertificatesProps) {
    super(scope, id);
    this.tls = props.tls;
    const ns = props.namespace;
    const service = (name: string) => [name, `${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.${CLUSTER_DOMAIN}`];
    this.certificate('ServerCertificate', ns, SERVER_TLS_SECRET, certificateCommonName('server', ns), {
      dnsNames: [
        'localhost',
        ...service(QUERY_SERVICE_NAME),
        ...props.topology.shards.map((shard) => `*.${shard.name}.${ns}.svc.${CLUSTER_DOMAIN}`),
      ],
      ipAddresses: ['127.0.0.1'],
      server: true,
    });
    this.certificate('KeeperCertificate', ns, KEEPER_TLS_SECRET, certificateCommonName('keeper', ns), {
      dnsNames: [...service(KEEPER_NAME), `*.${KEEPER_NAME}.${ns}.svc.${CLUSTER_DOMAIN}`],
      server: true,
    });
    this.certificate('AdminCertificate', ns, ADMIN_TLS_SECRET, certificateCommonName('admin', ns), {});
    for (const client of props.clients) {
      this.certificate(
        `Client${pascalCase(client.namespace)}${pascalCase(client.access)}Certificate`,
        client.namespace,
        clientSecretName(client.access),
        clientCommonName(client),
        {},
      );
    }
  }

  private certificate(
    id: string,
    namespace: string,
    secretName: string,
    commonName: string,
    options: { readonly dnsNames?: readonly string[]; readonly ipAddresses?: readonly string[]; readonly server?: boolean },
  ): void {
    leafCertificate(this, id, {
      name: secretName.replace(/-tls$/, ''),
      namespace,
      secretName,
      commonName,
      ...options,
      issuer: this.tls.issuer,
      durationHours: this.tls.durationHours,
      renewBeforeHours: this.tls.renewBeforeHours,
      labels: { [NAME_LABEL]: SERVER_APP },
    });
  }
}
