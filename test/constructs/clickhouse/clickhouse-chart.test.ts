import { App as CdkApp, Stack, Token } from 'aws-cdk-lib';
import { App } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  BACKUP_CRONJOB_NAME,
  BACKUP_ENV_NAME,
  CLICKHOUSE_UID,
  type ClickHouseSpec,
  clickHouseChart,
  HOSTNAME_KEY,
  JOBS_CONFIG_NAME,
  KEEPER_CONFIG_NAME,
  KEEPER_ID_ENV,
  KEEPER_NAME,
  NAME_LABEL,
  QUERY_SERVICE_NAME,
  SCHEMA_FILE,
  SCHEMA_JOB_PREFIX,
  SERVER_CONFIG_NAME,
  SHARD_LABEL,
  ZONE_KEY,
} from '../../../constructs/clickhouse';
import { validateKubernetesObject } from '../../support/k8s-schema';

type Obj = Record<string, any>;

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
// CloudFormation tokens, as the compute stack passes them: the chart must carry them untouched.
const IMAGE = Token.asString({ 'Fn::Sub': `111122223333.dkr.ecr.\${AWS::Region}.amazonaws.com/clickhouse-server:26.3` });
const BOOTSTRAP = Token.asString({ 'Fn::GetAtt': ['Kafka', 'BootstrapBrokerStringSaslIam'] });
const BUCKET = Token.asString({ Ref: 'BackupBucket' });

/** A tier's shape ([000] shards x replicas and node size), with the rest as the compute stack passes it. */
function spec(overrides: Partial<ClickHouseSpec> = {}): ClickHouseSpec {
  return {
    namespace: 'clickhouse',
    clusterName: 'mlp',
    region: 'us-east-1',
    queryClientNamespaces: ['mlp'],
    shards: 3,
    replicasPerShard: 2,
    nodeVcpus: 16,
    nodeMemoryGiB: 64,
    storageGiB: 2048,
    storageClass: 'gp3',
    keeperNodes: 3,
    image: IMAGE,
    keeperImage: 'clickhouse/clickhouse-keeper:26.3',
    serviceAccountName: 'clickhouse',
    backup: {
      bucketName: BUCKET,
      prefix: 'clickhouse',
      retentionDays: 30,
      schedule: '0 2 * * *',
      image: 'altinity/clickhouse-backup:2.6.5',
    },
    kafka: { bootstrapServers: BOOTSTRAP, topics: { spans: 'llm-spans', evaluations: 'llm-evaluations' }, consumerGroup: 'clickhouse' },
    zones: ZONES,
    ...overrides,
  };
}

function objects(s: ClickHouseSpec): Obj[] {
  return clickHouseChart(new App(), s).toJson() as Obj[];
}

const ofKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
function named(objs: Obj[], kind: string, name: string): Obj {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}
const serverSets = (objs: Obj[]) => ofKind(objs, 'StatefulSet').filter((o) => o.metadata.name !== KEEPER_NAME);
const container = (pod: Obj, name: string): Obj => pod.spec.containers.find((c: Obj) => c.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** Hosts of `remote_servers`, shard by shard. */
function remoteServerHosts(objs: Obj[]): string[][] {
  const xml: string = named(objs, 'ConfigMap', SERVER_CONFIG_NAME).data['remote-servers.xml'];
  return [...xml.matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map(([, shard]) => {
    expect(shard).toContain('<internal_replication>true</internal_replication>');
    return [...(shard as string).matchAll(/<replica><host>([^<]+)<\/host><port>9000<\/port><\/replica>/g)].map(
      ([, host]) => host as string,
    );
  });
}

/** DNS names of a StatefulSet's pods, as Kubernetes gives them through the headless Service it names. */
function podDnsNames(objs: Obj[], set: Obj): string[] {
  const service = named(objs, 'Service', set.spec.serviceName);
  expect(service.spec.clusterIP).toBe('None');
  expect(matches(service.spec.selector, set.spec.template.metadata.labels)).toBe(true);
  return Array.from(
    { length: set.spec.replicas },
    (_, i) => `${set.metadata.name}-${i}.${set.spec.serviceName}.${set.metadata.namespace}.svc.cluster.local`,
  );
}

describe('servers', () => {
  test.each([
    [1, 2],
    [3, 2],
    [8, 2],
    [20, 3],
  ])('%i x %i: remote_servers lists exactly the pods of one StatefulSet per shard', (shards, replicas) => {
    const objs = objects(spec({ shards, replicasPerShard: replicas }));
    const sets = serverSets(objs);

    expect(sets).toHaveLength(shards);
    const hosts = remoteServerHosts(objs);
    expect(hosts.flat()).toHaveLength(shards * replicas);
    expect(hosts).toEqual(sets.map((set) => podDnsNames(objs, set)));
    for (const set of sets) expect(set.spec.replicas).toBe(replicas);
  });

  test('each shard: Parallel StatefulSet, data volume on the storage class, memory pool, zone and node anti-affinity', () => {
    const objs = objects(spec({ storageClass: 'io2', storageGiB: 8192 }));
    const set = named(objs, 'StatefulSet', 'clickhouse-shard2');
    const pod = set.spec.template;
    const shardSelector = { [NAME_LABEL]: 'clickhouse', [SHARD_LABEL]: '2' };

    expect(set.spec.podManagementPolicy).toBe('Parallel');
    expect(set.spec.selector.matchLabels).toEqual(shardSelector);
    expect(set.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'io2', resources: { requests: { storage: '8192Gi' } } },
      },
    ]);
    expect(pod.spec.nodeSelector).toEqual({ 'mlp.platform/pool': 'memory' });
    expect(pod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: shardSelector }, topologyKey: ZONE_KEY },
      { labelSelector: { matchLabels: { [NAME_LABEL]: 'clickhouse' } }, topologyKey: HOSTNAME_KEY },
    ]);
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: ZONE_KEY, operator: 'In', values: ZONES }] },
    ]);
    expect(container(pod, 'clickhouse').volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/clickhouse' });
    expect(container(pod, 'backup').volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/clickhouse' });
  });

  test('server and sidecar together request 85 % of the node; memory limit = request', () => {
    const pod = named(objects(spec({ nodeVcpus: 16, nodeMemoryGiB: 64 })), 'StatefulSet', 'clickhouse-shard1').spec.template;
    expect(container(pod, 'clickhouse').resources).toEqual({
      requests: { cpu: '13350m', memory: '54681Mi' },
      limits: { cpu: '16', memory: '54681Mi' },
    });
    expect(container(pod, 'backup').resources).toEqual({
      requests: { cpu: '250m', memory: '1024Mi' },
      limits: { cpu: '1', memory: '1024Mi' },
    });
  });

  test('macros come from the environment each server container sets', () => {
    const objs = objects(spec());
    const macros: string = named(objs, 'ConfigMap', SERVER_CONFIG_NAME).data['macros.xml'];
    const fromEnv = [...macros.matchAll(/from_env="(\w+)"/g)].map(([, name]) => name);
    expect(fromEnv).toHaveLength(2);
    const server = container(named(objs, 'StatefulSet', 'clickhouse-shard3').spec.template, 'clickhouse');
    const env = Object.fromEntries(server.env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      CLICKHOUSE_SHARD: '3',
      CLICKHOUSE_REPLICA: { fieldRef: { fieldPath: 'metadata.name' } },
      CLICKHOUSE_INTERSERVER_HOST: '$(CLICKHOUSE_REPLICA).clickhouse-shard3.clickhouse.svc.cluster.local',
    });
    for (const name of fromEnv) expect(env).toHaveProperty(name as string);
  });

  test('probes: /ping on 8123', () => {
    const server = container(named(objects(spec()), 'StatefulSet', 'clickhouse-shard1').spec.template, 'clickhouse');
    for (const probe of [server.startupProbe, server.readinessProbe, server.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/ping', port: 8123 });
    }
    expect(server.startupProbe.failureThreshold * server.startupProbe.periodSeconds).toBe(900);
  });

  test('every pod runs as UID 101, non-root, read-only root, no capabilities, RuntimeDefault seccomp, no API token', () => {
    const objs = objects(spec());
    const pods = [
      ...ofKind(objs, 'StatefulSet').map((o) => o.spec.template),
      ...ofKind(objs, 'Job').map((o) => o.spec.template),
      ...ofKind(objs, 'CronJob').map((o) => o.spec.jobTemplate.spec.template),
    ];
    expect(pods).toHaveLength(3 + 1 + 2);
    for (const pod of pods) {
      expect(pod.spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: CLICKHOUSE_UID,
        runAsGroup: CLICKHOUSE_UID,
        fsGroup: CLICKHOUSE_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.spec.automountServiceAccountToken).toBe(false);
      for (const c of pod.spec.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
    expect(named(objs, 'Namespace', 'clickhouse').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('one disruption budget per shard: maxUnavailable 1 over the shard', () => {
    const objs = objects(spec({ shards: 4 }));
    for (const set of serverSets(objs)) {
      expect(named(objs, 'PodDisruptionBudget', set.metadata.name).spec).toEqual({
        maxUnavailable: 1,
        selector: { matchLabels: set.spec.selector.matchLabels },
      });
    }
  });

  test('the query Service selects every server on 8123 and 9000', () => {
    const objs = objects(spec({ shards: 2 }));
    const service = named(objs, 'Service', QUERY_SERVICE_NAME);
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports.map((p: Obj) => [p.name, p.port])).toEqual([
      ['http', 8123],
      ['native', 9000],
    ]);
    const selected = serverSets(objs).filter((set) => matches(service.spec.selector, set.spec.template.metadata.labels));
    expect(selected).toHaveLength(2);
    expect(matches(service.spec.selector, named(objs, 'StatefulSet', KEEPER_NAME).spec.template.metadata.labels)).toBe(false);
  });

  test('the image token is carried untouched', () => {
    const pod = named(objects(spec()), 'StatefulSet', 'clickhouse-shard1').spec.template;
    expect(container(pod, 'clickhouse').image).toBe(IMAGE);
  });
});

describe('Keeper', () => {
  test('3 members, one per zone (required anti-affinity on the zone), PDB of one, Raft ids from the ordinal', () => {
    const objs = objects(spec());
    const keeper = named(objs, 'StatefulSet', KEEPER_NAME);
    const selector = keeper.spec.selector.matchLabels;

    expect(keeper.spec.replicas).toBe(3);
    expect(keeper.spec.podManagementPolicy).toBe('Parallel');
    expect(keeper.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: selector }, topologyKey: ZONE_KEY },
    ]);
    expect(keeper.spec.template.spec.nodeSelector).toEqual({ 'mlp.platform/pool': 'memory' });
    expect(named(objs, 'PodDisruptionBudget', KEEPER_NAME).spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
    expect(named(objs, 'Service', KEEPER_NAME).spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });

    const config = named(objs, 'ConfigMap', KEEPER_CONFIG_NAME).data;
    const hostnames = [...config['keeper_config.xml'].matchAll(/<hostname>([^<]+)<\/hostname>/g)].map(([, host]: string[]) => host);
    expect(hostnames).toEqual(podDnsNames(objs, keeper));
    expect(config['start.sh']).toContain(`export ${KEEPER_ID_ENV}="$(( \${HOSTNAME##*-} + 1 ))"`);
    expect(keeper.spec.template.spec.containers[0].readinessProbe.httpGet).toEqual({ path: '/ready', port: 9182 });
  });

  test('servers list the Keeper members', () => {
    const objs = objects(spec());
    const zookeeper: string = named(objs, 'ConfigMap', SERVER_CONFIG_NAME).data['zookeeper.xml'];
    const hosts = [...zookeeper.matchAll(/<host>([^<]+)<\/host><port>9181<\/port>/g)].map(([, host]) => host);
    expect(hosts).toEqual(podDnsNames(objs, named(objs, 'StatefulSet', KEEPER_NAME)));
  });

  test('5 members over 3 zones: one per node, at most 2 per zone', () => {
    const pod = named(objects(spec({ keeperNodes: 5 })), 'StatefulSet', KEEPER_NAME).spec.template;
    expect(pod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe(HOSTNAME_KEY);
    expect(pod.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: ZONE_KEY,
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { [NAME_LABEL]: KEEPER_NAME } },
      },
    ]);
  });
});

describe('schema Job', () => {
  const sqlOf = (objs: Obj[]): string => named(objs, 'ConfigMap', JOBS_CONFIG_NAME).data[SCHEMA_FILE];

  test('idempotent DDL: replicated local tables, Distributed tables on the seed sharding keys, Kafka ingestion', () => {
    const sql = sqlOf(objects(spec()));
    const statements = sql
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);

    for (const statement of statements)
      expect(statement).toMatch(/^CREATE (DATABASE|TABLE|MATERIALIZED VIEW) IF NOT EXISTS \S+ ON CLUSTER mlp\b/);
    for (const table of ['spans', 'evaluations', 'metrics']) {
      expect(sql).toContain(`CREATE TABLE IF NOT EXISTS mlp.${table}_local ON CLUSTER mlp`);
    }
    expect(
      sql.match(/ENGINE = ReplicatedMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)/g),
    ).toHaveLength(3);
    expect(sql).toContain('ENGINE = Distributed(mlp, mlp, spans_local, cityHash64(org_id))');
    expect(sql).toContain('ENGINE = Distributed(mlp, mlp, evaluations_local, cityHash64(org_id))');
    expect(sql).toContain('ENGINE = Distributed(mlp, mlp, metrics_local, cityHash64(run_id))');
    expect(sql).toContain(`kafka_broker_list = '${BOOTSTRAP}'`);
    expect(sql).toContain("kafka_topic_list = 'llm-spans'");
    expect(sql).toContain("kafka_topic_list = 'llm-evaluations'");
    expect(sql).toContain("kafka_group_name = 'clickhouse-spans'");
    expect(sql.match(/kafka_sasl_mechanism = 'AWS_MSK_IAM'/g)).toHaveLength(2);
    // The views write to the Distributed tables, so a row lands on its shard whichever replica consumed it.
    expect(sql).toContain(
      'CREATE MATERIALIZED VIEW IF NOT EXISTS mlp.spans_ingest ON CLUSTER mlp TO mlp.spans\nAS SELECT * FROM mlp.spans_queue',
    );
    expect(sql).not.toContain('TTL');
  });

  test('a TTL when asked for', () => {
    expect(sqlOf(objects(spec({ tableTtlDays: 730 })))).toContain('TTL toDateTime(start_time) + INTERVAL 730 DAY');
  });

  test('runs clickhouse-client --multiquery against the query Service, with retries and a TTL', () => {
    const objs = objects(spec());
    const [job] = ofKind(objs, 'Job');
    expect(job?.metadata.name).toMatch(new RegExp(`^${SCHEMA_JOB_PREFIX}[0-9a-f]{10}$`));
    expect(job?.spec).toMatchObject({ backoffLimit: 6, ttlSecondsAfterFinished: 86_400 });
    const pod = job?.spec.template;
    expect(pod.spec.containers[0]).toMatchObject({ image: IMAGE, command: ['sh', '/etc/clickhouse-jobs/schema.sh'] });
    expect(pod.spec.nodeSelector).toEqual({ 'mlp.platform/pool': 'general' });
    const script: string = named(objs, 'ConfigMap', JOBS_CONFIG_NAME).data['schema.sh'];
    expect(script).toContain(`clickhouse-client --host ${QUERY_SERVICE_NAME} --port 9000 --multiquery`);
    expect(script).toContain('< /etc/clickhouse-jobs/schema.sql');
  });

  test('a new schema is a new Job; the same schema keeps its name', () => {
    const name = (s: ClickHouseSpec) => ofKind(objects(s), 'Job')[0]?.metadata.name;
    expect(name(spec())).toBe(name(spec()));
    expect(name(spec({ tableTtlDays: 90 }))).not.toBe(name(spec()));
  });
});

describe('backups', () => {
  test('a daily CronJob, Forbid, runs the backup script', () => {
    const objs = objects(spec());
    const cron = named(objs, 'CronJob', BACKUP_CRONJOB_NAME);
    expect(cron.spec).toMatchObject({ schedule: '0 2 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].command).toEqual(['sh', '/etc/clickhouse-jobs/backup.sh']);
    const script: string = named(objs, 'ConfigMap', JOBS_CONFIG_NAME).data['backup.sh'];
    expect(script).toContain('for s in $(seq 1 3)');
    expect(script).toContain('for r in $(seq 0 1)');
    expect(script).toContain('host="clickhouse-shard$s-$r.clickhouse-shard$s.clickhouse.svc.cluster.local"');
    expect(script).toContain("INSERT INTO system.backup_actions(command) VALUES ('create_remote $name')");
  });

  test('every server has a clickhouse-backup sidecar uploading to s3://<bucket>/<prefix>/shard-<n> and keeping retentionDays backups', () => {
    const objs = objects(spec());
    expect(named(objs, 'ConfigMap', BACKUP_ENV_NAME).data).toMatchObject({
      REMOTE_STORAGE: 's3',
      S3_BUCKET: BUCKET,
      S3_REGION: 'us-east-1',
      BACKUPS_TO_KEEP_REMOTE: '30',
      BACKUPS_TO_KEEP_LOCAL: '-1',
      API_LISTEN: '127.0.0.1:7171',
      API_CREATE_INTEGRATION_TABLES: 'true',
    });
    for (const set of serverSets(objs)) {
      const pod = set.spec.template.spec;
      const sidecar = container(set.spec.template, 'backup');
      expect(pod.serviceAccountName).toBe('clickhouse');
      expect(sidecar.command).toEqual(['clickhouse-backup', 'server']);
      expect(sidecar.envFrom).toEqual([{ configMapRef: { name: BACKUP_ENV_NAME } }]);
      expect(sidecar.env).toEqual([{ name: 'S3_PATH', value: `clickhouse/shard-${set.metadata.labels[SHARD_LABEL]}` }]);
    }
    expect(named(objs, 'ServiceAccount', 'clickhouse').automountServiceAccountToken).toBe(false);
  });
});

describe('manifest', () => {
  test.each([
    [1, 2, 5],
    [20, 3, 3],
  ])('%i x %i with %i Keepers: every object passes the Kubernetes schema', (shards, replicas, keeperNodes) => {
    const objs = objects(spec({ shards, replicasPerShard: replicas, keeperNodes }));
    expect(objs.flatMap((o) => validateKubernetesObject(o))).toEqual([]);
    for (const o of objs) {
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('clickhouse');
      expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('ml-platform');
    }
  });

  test('tier3 (20 x 3) stays under 150 KB, as chart JSON and as the CloudFormation manifest string', () => {
    const objs = objects(spec({ shards: 20, replicasPerShard: 3, nodeVcpus: 64, nodeMemoryGiB: 256, storageGiB: 8192 }));
    expect(JSON.stringify(objs).length).toBeLessThan(150_000);
    // What addCdk8sChart puts into the custom resource: the manifest as one JSON string (quotes escaped).
    const stack = new Stack(new CdkApp(), 'Size');
    const manifest = stack.resolve(stack.toJsonString(objs));
    expect(JSON.stringify(manifest).length).toBeLessThan(150_000);
  });
});

describe('validation', () => {
  test.each<[string, Partial<ClickHouseSpec>, string]>([
    ['0 shards', { shards: 0 }, 'shards must be an integer of at least 1, got 0'],
    ['4 replicas', { replicasPerShard: 4 }, 'replicasPerShard must be an integer from 1 to 3, got 4'],
    ['0 replicas', { replicasPerShard: 0 }, 'replicasPerShard must be an integer from 1 to 3, got 0'],
    ['4 Keepers', { keeperNodes: 4 }, 'keeperNodes must be 3 or 5 (an odd ensemble that keeps a quorum with one member down), got 4'],
    ['2 Keepers', { keeperNodes: 2 }, 'keeperNodes must be 3 or 5'],
    ['no storage', { storageGiB: 0 }, 'storageGiB must be an integer of at least 1, got 0'],
    ['2 zones', { zones: ['us-east-1a', 'us-east-1b'] }, 'zones must name at least 3 availability zones'],
    ['a repeated zone', { zones: ['us-east-1a', 'us-east-1b', 'us-east-1a'] }, 'zones must be distinct'],
    [
      'a hyphen in the cluster name',
      { clusterName: 'mlp-1' },
      "clusterName must be lower-case letters, digits and '_', starting with a letter, got 'mlp-1'",
    ],
    ['a tiny node', { nodeVcpus: 1 }, 'nodeVcpus must be an integer of at least 2, got 1'],
    ['a quote in the region', { region: "us-east-1'" }, 'region must be non-empty, without quotes'],
    [
      'a bad schedule',
      { backup: { ...spec().backup, schedule: '@daily now' } },
      "backup.schedule must be a 5-field cron expression, got '@daily now'",
    ],
    ['a slash-ended prefix', { backup: { ...spec().backup, prefix: 'clickhouse/' } }, 'backup.prefix must be a non-empty key prefix'],
    [
      'a quote in a topic',
      { kafka: { ...spec().kafka, topics: { spans: "spans'", evaluations: 'e' } } },
      "kafka.topics.spans must be a Kafka name (letters, digits, '.', '_', '-'), got 'spans''",
    ],
  ])('%s', (_, overrides, message) => {
    expect(() => objects(spec(overrides))).toThrow(message);
  });

  test('the error carries the chart path', () => {
    expect(() => objects(spec({ shards: 0 }))).toThrow(/^clickhouse: shards/);
  });
});

describe('network policy', () => {
  const objects = (clickHouseChart(new App(), spec()).toJson() as Obj[]).filter((o) => o.kind === 'NetworkPolicy');

  test('only the ClickHouse namespace, and clients on the query ports, may connect', () => {
    expect(objects).toHaveLength(1);
    expect(objects[0]?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'clickhouse' } } }] },
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlp' } } }],
          ports: [
            { protocol: 'TCP', port: 8123 },
            { protocol: 'TCP', port: 9000 },
          ],
        },
      ],
    });
    expect(validateKubernetesObject(objects[0])).toEqual([]);
  });
});
