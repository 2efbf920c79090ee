import { Token } from 'aws-cdk-lib';
import { App, Chart } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  ClickHouseKeeper,
  ClickHouseNetworkPolicies,
  ClickHouseSchemaJob,
  DEFAULT_KEEPER_RESOURCES,
  DEFAULT_KEEPER_STORAGE_GIB,
  KEEPER_NAME,
  SCHEMA_JOB_PREFIX,
} from '../../../constructs/clickhouse';
import { validateKubernetesObject } from '../../support/k8s-schema';

type Obj = Record<string, any>;

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

/** The objects one construct adds to a chart of its own. */
function render(add: (chart: Chart) => void): Obj[] {
  const chart = new Chart(new App(), 'Test');
  add(chart);
  const objects = chart.toJson() as Obj[];
  for (const object of objects) validateKubernetesObject(object);
  return objects;
}

describe('the ClickHouse constructs, each on its own', () => {
  const keeper = (props: Partial<ConstructorParameters<typeof ClickHouseKeeper>[2]> = {}) =>
    render(
      (chart) =>
        new ClickHouseKeeper(chart, 'Keeper', {
          namespace: 'clickhouse',
          keeperNodes: 3,
          image: 'clickhouse/clickhouse-keeper:26.3',
          zones: ZONES,
          storageClass: 'gp3',
          ...props,
        }),
    );
  const statefulSet = (objects: Obj[]) => objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === KEEPER_NAME) as Obj;

  test('ClickHouseKeeper: its documented defaults (volume, requests, general pool under the platform pool label)', () => {
    const set = statefulSet(keeper());
    expect(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(`${DEFAULT_KEEPER_STORAGE_GIB}Gi`);
    expect(set.spec.template.spec.containers[0].resources.requests).toEqual({
      cpu: `${DEFAULT_KEEPER_RESOURCES.cpuMillicores}m`,
      memory: `${DEFAULT_KEEPER_RESOURCES.memoryMiB}Mi`,
    });
    expect(set.spec.template.spec.nodeSelector).toEqual({ 'mlp.platform/pool': 'general' });
  });

  test('ClickHouseKeeper: storage, requests and pool as given; CPU may burst to the larger of a core and the request', () => {
    const set = statefulSet(
      keeper({
        storageGiB: 50,
        resources: { cpuMillicores: 1500, memoryMiB: 2048 },
        nodePoolLabel: 'example.com/pool',
        nodePool: 'keeper',
      }),
    );
    expect(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('50Gi');
    expect(set.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '1500m', memory: '2048Mi' },
      limits: { cpu: '1500m', memory: '2048Mi' },
    });
    expect(set.spec.template.spec.nodeSelector).toEqual({ 'example.com/pool': 'keeper' });
  });

  test('ClickHouseNetworkPolicies: a client namespace listed twice is admitted once', () => {
    const objects = render(
      (chart) => new ClickHouseNetworkPolicies(chart, 'Policies', { namespace: 'clickhouse', clientNamespaces: ['mlp', 'mlp'] }),
    );
    const server = objects.find((o) => o.metadata.name === 'clickhouse-server-ingress') as Obj;
    expect(server.spec.ingress[0].from.map((peer: Obj) => peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])).toEqual([
      'clickhouse',
      'mlp',
    ]);
  });

  test('ClickHouseSchemaJob: named after its SQL, whatever number the tokens in it got', () => {
    const name = (sql: string) =>
      render(
        (chart) =>
          new ClickHouseSchemaJob(chart, 'Schema', { namespace: 'clickhouse', schemaSql: sql, image: 'clickhouse', nodeSelector: {} }),
      )[0]?.metadata.name;
    expect(name('CREATE DATABASE a')).toMatch(new RegExp(`^${SCHEMA_JOB_PREFIX}[0-9a-f]{10}$`));
    expect(name('CREATE DATABASE a')).not.toBe(name('CREATE DATABASE b'));
    const brokers = () => `kafka_broker_list = '${Token.asString({ 'Fn::GetAtt': ['Kafka', 'BootstrapBrokerStringSaslIam'] })}'`;
    expect(brokers()).not.toBe(brokers());
    expect(name(brokers())).toBe(name(brokers()));
  });
});
