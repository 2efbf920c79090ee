import { describe, expect, test } from 'vitest';
import {
  BACKUP_SIDECAR_RESOURCES,
  clickHouseTopology,
  KEEPER_CLIENT_PORT,
  KEEPER_ID_ENV,
  KEEPER_RAFT_PORT,
  keeperXml,
  macrosXml,
  NATIVE_SECURE_PORT,
  openSslXml,
  REPLICA_ENV,
  remoteServersXml,
  SHARD_ENV,
  serverResources,
  zookeeperXml,
} from '../../../constructs/clickhouse';

/** `remote_servers` of one cluster as shards of replicas, read back with regular expressions. */
function parseRemoteServers(xml: string, clusterName: string) {
  const cluster = new RegExp(
    `<clickhouse>\\s*<remote_servers>\\s*<${clusterName}>([\\s\\S]*)</${clusterName}>\\s*</remote_servers>\\s*</clickhouse>`,
  ).exec(xml);
  if (!cluster) throw new Error(`no <remote_servers><${clusterName}> in\n${xml}`);
  return [...(cluster[1] as string).matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map(([, body]) => ({
    internalReplication: /<internal_replication>(\w+)<\/internal_replication>/.exec(body as string)?.[1],
    replicas: [
      ...(body as string).matchAll(
        /<replica><host>([^<]+)<\/host><port>(\d+)<\/port><secure>(\d)<\/secure><user>(\w+)<\/user><\/replica>/g,
      ),
    ].map(([, host, port, secure, user]) => ({ host, port: Number(port), secure, user })),
  }));
}

describe('clickHouseTopology', () => {
  test('names shards from 1 and replicas by StatefulSet ordinal', () => {
    expect(clickHouseTopology(2, 3)).toEqual({
      replicasPerShard: 3,
      shards: [
        { shard: 1, name: 'clickhouse-shard1', pods: ['clickhouse-shard1-0', 'clickhouse-shard1-1', 'clickhouse-shard1-2'] },
        { shard: 2, name: 'clickhouse-shard2', pods: ['clickhouse-shard2-0', 'clickhouse-shard2-1', 'clickhouse-shard2-2'] },
      ],
    });
  });

  test.each([
    [0, 2],
    [2, 0],
    [1.5, 2],
  ])('rejects %s x %s', (shards, replicas) => {
    expect(() => clickHouseTopology(shards, replicas)).toThrow(`got ${shards} x ${replicas}`);
  });
});

describe('remoteServersXml', () => {
  test.each([
    [1, 2],
    [3, 2],
    [8, 2],
    [20, 3],
  ])(
    '%i shards x %i replicas: every replica once, through its shard headless Service, over TLS as the interserver user, internal replication on',
    (shards, replicas) => {
      const parsed = parseRemoteServers(
        remoteServersXml(clickHouseTopology(shards, replicas), 'mlp', 'clickhouse', 'mlp_interserver'),
        'mlp',
      );

      expect(parsed).toHaveLength(shards);
      const hosts = parsed.flatMap((shard) => shard.replicas.map((replica) => replica.host));
      expect(hosts).toHaveLength(shards * replicas);
      expect(new Set(hosts).size).toBe(shards * replicas);
      parsed.forEach((shard, s) => {
        expect(shard.internalReplication).toBe('true');
        expect(shard.replicas).toEqual(
          Array.from({ length: replicas }, (_, r) => ({
            host: `clickhouse-shard${s + 1}-${r}.clickhouse-shard${s + 1}.clickhouse.svc.cluster.local`,
            port: NATIVE_SECURE_PORT,
            secure: '1',
            user: 'mlp_interserver',
          })),
        );
      });
    },
  );

  test('the cluster element carries the cluster name', () => {
    const xml = remoteServersXml(clickHouseTopology(1, 2), 'analytics', 'ch', 'mlp_interserver');
    expect(parseRemoteServers(xml, 'analytics')[0]?.replicas[1]?.host).toBe('clickhouse-shard1-1.clickhouse-shard1.ch.svc.cluster.local');
  });
});

describe('macros, Keeper client and Raft configuration', () => {
  test('macros: cluster literal, shard and replica from the environment', () => {
    const xml = macrosXml('mlp');
    expect(xml).toContain('<cluster>mlp</cluster>');
    expect(xml).toContain(`<shard from_env="${SHARD_ENV}"/>`);
    expect(xml).toContain(`<replica from_env="${REPLICA_ENV}"/>`);
  });

  test.each([3, 5])('servers list all %i Keeper members on the TLS client port', (members) => {
    const nodes = [
      ...zookeeperXml(members, 'clickhouse').matchAll(/<node><host>([^<]+)<\/host><port>(\d+)<\/port><secure>1<\/secure><\/node>/g),
    ];
    expect(nodes.map(([, host, port]) => [host, Number(port)])).toEqual(
      Array.from({ length: members }, (_, i) => [
        `clickhouse-keeper-${i}.clickhouse-keeper.clickhouse.svc.cluster.local`,
        KEEPER_CLIENT_PORT,
      ]),
    );
  });

  test.each([3, 5])('Raft membership of %i members over TLS: ids 1..n, each on its DNS name and the Raft port', (members) => {
    const xml = keeperXml(members, 'clickhouse', openSslXml('/etc/clickhouse-keeper/tls'));
    const servers = [...xml.matchAll(/<server><id>(\d+)<\/id><hostname>([^<]+)<\/hostname><port>(\d+)<\/port><\/server>/g)];
    expect(servers.map(([, id, host, port]) => [Number(id), host, Number(port)])).toEqual(
      Array.from({ length: members }, (_, i) => [
        i + 1,
        `clickhouse-keeper-${i}.clickhouse-keeper.clickhouse.svc.cluster.local`,
        KEEPER_RAFT_PORT,
      ]),
    );
    expect(xml).toContain(`<server_id from_env="${KEEPER_ID_ENV}"/>`);
    expect(xml).toContain(`<tcp_port_secure>${KEEPER_CLIENT_PORT}</tcp_port_secure>`);
    expect(xml).not.toContain('<tcp_port>');
    expect(xml).toContain('<raft_configuration>\n      <secure>true</secure>');
    expect(xml).toContain('<certificateFile>/etc/clickhouse-keeper/tls/tls.crt</certificateFile>');
  });
});

describe('serverResources', () => {
  test.each([
    // [000] tier shapes: 16/64, 32/128, 64/256; dev 4/16.
    [4, 16, 3400, 13926],
    [16, 64, 13600, 55705],
    [64, 256, 54400, 222822],
  ])('%i vCPU / %i GiB node: the pod requests 85 %%, the backup sidecar included', (vcpus, memoryGiB, podCpu, podMemory) => {
    const server = serverResources(vcpus, memoryGiB);
    expect(server.cpuMillicores + BACKUP_SIDECAR_RESOURCES.cpuMillicores).toBe(podCpu);
    expect(server.memoryMiB + BACKUP_SIDECAR_RESOURCES.memoryMiB).toBe(podMemory);
  });
});
