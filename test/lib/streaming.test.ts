import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig, runbookParameterName } from '../../lib/config';
import { LayoutAssembly } from '../support/assembly';
import { dependenciesOf, manifestHolding, manifestObjectsIn } from '../support/k8s-manifests';
import { LAYOUTS, layoutContext } from '../support/layouts';

type K8sObject = Record<string, any>;

describe.each(LAYOUTS)('streaming and analytics of layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const tier = config.tier;
  const primary = config.primaryRegion;
  const home = config.regions[0];
  if (!home) throw new Error('no home region');
  const secondaries = config.regions.filter((r) => !r.isPrimary);
  const stack = (code: string, layer: string) => `Mlp-${tier.name}-${code}-${layer}`;
  const objects = (code: string) => manifestObjectsIn(assembly.template(stack(code, 'compute'))).map((o) => o.object as K8sObject);

  test.each(config.regions.map((r) => [r.name, r.code]))(
    '%s runs MSK across three AZs, TLS and IAM only, KMS at rest, with the seed topic defaults',
    (_name, code) => {
      const clusters = Object.values(assembly.resourcesOfType(stack(code, 'data'), 'AWS::MSK::Cluster'));
      expect(clusters).toHaveLength(1);
      const cluster = clusters[0]?.Properties as K8sObject;
      expect(cluster.NumberOfBrokerNodes).toBe(tier.kafka.brokers);
      expect(cluster.NumberOfBrokerNodes % 3).toBe(0);
      expect(cluster.BrokerNodeGroupInfo.ClientSubnets).toHaveLength(3);
      expect(cluster.BrokerNodeGroupInfo.InstanceType).toBe(tier.kafka.brokerInstanceType);
      expect(cluster.EncryptionInfo.EncryptionInTransit).toMatchObject({ ClientBroker: 'TLS', InCluster: true });
      expect(cluster.EncryptionInfo.EncryptionAtRest.DataVolumeKMSKeyId).toBeDefined();
      expect(cluster.ClientAuthentication.Sasl.Iam.Enabled).toBe(true);
      expect(cluster.ClientAuthentication.Unauthenticated?.Enabled ?? false).toBe(false);
      const [configuration] = Object.values(assembly.resourcesOfType(stack(code, 'data'), 'AWS::MSK::Configuration'));
      const properties = String(configuration?.Properties?.ServerProperties);
      for (const line of [
        'default.replication.factor=3',
        'min.insync.replicas=2',
        `log.retention.hours=${tier.kafka.retentionHours}`,
        'auto.create.topics.enable=false',
      ]) {
        expect(properties.replace(/ = /g, '=')).toContain(line);
      }
    },
  );

  test('MSK Replicator mode: a star of flows around the home region, both ways, whatever the primary', () => {
    if (config.kafkaReplicationMode !== 'msk-replicator') return;
    const flowsInto = (code: string) => Object.values(assembly.resourcesOfType(stack(code, 'resilience'), 'AWS::MSK::Replicator'));
    const names = (code: string) => flowsInto(code).map((r) => r.Properties?.ReplicatorName);
    const others = config.regions.filter((r) => !r.isHome);
    expect(names(home.code)).toEqual(others.map((r) => `mlp-${tier.name}-${r.code}-to-${home.code}`));
    for (const region of others) expect(names(region.code)).toEqual([`mlp-${tier.name}-${home.code}-to-${region.code}`]);
    for (const region of config.regions) {
      expect(assembly.resourcesOfType(stack(region.code, 'data'), 'AWS::MSK::Replicator')).toEqual({});
      for (const replicator of flowsInto(region.code)) {
        const replication = (replicator.Properties as K8sObject).ReplicationInfoList[0];
        expect(replication.ConsumerGroupReplication.SynchroniseConsumerGroupOffsets).toBe(true);
        expect(replication.TopicReplication.TopicNameConfiguration).toEqual({ Type: 'IDENTICAL' });
      }
    }
  });

  test('MirrorMaker 2 mode: one flow from the primary into every other region', () => {
    if (config.kafkaReplicationMode !== 'mirrormaker2') return;
    for (const region of secondaries) {
      const mirrorMakers = objects(region.code).filter((o) => o.kind === 'Deployment' && o.metadata.namespace === 'kafka-replication');
      expect(mirrorMakers).toHaveLength(1);
      const properties = objects(region.code).find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'kafka-replication')?.data[
        'mm2.properties'
      ] as string;
      expect(properties).toMatch(new RegExp(`${primary.code}->${region.code}.enabled\\s*=\\s*true`));
      expect(properties).toMatch(/sync.group.offsets.enabled\s*=\s*true/);
      expect(properties).toMatch(/emit.checkpoints.enabled\s*=\s*true/);
      expect(Object.keys(assembly.resourcesOfType(stack(region.code, 'compute'), 'AWS::EC2::VPCPeeringConnection'))).toHaveLength(1);
      // The workers' internal REST API speaks mutual TLS with a certificate from the internal CA.
      expect(properties).toMatch(/^listeners = https:/m);
      expect(properties).toMatch(/^listeners\.https\.ssl\.client\.auth = required$/m);
      const certificate = objects(region.code).find((o) => o.kind === 'Certificate' && o.metadata.namespace === 'kafka-replication');
      expect(certificate?.spec.issuerRef).toMatchObject({ kind: 'ClusterIssuer', name: 'mlp-internal-ca' });
      const template = assembly.template(stack(region.code, 'compute'));
      expect(dependenciesOf(template, manifestHolding(template, 'Certificate', certificate?.metadata.name, 'kafka-replication'))).toContain(
        manifestHolding(template, 'ClusterIssuer', 'mlp-internal-ca', null),
      );
    }
    for (const region of config.regions) {
      expect(Object.values(assembly.resourcesOfType(stack(region.code, 'resilience'), 'AWS::MSK::Replicator'))).toHaveLength(0);
    }
    const primaryMirrorMakers = objects(primary.code).filter(
      (o) => o.kind === 'Deployment' && o.metadata.namespace === 'kafka-replication',
    );
    expect(primaryMirrorMakers).toHaveLength(0);
  });

  test('topics are created once, by a job in the primary region', () => {
    const jobs = (code: string) => objects(code).filter((o) => o.kind === 'Job' && o.metadata.namespace === 'kafka-admin');
    expect(jobs(primary.code)).toHaveLength(1);
    const script = JSON.stringify(objects(primary.code).filter((o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'kafka-admin'));
    for (const topic of tier.kafka.topics) expect(script).toContain(topic.name);
    for (const region of secondaries) expect(jobs(region.code)).toHaveLength(0);
  });

  test.each(config.regions.map((r) => [r.name, r.code]))(
    '%s runs ClickHouse as shards x replicas StatefulSets with a 3-node Keeper',
    (_name, code) => {
      const statefulSets = objects(code).filter((o) => o.kind === 'StatefulSet' && o.metadata.namespace === 'clickhouse');
      const keeper = statefulSets.find((s) => s.metadata.name === 'clickhouse-keeper');
      const shards = statefulSets.filter((s) => s !== keeper);
      expect(shards).toHaveLength(tier.clickhouse.shards);
      for (const shard of shards) expect(shard.spec.replicas).toBe(tier.clickhouse.replicasPerShard);
      expect(keeper?.spec.replicas).toBe(3);
      const remoteServers = JSON.stringify(objects(code).filter((o) => o.kind === 'ConfigMap')).match(/<replica>/g) ?? [];
      expect(remoteServers).toHaveLength(tier.clickhouse.shards * tier.clickhouse.replicasPerShard);
    },
  );

  test.each(config.regions.map((r) => [r.name, r.code]))(
    '%s: every ClickHouse client mounts a certificate that the ClickHouse chart issues into its namespace from the internal CA',
    (_name, code) => {
      const all = objects(code);
      const certificates = all.filter((o) => o.kind === 'Certificate');
      const issuers = all.filter((o) => o.kind === 'ClusterIssuer').map((o) => o.metadata.name);
      for (const certificate of certificates) expect(issuers).toContain(certificate.spec.issuerRef.name);

      const clients = all.filter(
        (o) =>
          o.kind === 'Deployment' && (o.spec.template.spec.containers[0].env ?? []).some((e: K8sObject) => e.name === 'CLICKHOUSE_USER'),
      );
      expect(clients.map((o) => o.metadata.name).sort()).toEqual(['evaluation-worker', 'query-api', 'tracking-server']);
      const users = String(all.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'clickhouse-server-users')?.data['users.xml']);
      for (const deployment of clients) {
        const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: K8sObject) => [e.name, e.value]));
        const secret = deployment.spec.template.spec.volumes.find((v: K8sObject) => v.secret)?.secret.secretName;
        const issued = certificates.find((c) => c.metadata.namespace === deployment.metadata.namespace && c.spec.secretName === secret);
        expect(issued, `${deployment.metadata.name} mounts ${secret}`).toBeDefined();
        // The certificate's common name is one the user it logs in as accepts.
        const user = new RegExp(`<${env.CLICKHOUSE_USER}>[\\s\\S]*?<common_name>${issued?.spec.commonName}</common_name>`);
        expect(users).toMatch(user);
        expect(env.CLICKHOUSE_NATIVE_PORT).toBe('9440');
      }
      expect(env(all, 'tracking-server').CLICKHOUSE_USER).toBe('mlp_writer');
      expect(env(all, 'query-api').CLICKHOUSE_USER).toBe('mlp_reader');
    },
  );

  test.each(config.regions.map((r) => [r.name, r.code]))(
    '%s deploys cert-manager, then the CA, then ClickHouse, then its shards',
    (_name, code) => {
      const template = assembly.template(stack(code, 'compute'));
      const resources = Object.entries(template.Resources);
      const holding = (kind: string, name: string) => manifestHolding(template, kind, name);
      const dependsOn = (id: string) => dependenciesOf(template, id);
      const certManager = resources.find(([, r]) => r.Type === 'Custom::AWSCDK-EKS-HelmChart' && r.Properties?.Chart === 'cert-manager');
      expect(certManager?.[1].Properties).toMatchObject({ Repository: 'https://charts.jetstack.io', Wait: true });

      const ca = holding('ClusterIssuer', 'mlp-internal-ca');
      const cluster = holding('Certificate', 'clickhouse-server');
      const shards = holding('StatefulSet', 'clickhouse-shard1');
      expect(dependsOn(ca)).toContain(certManager?.[0]);
      expect(dependsOn(cluster)).toContain(ca);
      expect(dependsOn(cluster)).toContain(holding('Namespace', 'mlp'));
      expect(dependsOn(shards)).toContain(cluster);
    },
  );

  test('every region publishes what its runbooks need to know about Kafka and ClickHouse', () => {
    for (const region of config.regions) {
      const names = [stack(region.code, 'data'), stack(region.code, 'compute')].flatMap((s) =>
        Object.values(assembly.resourcesOfType(s, 'AWS::SSM::Parameter')).map((p) => p.Properties?.Name),
      );
      for (const [component, key] of [
        ['kafka', 'cluster-arn'],
        ['kafka', 'bootstrap-brokers'],
        ['kafka', 'replication-source'],
        ['clickhouse', 'service'],
      ] as const) {
        expect(names).toContain(runbookParameterName(tier.name, component, key as never));
      }
    }
  });
});

function env(all: K8sObject[], deployment: string): Record<string, string> {
  const found = all.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment);
  return Object.fromEntries((found?.spec.template.spec.containers[0].env ?? []).map((e: K8sObject) => [e.name, e.value]));
}
