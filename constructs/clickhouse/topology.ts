/**
 * Names, DNS names and configuration files of a ClickHouse cluster on Kubernetes, as pure functions
 * of its shape. Each shard is one StatefulSet with a headless Service of the same name, so replica
 * `r` of shard `s` is the pod `clickhouse-shard<s>-<r>`, reachable at
 * `clickhouse-shard<s>-<r>.clickhouse-shard<s>.<namespace>.svc.cluster.local`.
 */

/** DNS suffix of Services in the cluster (EKS uses the Kubernetes default). */
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * ClickHouse ports, TLS only (the defaults of the secure variants): HTTPS (also `/ping` and the
 * Prometheus `/metrics`), native protocol, and part fetches between replicas.
 */
export const HTTPS_PORT = 8443;
export const NATIVE_SECURE_PORT = 9440;
export const INTERSERVER_HTTPS_PORT = 9010;

/**
 * ClickHouse Keeper ports: clients (TLS), Raft between members (TLS), and HTTP control, which
 * serves only the readiness endpoint to the kubelet.
 */
export const KEEPER_CLIENT_PORT = 9281;
export const KEEPER_RAFT_PORT = 9234;
export const KEEPER_HTTP_CONTROL_PORT = 9182;

/** The ClusterIP Service of the query path (all server pods). */
export const QUERY_SERVICE_NAME = 'clickhouse';
/** StatefulSet and headless Service of the Keeper ensemble. */
export const KEEPER_NAME = 'clickhouse-keeper';
const SHARD_NAME_PREFIX = 'clickhouse-shard';

export interface ShardTopology {
  /** 1-based shard number; the `{shard}` macro. */
  readonly shard: number;
  /** Name of the shard's StatefulSet and of its headless Service. */
  readonly name: string;
  /** Pod names of the shard's replicas, by ordinal. */
  readonly pods: readonly string[];
}

export interface ClickHouseTopology {
  readonly replicasPerShard: number;
  readonly shards: readonly ShardTopology[];
}

/** The shards of a cluster and their replicas' stable pod names. */
export function clickHouseTopology(shards: number, replicasPerShard: number): ClickHouseTopology {
  if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(replicasPerShard) || replicasPerShard < 1) {
    throw new RangeError(`a topology needs at least 1 shard of at least 1 replica, got ${shards} x ${replicasPerShard}`);
  }
  return {
    replicasPerShard,
    shards: Array.from({ length: shards }, (_, i) => {
      const name = shardName(i + 1);
      return { shard: i + 1, name, pods: Array.from({ length: replicasPerShard }, (_, r) => `${name}-${r}`) };
    }),
  };
}

/** Name of a shard's StatefulSet and headless Service; `shard` may be a shell variable reference. */
export function shardName(shard: number | string): string {
  return `${SHARD_NAME_PREFIX}${shard}`;
}

/** DNS name of a StatefulSet pod through its headless Service. */
export function podDnsName(pod: string, service: string, namespace: string): string {
  return `${pod}.${service}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** DNS names of a shard's replicas, by ordinal. */
export function shardHosts(shard: ShardTopology, namespace: string): string[] {
  return shard.pods.map((pod) => podDnsName(pod, shard.name, namespace));
}

/** DNS names of the Keeper members, by ordinal; member `i` has Raft id `i + 1`. */
export function keeperHosts(keeperNodes: number, namespace: string): string[] {
  return Array.from({ length: keeperNodes }, (_, i) => podDnsName(`${KEEPER_NAME}-${i}`, KEEPER_NAME, namespace));
}

const xml = (lines: readonly string[]) => `${lines.join('\n')}\n`;

/**
 * `remote_servers`: every shard with all its replicas, on the secure native port as
 * `interserverUser` (authenticated by the server's certificate). `internal_replication` makes a
 * Distributed insert write one replica per shard and leaves the copies to ReplicatedMergeTree.
 */
export function remoteServersXml(topology: ClickHouseTopology, clusterName: string, namespace: string, interserverUser: string): string {
  const replica = (host: string) =>
    `        <replica><host>${host}</host><port>${NATIVE_SECURE_PORT}</port><secure>1</secure><user>${interserverUser}</user></replica>`;
  const shards = topology.shards.flatMap((shard) => [
    '      <shard>',
    '        <internal_replication>true</internal_replication>',
    ...shardHosts(shard, namespace).map(replica),
    '      </shard>',
  ]);
  return xml([
    '<clickhouse>',
    '  <remote_servers>',
    `    <${clusterName}>`,
    ...shards,
    `    </${clusterName}>`,
    '  </remote_servers>',
    '</clickhouse>',
  ]);
}

/** Environment variables the server containers set, read by `macrosXml` and `serverXml`. */
export const SHARD_ENV = 'CLICKHOUSE_SHARD';
export const REPLICA_ENV = 'CLICKHOUSE_REPLICA';
export const INTERSERVER_HOST_ENV = 'CLICKHOUSE_INTERSERVER_HOST';

/**
 * Macros of every replica from one file: `{shard}` and `{replica}` come from the environment (the
 * StatefulSet sets the shard number, the pod name is the replica), so no file per pod is needed.
 */
export function macrosXml(clusterName: string): string {
  return xml([
    '<clickhouse>',
    '  <macros>',
    `    <cluster>${clusterName}</cluster>`,
    `    <shard from_env="${SHARD_ENV}"/>`,
    `    <replica from_env="${REPLICA_ENV}"/>`,
    '  </macros>',
    '</clickhouse>',
  ]);
}

/** The servers' Keeper client section: every member on its TLS client port. */
export function zookeeperXml(keeperNodes: number, namespace: string): string {
  return xml([
    '<clickhouse>',
    '  <zookeeper>',
    ...keeperHosts(keeperNodes, namespace).map(
      (host) => `    <node><host>${host}</host><port>${KEEPER_CLIENT_PORT}</port><secure>1</secure></node>`,
    ),
    '  </zookeeper>',
    '</clickhouse>',
  ]);
}

/**
 * Server settings for Kubernetes: listen on the pod network on the TLS ports only (the image's
 * plain HTTP, native, interserver, MySQL and PostgreSQL ports are removed), announce the pod's DNS
 * name to other replicas (part fetches), log to the console only (the root file system is
 * read-only), serve Prometheus metrics at `/metrics` on the HTTPS port, and let the Kafka engine
 * take AWS credentials from the environment (the pod's IAM role, for MSK IAM authentication) and
 * verify MSK's public certificates against the image's CA bundle.
 */
export function serverXml(openSsl: readonly string[]): string {
  return xml([
    '<clickhouse>',
    '  <listen_host>0.0.0.0</listen_host>',
    ...['http_port', 'tcp_port', 'interserver_http_port', 'mysql_port', 'postgresql_port'].map((name) => `  <${name} remove="1"/>`),
    `  <https_port>${HTTPS_PORT}</https_port>`,
    `  <tcp_port_secure>${NATIVE_SECURE_PORT}</tcp_port_secure>`,
    `  <interserver_https_port>${INTERSERVER_HTTPS_PORT}</interserver_https_port>`,
    `  <interserver_http_host from_env="${INTERSERVER_HOST_ENV}"/>`,
    ...openSsl,
    '  <logger>',
    '    <level>information</level>',
    '    <log remove="1"/>',
    '    <errorlog remove="1"/>',
    '    <console>1</console>',
    '  </logger>',
    '  <http_handlers>',
    '    <rule>',
    '      <url>/metrics</url>',
    '      <methods>GET</methods>',
    '      <handler><type>prometheus</type></handler>',
    '    </rule>',
    '    <defaults/>',
    '  </http_handlers>',
    '  <kafka>',
    '    <use_environment_credentials>true</use_environment_credentials>',
    '    <ssl_ca_location>/etc/ssl/certs/ca-certificates.crt</ssl_ca_location>',
    '  </kafka>',
    '</clickhouse>',
  ]);
}

/** Environment variable holding a Keeper member's Raft id (its ordinal + 1, set by its start command). */
export const KEEPER_ID_ENV = 'KEEPER_SERVER_ID';
/** Data directory of a Keeper member (its volume). */
export const KEEPER_DATA_PATH = '/var/lib/clickhouse-keeper';

/**
 * The whole Keeper configuration: Raft membership of every member with ids 1..n over TLS, the TLS
 * client port, and readiness over HTTP.
 */
export function keeperXml(keeperNodes: number, namespace: string, openSsl: readonly string[]): string {
  return xml([
    '<clickhouse>',
    '  <listen_host>0.0.0.0</listen_host>',
    `  <path>${KEEPER_DATA_PATH}</path>`,
    ...openSsl,
    '  <logger>',
    '    <level>information</level>',
    '    <console>1</console>',
    '  </logger>',
    '  <keeper_server>',
    `    <tcp_port_secure>${KEEPER_CLIENT_PORT}</tcp_port_secure>`,
    `    <server_id from_env="${KEEPER_ID_ENV}"/>`,
    `    <log_storage_path>${KEEPER_DATA_PATH}/logs</log_storage_path>`,
    `    <snapshot_storage_path>${KEEPER_DATA_PATH}/snapshots</snapshot_storage_path>`,
    '    <coordination_settings>',
    '      <operation_timeout_ms>10000</operation_timeout_ms>',
    '      <session_timeout_ms>30000</session_timeout_ms>',
    '    </coordination_settings>',
    '    <http_control>',
    `      <port>${KEEPER_HTTP_CONTROL_PORT}</port>`,
    '      <readiness><endpoint>/ready</endpoint></readiness>',
    '    </http_control>',
    '    <raft_configuration>',
    '      <secure>true</secure>',
    ...keeperHosts(keeperNodes, namespace).map(
      (host, i) => `      <server><id>${i + 1}</id><hostname>${host}</hostname><port>${KEEPER_RAFT_PORT}</port></server>`,
    ),
    '    </raft_configuration>',
    '  </keeper_server>',
    '</clickhouse>',
  ]);
}

/**
 * Share of a node's vCPUs and memory the pods on it may request. The rest is for the kubelet's and
 * system reservations (EKS reserves about 11 MiB per allowed pod + 255 MiB of memory and a few percent
 * of the first cores) and the node's DaemonSets (VPC CNI, kube-proxy, EBS CSI node, Pod Identity agent).
 */
export const NODE_REQUEST_SHARE = 0.85;
/** Requests of the backup sidecar, taken out of the replica's share. */
export const BACKUP_SIDECAR_RESOURCES = { cpuMillicores: 250, memoryMiB: 1024 } as const;

/**
 * Requests of the ClickHouse server container: 85 % of the node minus the backup sidecar. Memory
 * limit = request (ClickHouse sizes its caches from the cgroup limit); CPU may burst to the whole node.
 */
export function serverResources(nodeVcpus: number, nodeMemoryGiB: number): { cpuMillicores: number; memoryMiB: number } {
  return {
    cpuMillicores: Math.floor(nodeVcpus * 1000 * NODE_REQUEST_SHARE) - BACKUP_SIDECAR_RESOURCES.cpuMillicores,
    memoryMiB: Math.floor(nodeMemoryGiB * 1024 * NODE_REQUEST_SHARE) - BACKUP_SIDECAR_RESOURCES.memoryMiB,
  };
}
