import { Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { App } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  grantMirrorMaker2,
  KAFKA_TOOLS_UID,
  MIRROR_MAKER_TLS_DIR,
  MirrorMaker2Chart,
  type MirrorMaker2ChartProps,
  type MirrorMaker2Spec,
  mirrorMaker2Properties,
} from '../../../constructs/kafka';
import { addQualityGates } from '../../../lib/quality-gates';
import { validateKubernetesObject } from '../../support/k8s-schema';
import { testApp } from '../../support/synth';

const SOURCE_BOOTSTRAP = 'b-1.primary.kafka.us-east-1.amazonaws.com:9098,b-2.primary.kafka.us-east-1.amazonaws.com:9098';
const TARGET_BOOTSTRAP = Token.asString({ 'Fn::GetAtt': ['KafkaBootstrapBrokers', 'BootstrapBrokerStringSaslIam'] });

const SPEC: MirrorMaker2Spec = {
  source: { alias: 'use1', bootstrapServers: SOURCE_BOOTSTRAP },
  target: { alias: 'usw2', bootstrapServers: TARGET_BOOTSTRAP },
  tasks: 4,
};

const CHART_SPEC: MirrorMaker2ChartProps = {
  ...SPEC,
  image: Token.asString({ 'Fn::Sub': `111122223333.dkr.ecr.\${AWS::Region}.amazonaws.com/kafka-tools:3.8.1` }),
  replicas: 3,
  serviceAccountName: 'mirror-maker-2',
  resources: { cpuMillicores: 1000, memoryMiB: 2048 },
  tls: { issuer: { kind: 'ClusterIssuer', name: 'mlp-internal-ca' } },
};

const STORE_PASSWORD = 'pkcs12-not-a-secret';

/** The properties as a map; fails on a key set twice. */
function parse(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(' = ');
    if (key === undefined || rest.length === 0) throw new Error(`not a property line: ${line}`);
    if (entries.has(key)) throw new Error(`${key} is set twice`);
    entries.set(key, rest.join(' = '));
  }
  return entries;
}

describe('mirrorMaker2Properties', () => {
  const text = mirrorMaker2Properties(SPEC);
  const properties = parse(text);

  test('names both clusters with their bootstrap servers', () => {
    expect(properties.get('clusters')).toBe('use1, usw2');
    expect(properties.get('use1.bootstrap.servers')).toBe(SOURCE_BOOTSTRAP);
    expect(properties.get('usw2.bootstrap.servers')).toBe(TARGET_BOOTSTRAP);
  });

  test('copies one way only: primary to secondary on, the reverse off', () => {
    expect(properties.get('use1->usw2.enabled')).toBe('true');
    expect(properties.get('use1->usw2.topics')).toBe('.*');
    expect(properties.get('use1->usw2.groups')).toBe('.*');
    expect(properties.get('usw2->use1.enabled')).toBe('false');
    // A disabled flow would otherwise still emit heartbeats into the source.
    expect(properties.get('usw2->use1.emit.heartbeats.enabled')).toBe('false');
    expect(text).toMatch(/# Failback flips this flow on [^\n]*\n#[^\n]*\nusw2->use1\.enabled = false/);
  });

  test('keeps topic names, syncs group offsets, emits checkpoints and heartbeats', () => {
    expect(properties.get('replication.policy.class')).toBe('org.apache.kafka.connect.mirror.IdentityReplicationPolicy');
    expect(properties.get('sync.group.offsets.enabled')).toBe('true');
    expect(properties.get('sync.group.offsets.interval.seconds')).toBe('60');
    expect(properties.get('emit.checkpoints.enabled')).toBe('true');
    expect(properties.get('emit.checkpoints.interval.seconds')).toBe('60');
    expect(properties.get('emit.heartbeats.enabled')).toBe('true');
    expect(properties.get('refresh.topics.interval.seconds')).toBe('60');
    expect(properties.get('tasks.max')).toBe('4');
  });

  test('replicates copies and every internal topic 3 ways', () => {
    for (const key of [
      'replication.factor',
      'offset-syncs.topic.replication.factor',
      'checkpoints.topic.replication.factor',
      'heartbeats.topic.replication.factor',
      'offset.storage.replication.factor',
      'config.storage.replication.factor',
      'status.storage.replication.factor',
    ]) {
      expect(properties.get(key), key).toBe('3');
    }
    expect(properties.get('offset-syncs.topic.location')).toBe('target');
  });

  test('reaches both clusters with MSK IAM over TLS', () => {
    for (const alias of ['use1', 'usw2']) {
      expect(properties.get(`${alias}.security.protocol`)).toBe('SASL_SSL');
      expect(properties.get(`${alias}.sasl.mechanism`)).toBe('AWS_MSK_IAM');
      expect(properties.get(`${alias}.sasl.jaas.config`)).toBe('software.amazon.msk.auth.iam.IAMLoginModule required;');
      expect(properties.get(`${alias}.sasl.client.callback.handler.class`)).toBe('software.amazon.msk.auth.iam.IAMClientCallbackHandler');
    }
  });

  test('serves the internal REST API over mutual TLS with the mounted PKCS#12 stores, peers checked by CA not by name', () => {
    expect(MIRROR_MAKER_TLS_DIR).toBe('/etc/mirror-maker/tls');
    expect(properties.get('dedicated.mode.enable.internal.rest')).toBe('true');
    expect(properties.get('listeners')).toBe('https://0.0.0.0:8083');
    expect(properties.get('rest.advertised.listener')).toBe('https');
    expect([...properties].filter(([key]) => key.startsWith('listeners.https.'))).toEqual([
      ['listeners.https.ssl.keystore.type', 'PKCS12'],
      ['listeners.https.ssl.keystore.location', '/etc/mirror-maker/tls/keystore.p12'],
      ['listeners.https.ssl.keystore.password', STORE_PASSWORD],
      ['listeners.https.ssl.key.password', STORE_PASSWORD],
      ['listeners.https.ssl.truststore.type', 'PKCS12'],
      ['listeners.https.ssl.truststore.location', '/etc/mirror-maker/tls/truststore.p12'],
      ['listeners.https.ssl.truststore.password', STORE_PASSWORD],
      ['listeners.https.ssl.client.auth', 'required'],
      ['listeners.https.ssl.endpoint.identification.algorithm', ''],
    ]);
    expect(text).toContain('# Workers advertise pod IPs, which no certificate lists');
  });

  test('sets no unprefixed client setting, which MirrorMaker would copy into both MSK clusters', () => {
    // MirrorMakerConfig.clusterProps copies top-level ssl.*, sasl.* and security.protocol into every
    // cluster's clients; the REST server and client read only the listeners.https. ones.
    const keys = [...properties.keys()];
    expect(keys.filter((key) => /^(ssl|sasl|security)\./.test(key))).toEqual([]);
    expect(keys.filter((key) => key.includes('ssl.') && !key.startsWith('listeners.https.ssl.'))).toEqual([]);
  });

  test('takes topic lists and intervals from the spec', () => {
    const custom = parse(
      mirrorMaker2Properties({ ...SPEC, topics: ['job-tasks', 'llm-.*'], offsetSyncIntervalSeconds: 15, replicationFactor: 2 }),
    );
    expect(custom.get('use1->usw2.topics')).toBe('job-tasks, llm-.*');
    expect(custom.get('sync.group.offsets.interval.seconds')).toBe('15');
    expect(custom.get('replication.factor')).toBe('2');
  });

  test.each<[string, Partial<MirrorMaker2Spec>, string]>([
    [
      'the same alias twice',
      { target: { alias: 'use1', bootstrapServers: 'x:9098' } },
      "source and target need different aliases, both are 'use1'",
    ],
    ['an alias with a dot', { source: { alias: 'us.east', bootstrapServers: 'x:9098' } }, "cluster alias 'us.east' must be letters"],
    ['zero tasks', { tasks: 0 }, 'tasks must be a positive integer, got 0'],
    ['a regex with a comma', { topics: ['a{1,2}'] }, 'MirrorMaker splits its lists on commas'],
  ])('rejects %s', (_what, overrides, message) => {
    expect(() => mirrorMaker2Properties({ ...SPEC, ...overrides })).toThrow(message);
  });
});

describe('MirrorMaker2Chart', () => {
  const app = new App();
  const objects = new MirrorMaker2Chart(app, 'mirror-maker-2', CHART_SPEC).toJson() as {
    kind: string;
    metadata: { name: string; namespace?: string };
    [key: string]: any;
  }[];
  const byKind = (kind: string) => objects.find((object) => object.kind === kind);
  const deployment = byKind('Deployment');
  const pod = deployment?.spec.template.spec;
  const container = pod?.containers[0];

  test('every object passes the Kubernetes schema', () => {
    expect(objects.map((object) => object.kind).sort()).toEqual([
      'Certificate',
      'ConfigMap',
      'Deployment',
      'Namespace',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'ServiceAccount',
    ]);
    for (const object of objects) expect(validateKubernetesObject(object)).toEqual([]);
  });

  test('lives in the restricted kafka-replication namespace', () => {
    expect(byKind('Namespace')?.metadata).toEqual({
      name: 'kafka-replication',
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'app.kubernetes.io/part-of': 'ml-platform' },
    });
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) expect(object.metadata.namespace).toBe('kafka-replication');
  });

  test('the ConfigMap holds exactly the generated properties', () => {
    expect(byKind('ConfigMap')?.data['mm2.properties']).toBe(mirrorMaker2Properties(SPEC));
  });

  test('runs connect-mirror-maker.sh on the properties, advertising the pod IP, after noting which key store it loads', () => {
    expect(deployment?.spec.replicas).toBe(3);
    expect(container.image).toBe(CHART_SPEC.image);
    expect(container.command).toEqual([
      '/bin/sh',
      '-c',
      [
        'set -eu',
        'cksum < /etc/mirror-maker/tls/keystore.p12 > /tmp/keystore.loaded.cksum',
        'cp /config/mm2.properties /tmp/mm2.properties',
        `printf 'rest.advertised.host.name = %s\\n' "$POD_IP" >> /tmp/mm2.properties`,
        'exec /opt/kafka/bin/connect-mirror-maker.sh /tmp/mm2.properties',
      ].join('\n'),
    ]);
    expect(container.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(container.env).toContainEqual({ name: 'KAFKA_HEAP_OPTS', value: '-Xms1536m -Xmx1536m' });
    expect(container.volumeMounts).toContainEqual({ name: 'config', mountPath: '/config', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'config', configMap: { name: 'mirror-maker-2-config' } });
  });

  test('asks cert-manager for a client and server certificate with PKCS#12 stores from the given issuer', () => {
    const certificate = byKind('Certificate');
    expect(certificate?.apiVersion).toBe('cert-manager.io/v1');
    expect(certificate?.metadata).toEqual({
      name: 'mirror-maker-2-rest',
      namespace: 'kafka-replication',
      labels: { 'app.kubernetes.io/name': 'mirror-maker-2', 'app.kubernetes.io/part-of': 'ml-platform' },
    });
    expect(certificate?.spec).toEqual({
      secretName: 'mirror-maker-2-rest-tls',
      commonName: 'mirror-maker-2.kafka-replication',
      duration: '2160h',
      renewBefore: '720h',
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      keystores: { pkcs12: { create: true, password: STORE_PASSWORD, profile: 'Modern2023' } },
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'mlp-internal-ca' },
    });
    expect(validateKubernetesObject(certificate)).toEqual([]);
    // The stores the properties name are the ones cert-manager writes, with the password it uses.
    const properties = parse(byKind('ConfigMap')?.data['mm2.properties']);
    expect(properties.get('listeners.https.ssl.keystore.password')).toBe(certificate?.spec.keystores.pkcs12.password);
  });

  test('takes a namespaced Issuer too', () => {
    const objects = new MirrorMaker2Chart(new App(), 'mirror-maker-2', {
      ...CHART_SPEC,
      tls: { issuer: { kind: 'Issuer', name: 'replication-ca' } },
    }).toJson();
    expect(objects.find((object: { kind: string }) => object.kind === 'Certificate').spec.issuerRef).toEqual({
      group: 'cert-manager.io',
      kind: 'Issuer',
      name: 'replication-ca',
    });
  });

  test('mounts only the key and trust stores, read-only and readable by the pod group alone', () => {
    expect(pod.volumes).toContainEqual({
      name: 'rest-tls',
      secret: {
        secretName: 'mirror-maker-2-rest-tls',
        defaultMode: 288,
        items: [
          { key: 'keystore.p12', path: 'keystore.p12' },
          { key: 'truststore.p12', path: 'truststore.p12' },
        ],
      },
    });
    expect(container.volumeMounts).toContainEqual({ name: 'rest-tls', mountPath: '/etc/mirror-maker/tls', readOnly: true });
    // The container's group owns the mounted files (fsGroup), so 0440 lets it read them.
    expect(pod.securityContext.fsGroup).toBe(container.securityContext.runAsGroup);
  });

  test('probes the REST port with a TCP connect, which needs no certificate', () => {
    for (const probe of ['startupProbe', 'readinessProbe']) {
      expect(container[probe].tcpSocket, probe).toEqual({ port: 8083 });
    }
  });

  test('restarts a worker whose key store cert-manager has renewed since it started', () => {
    expect(container.livenessProbe).toEqual({
      exec: {
        command: ['/bin/sh', '-c', 'cksum < /etc/mirror-maker/tls/keystore.p12 | cmp -s - /tmp/keystore.loaded.cksum'],
      },
      periodSeconds: 60,
      failureThreshold: 2,
      timeoutSeconds: 5,
    });
  });

  test('admits only the other workers, on the REST port', () => {
    expect(byKind('NetworkPolicy')?.metadata.name).toBe('mirror-maker-2-ingress');
    expect(byKind('NetworkPolicy')?.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mirror-maker-2' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mirror-maker-2' } } }],
          ports: [{ protocol: 'TCP', port: 8083 }],
        },
      ],
    });
  });

  test('runs as the Pod Identity service account, without a Kubernetes API token', () => {
    expect(pod.serviceAccountName).toBe('mirror-maker-2');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(byKind('ServiceAccount')?.metadata.name).toBe('mirror-maker-2');
  });

  test('is non-root with a read-only root file system and no capabilities', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: KAFKA_TOOLS_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: KAFKA_TOOLS_UID,
      runAsGroup: KAFKA_TOOLS_UID,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('requests the given resources, memory limited to the request', () => {
    expect(container.resources).toEqual({ requests: { cpu: '1000m', memory: '2048Mi' }, limits: { cpu: '2000m', memory: '2048Mi' } });
  });

  test('a drain takes one worker at a time', () => {
    expect(byKind('PodDisruptionBudget')?.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'mirror-maker-2' } },
    });
  });

  test('pods roll when the properties change, and only then', () => {
    const hashOf = (spec: MirrorMaker2ChartProps) =>
      (new MirrorMaker2Chart(new App(), 'mirror-maker-2', spec).toJson() as any[]).find((o) => o.kind === 'Deployment').spec.template
        .metadata.annotations['kafka.mlp.platform/config-hash'];
    expect(hashOf(CHART_SPEC)).toBe(hashOf({ ...CHART_SPEC }));
    expect(hashOf({ ...CHART_SPEC, tasks: 8 })).not.toBe(hashOf(CHART_SPEC));
  });

  test.each<[string, Partial<MirrorMaker2ChartProps>, string]>([
    ['zero replicas', { replicas: 0 }, 'replicas must be an integer of at least 1, got 0'],
    [
      'a bad namespace',
      { namespace: 'Kafka' },
      "namespace must be a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Kafka'",
    ],
    ['the same alias twice', { target: { alias: 'use1', bootstrapServers: 'x:9098' } }, 'source and target need different aliases'],
    [
      'an issuer name that is no DNS subdomain',
      { tls: { issuer: { kind: 'ClusterIssuer', name: 'Internal_CA' } } },
      "tls.issuer.name must be a DNS-1123 subdomain, got 'Internal_CA'",
    ],
    [
      'an unknown issuer kind',
      { tls: { issuer: { kind: 'Vault' as 'Issuer', name: 'mlp-internal-ca' } } },
      "tls.issuer.kind must be 'ClusterIssuer' or 'Issuer', got 'Vault'",
    ],
    [
      'a common name over 64 characters',
      { name: 'mirror-maker-2-replicating-the-primary-region', namespace: 'kafka-replication-secondary' },
      "certificate's common name 'mirror-maker-2-replicating-the-primary-region.kafka-replication-secondary', longer than 64 characters",
    ],
  ])('rejects %s with a ValidationError', (_what, overrides, message) => {
    expect(() => new MirrorMaker2Chart(new App(), 'mirror-maker-2', { ...CHART_SPEC, ...overrides })).toThrow(message);
    try {
      new MirrorMaker2Chart(new App(), 'mirror-maker-2', { ...CHART_SPEC, ...overrides });
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
    }
  });
});

describe('grantMirrorMaker2', () => {
  const SOURCE_ARN = 'arn:aws:kafka:us-east-1:111122223333:cluster/mlp-tier2-kafka-use1/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-2';
  const TARGET_ARN = 'arn:aws:kafka:us-west-2:111122223333:cluster/mlp-tier2-kafka-usw2/1a2b3c4d-4b5a-6978-8a9b-0c1d2e3f4a5b-2';
  const build = (withGates: boolean) => {
    const app = testApp();
    const stack = new Stack(app, 'Secondary', { env: { account: '111122223333', region: 'us-west-2' } });
    const role = new iam.Role(stack, 'MirrorMaker', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    grantMirrorMaker2(role, { sourceClusterArn: SOURCE_ARN, targetClusterArn: TARGET_ARN, topics: ['job-tasks', 'llm-.*'] });
    if (withGates) addQualityGates(app);
    return { app, stack };
  };

  test('reads the source and writes only the target', () => {
    const statements = Object.values(Template.fromStack(build(false).stack).findResources('AWS::IAM::Policy'))[0]?.Properties.PolicyDocument
      .Statement as { Action: string | string[]; Resource: string | string[] }[];
    const withAction = (action: string) => statements.filter((statement) => [statement.Action].flat().includes(action));
    const sourceTopic = SOURCE_ARN.replace(':cluster/', ':topic/');
    const [readSource, ...otherReads] = withAction('kafka-cluster:DescribeTopicDynamicConfiguration').filter((statement) =>
      [statement.Resource].flat().every((resource) => resource.includes('us-east-1')),
    );
    expect(otherReads).toEqual([]);
    expect(readSource).toMatchObject({
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:ReadData'],
      Resource: [`${sourceTopic}/job-tasks`, `${sourceTopic}/llm-*`],
    });
    expect(withAction('kafka-cluster:CreateTopic').map((statement) => statement.Resource)).toEqual([
      `${TARGET_ARN.replace(':cluster/', ':topic/')}/*`,
    ]);
    for (const statement of statements) {
      const resources = [statement.Resource].flat();
      if ([statement.Action].flat().some((action) => /WriteData|CreateTopic|Alter/.test(action))) {
        for (const resource of resources) expect(resource).not.toContain('us-east-1');
      }
    }
  });

  test('passes the quality gates, its patterns acknowledged on the role', () => {
    expect(() => build(true).app.synth()).not.toThrow();
  });
});
