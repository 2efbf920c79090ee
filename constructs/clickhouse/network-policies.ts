import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { NAME_LABEL } from '../private/k8s';
import { SERVER_APP } from './k8s';
import { HTTPS_PORT, INTERSERVER_HTTPS_PORT, KEEPER_CLIENT_PORT, KEEPER_NAME, KEEPER_RAFT_PORT, NATIVE_SECURE_PORT } from './topology';

const k8s = kplus.k8s;

export interface ClickHouseNetworkPoliciesProps {
  /** Namespace of the cluster, whose Jobs query the servers. */
  readonly namespace: string;
  /** Namespaces whose pods may query the servers; each is admitted once. */
  readonly clientNamespaces: readonly string[];
}

/**
 * Ingress, port by port: nothing by default; the servers' query ports (HTTPS, native TLS) from
 * this namespace's Jobs, the other servers and the client namespaces; part fetches only between
 * servers; Keeper's client port only from the servers and its Raft port only between members.
 * Enforced by the VPC CNI's network policy agent; the kubelet's probes come from the node.
 */
export class ClickHouseNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: ClickHouseNetworkPoliciesProps) {
    super(scope, id);
    const pods = (app: string) => ({ podSelector: { matchLabels: { [NAME_LABEL]: app } } });
    const namespace = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
    const tcp = (...numbers: number[]) => numbers.map((n) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(n) }));
    const policy = (policyId: string, name: string, podSelector: kplus.k8s.LabelSelector, ingress: kplus.k8s.NetworkPolicyIngressRule[]) =>
      new k8s.KubeNetworkPolicy(this, policyId, {
        metadata: { name, namespace: props.namespace },
        spec: { podSelector, policyTypes: ['Ingress'], ingress },
      });
    const clientNamespaces = [...new Set(props.clientNamespaces)];

    policy('DefaultDenyPolicy', 'clickhouse-default-deny', {}, []);
    policy('ServerPolicy', 'clickhouse-server-ingress', pods(SERVER_APP).podSelector, [
      { from: [namespace(props.namespace), ...clientNamespaces.map(namespace)], ports: tcp(HTTPS_PORT, NATIVE_SECURE_PORT) },
      { from: [pods(SERVER_APP)], ports: tcp(INTERSERVER_HTTPS_PORT) },
    ]);
    policy('KeeperPolicy', 'clickhouse-keeper-ingress', pods(KEEPER_NAME).podSelector, [
      { from: [pods(SERVER_APP)], ports: tcp(KEEPER_CLIENT_PORT) },
      { from: [pods(KEEPER_NAME)], ports: tcp(KEEPER_RAFT_PORT) },
    ]);
  }
}
