import { describe, expect, test } from 'vitest';
import {
  adminClientXml,
  type ClickHouseClientSpec,
  clickHouseUser,
  clientSecretName,
  HTTPS_PORT,
  INTERSERVER_HTTPS_PORT,
  KEEPER_CLIENT_PORT,
  keeperXml,
  NATIVE_SECURE_PORT,
  openSslXml,
  serverXml,
  usersXml,
} from '../../../constructs/clickhouse';
import { parseXml, type XmlElement, type XmlValue, xmlAt, xmlList } from '../../support/xml';

const SERVER_TLS = '/etc/clickhouse-server/tls';
const CLIENTS: ClickHouseClientSpec[] = [
  { namespace: 'mlp', access: 'write' },
  { namespace: 'mlp', access: 'read' },
  { namespace: 'analytics', access: 'read' },
];

const element = (value: XmlValue): XmlElement => value as XmlElement;

describe('server ports', () => {
  const config = element(xmlAt(parseXml(serverXml(openSslXml(SERVER_TLS))), 'clickhouse'));

  test('only TLS ports listen: HTTPS, native TLS and interserver HTTPS', () => {
    expect(config.https_port).toBe(String(HTTPS_PORT));
    expect(config.tcp_port_secure).toBe(String(NATIVE_SECURE_PORT));
    expect(config.interserver_https_port).toBe(String(INTERSERVER_HTTPS_PORT));
    for (const plain of ['http_port', 'tcp_port', 'interserver_http_port', 'mysql_port', 'postgresql_port']) {
      expect(config[plain], plain).toEqual({ '@_remove': '1' });
    }
    expect(config).not.toHaveProperty('prometheus');
  });

  test('Prometheus metrics on the HTTPS port, before the default handlers', () => {
    const handlers = element(config.http_handlers as XmlValue);
    expect(handlers.rule).toEqual({ url: '/metrics', methods: 'GET', handler: { type: 'prometheus' } });
    expect(handlers).toHaveProperty('defaults');
  });

  test('the Kafka engine verifies MSK against the public CA bundle, with the pod role', () => {
    expect(config.kafka).toEqual({
      use_environment_credentials: 'true',
      ssl_ca_location: '/etc/ssl/certs/ca-certificates.crt',
    });
  });
});

describe('openSSL', () => {
  const openSsl = element(xmlAt(parseXml(serverXml(openSslXml(SERVER_TLS))), 'clickhouse.openSSL'));

  test.each(['server', 'client'])('%s: the pod certificate, only the private CA as trust anchor, TLS 1.2 or later', (side) => {
    expect(element(openSsl[side] as XmlValue)).toMatchObject({
      certificateFile: `${SERVER_TLS}/tls.crt`,
      privateKeyFile: `${SERVER_TLS}/tls.key`,
      caConfig: `${SERVER_TLS}/ca.crt`,
      loadDefaultCAFile: 'false',
      disableProtocols: 'sslv2,sslv3,tlsv1,tlsv1_1',
      invalidCertificateHandler: { name: 'RejectCertificateHandler' },
    });
  });

  test('clients are verified when they present a certificate; peers are always verified', () => {
    expect(element(openSsl.server as XmlValue).verificationMode).toBe('relaxed');
    expect(element(openSsl.client as XmlValue).verificationMode).toBe('strict');
  });

  test('Keeper gets the same TLS from its own directory', () => {
    const keeper = element(xmlAt(parseXml(keeperXml(3, 'clickhouse', openSslXml('/etc/clickhouse-keeper/tls'))), 'clickhouse'));
    expect(xmlAt(keeper, 'openSSL.server.certificateFile')).toBe('/etc/clickhouse-keeper/tls/tls.crt');
    expect(xmlAt(keeper, 'keeper_server.tcp_port_secure')).toBe(String(KEEPER_CLIENT_PORT));
    expect(xmlAt(keeper, 'keeper_server.raft_configuration.secure')).toBe('true');
  });
});

describe('users', () => {
  const users = element(xmlAt(parseXml(usersXml('mlp', 'clickhouse', CLIENTS)), 'clickhouse.users'));
  const grants = (user: string) => xmlList(xmlAt(users, `${user}.grants.query`));
  const commonNames = (user: string) => xmlList(xmlAt(users, `${user}.ssl_certificates.common_name`));

  test('default answers on localhost only; its network list replaces the image default', () => {
    expect(users.default).toEqual({ networks: { ip: ['::1', '127.0.0.1'], '@_replace': 'replace' } });
  });

  test('every other user authenticates by certificate common name, has no password and no host restriction', () => {
    const names = Object.keys(users).filter((name) => name !== 'default');
    expect(names).toEqual(['mlp_admin', 'mlp_interserver', 'mlp_writer', 'mlp_reader']);
    for (const name of names) {
      const user = element(users[name] as XmlValue);
      expect(user).not.toHaveProperty('password');
      expect(user).not.toHaveProperty('password_sha256_hex');
      expect(commonNames(name).length).toBeGreaterThan(0);
    }
  });

  test('admin and interserver: the certificates of their namespace roles', () => {
    expect(commonNames('mlp_admin')).toEqual(['admin.clickhouse']);
    expect(grants('mlp_admin')).toEqual(['GRANT ALL ON *.*']);
    expect(commonNames('mlp_interserver')).toEqual(['server.clickhouse']);
    expect(grants('mlp_interserver')).toEqual([
      'GRANT SELECT, INSERT ON mlp.*',
      'GRANT SELECT ON system.*',
      'GRANT CREATE TEMPORARY TABLE ON *.*',
    ]);
  });

  test('writers insert and select, readers select with a readonly=2 profile, one certificate per client namespace', () => {
    expect(commonNames(clickHouseUser('write'))).toEqual(['writer.mlp']);
    expect(grants(clickHouseUser('write'))).toEqual(['GRANT SELECT, INSERT ON mlp.*']);
    expect(commonNames(clickHouseUser('read'))).toEqual(['reader.mlp', 'reader.analytics']);
    expect(grants(clickHouseUser('read'))).toEqual(['GRANT SELECT ON mlp.*']);
    expect(xmlAt(users, 'mlp_reader.profile')).toBe('mlp_reader');
    expect(xmlAt(parseXml(usersXml('mlp', 'clickhouse', CLIENTS)), 'clickhouse.profiles.mlp_reader.readonly')).toBe('2');
  });

  test('no clients with an access: no such user', () => {
    const onlyReaders = element(xmlAt(parseXml(usersXml('mlp', 'clickhouse', [{ namespace: 'mlp', access: 'read' }])), 'clickhouse.users'));
    expect(onlyReaders).not.toHaveProperty('mlp_writer');
    expect(onlyReaders).toHaveProperty('mlp_reader');
  });

  test('client Secrets are named by access', () => {
    expect([clientSecretName('read'), clientSecretName('write')]).toEqual(['clickhouse-reader-tls', 'clickhouse-writer-tls']);
  });
});

describe('admin client', () => {
  test('clickhouse-client as mlp_admin over TLS, presenting the admin certificate and verifying the server', () => {
    const config = element(xmlAt(parseXml(adminClientXml()), 'config'));
    expect(config.user).toBe('mlp_admin');
    expect(config.secure).toBe('true');
    expect(xmlAt(config, 'openSSL.client')).toMatchObject({
      certificateFile: '/etc/clickhouse-client/tls/tls.crt',
      privateKeyFile: '/etc/clickhouse-client/tls/tls.key',
      caConfig: '/etc/clickhouse-client/tls/ca.crt',
      loadDefaultCAFile: 'false',
      verificationMode: 'strict',
    });
  });
});
