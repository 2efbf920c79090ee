import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { appMetadata, SERVER_APP } from './k8s';
import { INTERSERVER_USER, openSslXml, SERVER_TLS_DIR, usersXml } from './security';
import { type ClickHouseTopology, macrosXml, remoteServersXml, serverXml, zookeeperXml } from './topology';
import type { ClickHouseClientSpec } from './types';

/** The ConfigMaps every server mounts: `config.d` and `users.d`. */
export const SERVER_CONFIG_NAME = 'clickhouse-server-config';
export const SERVER_USERS_NAME = 'clickhouse-server-users';

export interface ClickHouseServerConfigProps {
  readonly namespace: string;
  readonly clusterName: string;
  readonly topology: ClickHouseTopology;
  readonly keeperNodes: number;
  /** Database the interserver and client users are granted. */
  readonly database: string;
  readonly clients: readonly ClickHouseClientSpec[];
}

/**
 * The server configuration, one file for every server at once: settings and TLS, `from_env` macros,
 * `remote_servers`, the Keeper nodes (`SERVER_CONFIG_NAME`), and the users (`SERVER_USERS_NAME`).
 */
export class ClickHouseServerConfig extends Construct {
  public readonly config: kplus.k8s.KubeConfigMap;
  public readonly users: kplus.k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: ClickHouseServerConfigProps) {
    super(scope, id);
    const { namespace } = props;
    this.config = new kplus.k8s.KubeConfigMap(this, 'ServerConfig', {
      metadata: appMetadata(SERVER_CONFIG_NAME, namespace, SERVER_APP),
      data: {
        'server.xml': serverXml(openSslXml(SERVER_TLS_DIR)),
        'macros.xml': macrosXml(props.clusterName),
        'remote-servers.xml': remoteServersXml(props.topology, props.clusterName, namespace, INTERSERVER_USER),
        'zookeeper.xml': zookeeperXml(props.keeperNodes, namespace),
      },
    });
    this.users = new kplus.k8s.KubeConfigMap(this, 'ServerUsers', {
      metadata: appMetadata(SERVER_USERS_NAME, namespace, SERVER_APP),
      data: { 'users.xml': usersXml(props.database, namespace, props.clients) },
    });
  }
}
