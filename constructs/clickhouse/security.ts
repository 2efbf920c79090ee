import type { ClickHouseAccess, ClickHouseClientSpec } from './types';

/**
 * Who may talk to ClickHouse and how: every port speaks TLS only, with certificates from one
 * private CA (cert-manager), and every network user authenticates with a client certificate whose
 * common name names it. No password exists anywhere.
 *
 * | user | certificate (common name) | held by | may |
 * | --- | --- | --- | --- |
 * | `mlp_admin` | `admin.<namespace>` | the schema Job and the backup CronJob | everything |
 * | `mlp_interserver` | `server.<namespace>` | every server (distributed queries, inserts) | SELECT, INSERT |
 * | `mlp_writer` | `writer.<client namespace>` | clients with `write` access | SELECT, INSERT on the platform database |
 * | `mlp_reader` | `reader.<client namespace>` | clients with `read` access | SELECT on the platform database |
 * | `default` | none | processes in a server's own pod (the backup sidecar), from localhost only | everything |
 */

/** Key names cert-manager writes into a certificate's Secret. */
export const TLS_CERT_FILE = 'tls.crt';
export const TLS_KEY_FILE = 'tls.key';
export const TLS_CA_FILE = 'ca.crt';

/** Where each pod mounts its certificate Secret. */
export const SERVER_TLS_DIR = '/etc/clickhouse-server/tls';
export const KEEPER_TLS_DIR = '/etc/clickhouse-keeper/tls';
export const CLIENT_TLS_DIR = '/etc/clickhouse-client/tls';

/** Secrets (and Certificates) of the servers, the Keeper members and the admin client. */
export const SERVER_TLS_SECRET = 'clickhouse-server-tls';
export const KEEPER_TLS_SECRET = 'clickhouse-keeper-tls';
export const ADMIN_TLS_SECRET = 'clickhouse-admin-tls';

export const ADMIN_USER = 'mlp_admin';
export const INTERSERVER_USER = 'mlp_interserver';

/** The role of a client with `access`, which names its user, certificate and Secret. */
function clientRole(access: ClickHouseAccess): 'reader' | 'writer' {
  return access === 'read' ? 'reader' : 'writer';
}

/** The ClickHouse user a client with `access` logs in as. */
export function clickHouseUser(access: ClickHouseAccess): string {
  return `mlp_${clientRole(access)}`;
}

/** The Secret, in the client's namespace, holding its certificate, key and the CA (`tls.crt`, `tls.key`, `ca.crt`). */
export function clientSecretName(access: ClickHouseAccess): string {
  return `clickhouse-${clientRole(access)}-tls`;
}

/** Common name of a certificate: `<role>.<namespace>`, unique per namespace and role. */
export function certificateCommonName(role: string, namespace: string): string {
  return `${role}.${namespace}`;
}

/** Common name of a client's certificate; its ClickHouse user lists it. */
export function clientCommonName(client: ClickHouseClientSpec): string {
  return certificateCommonName(clientRole(client.access), client.namespace);
}

const xml = (lines: readonly string[]) => `${lines.join('\n')}\n`;
const PROTOCOLS = '<disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>';
const REJECT_INVALID = '<invalidCertificateHandler><name>RejectCertificateHandler</name></invalidCertificateHandler>';

/**
 * The `openSSL` section of a server or Keeper member, trusting only the private CA (the default CA
 * file is not loaded, so no public certificate passes).
 *
 * - `server`: `relaxed` verifies a client certificate when one is presented and fails the handshake
 *   if it does not chain to the CA; it admits clients without one because the kubelet's HTTPS probes
 *   present none. Such a client can log in as no user: every network user needs a certificate.
 * - `client` (outgoing: replicas, distributed queries, Keeper, Raft peers): `strict`, presenting the
 *   pod's own certificate, which is what authenticates a server to another as `mlp_interserver`.
 */
export function openSslXml(tlsDir: string): string[] {
  const files = [
    `      <certificateFile>${tlsDir}/${TLS_CERT_FILE}</certificateFile>`,
    `      <privateKeyFile>${tlsDir}/${TLS_KEY_FILE}</privateKeyFile>`,
    `      <caConfig>${tlsDir}/${TLS_CA_FILE}</caConfig>`,
    '      <loadDefaultCAFile>false</loadDefaultCAFile>',
    `      ${PROTOCOLS}`,
    `      ${REJECT_INVALID}`,
  ];
  return [
    '  <openSSL>',
    '    <server>',
    ...files,
    '      <verificationMode>relaxed</verificationMode>',
    '      <preferServerCiphers>true</preferServerCiphers>',
    '      <cacheSessions>true</cacheSessions>',
    '    </server>',
    '    <client>',
    ...files,
    '      <verificationMode>strict</verificationMode>',
    '    </client>',
    '  </openSSL>',
  ];
}

/**
 * `users.d`: the users of the table above. `default` keeps its grants but may connect from
 * localhost only; the reader's profile is `readonly = 2` (may change settings, not data).
 */
export function usersXml(database: string, namespace: string, clients: readonly ClickHouseClientSpec[]): string {
  const user = (name: string, commonNames: readonly string[], grants: readonly string[], profile = 'default') => [
    `    <${name}>`,
    '      <ssl_certificates>',
    ...commonNames.map((cn) => `        <common_name>${cn}</common_name>`),
    '      </ssl_certificates>',
    '      <networks><ip>::/0</ip></networks>',
    `      <profile>${profile}</profile>`,
    '      <quota>default</quota>',
    '      <grants>',
    ...grants.map((grant) => `        <query>${grant}</query>`),
    '      </grants>',
    `    </${name}>`,
  ];
  const clientUser = (access: ClickHouseAccess, grants: readonly string[], profile?: string) => {
    const names = clients.filter((c) => c.access === access).map(clientCommonName);
    return names.length === 0 ? [] : user(clickHouseUser(access), names, grants, profile);
  };
  return xml([
    '<clickhouse>',
    '  <profiles>',
    '    <mlp_reader><readonly>2</readonly></mlp_reader>',
    '  </profiles>',
    '  <users>',
    '    <default>',
    '      <networks replace="replace"><ip>::1</ip><ip>127.0.0.1</ip></networks>',
    '    </default>',
    ...user(ADMIN_USER, [certificateCommonName('admin', namespace)], ['GRANT ALL ON *.*']),
    ...user(
      INTERSERVER_USER,
      [certificateCommonName('server', namespace)],
      [`GRANT SELECT, INSERT ON ${database}.*`, 'GRANT SELECT ON system.*', 'GRANT CREATE TEMPORARY TABLE ON *.*'],
    ),
    ...clientUser('write', [`GRANT SELECT, INSERT ON ${database}.*`]),
    ...clientUser('read', [`GRANT SELECT ON ${database}.*`], 'mlp_reader'),
    '  </users>',
    '</clickhouse>',
  ]);
}

/**
 * `clickhouse-client` configuration of the Jobs: TLS to the secure native port as `mlp_admin`,
 * presenting the admin certificate, verifying the server against the CA.
 */
export function adminClientXml(): string {
  return xml([
    '<config>',
    `  <user>${ADMIN_USER}</user>`,
    '  <secure>true</secure>',
    '  <openSSL>',
    '    <client>',
    `      <certificateFile>${CLIENT_TLS_DIR}/${TLS_CERT_FILE}</certificateFile>`,
    `      <privateKeyFile>${CLIENT_TLS_DIR}/${TLS_KEY_FILE}</privateKeyFile>`,
    `      <caConfig>${CLIENT_TLS_DIR}/${TLS_CA_FILE}</caConfig>`,
    '      <loadDefaultCAFile>false</loadDefaultCAFile>',
    '      <verificationMode>strict</verificationMode>',
    `      ${PROTOCOLS}`,
    `      ${REJECT_INVALID}`,
    '    </client>',
    '  </openSSL>',
    '</config>',
  ]);
}
