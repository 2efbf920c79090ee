import { App as CdkApp, Stack, Token } from 'aws-cdk-lib';
import { App } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  BACKUP_CRONJOB_NAME,
  BACKUP_ENV_NAME,
  CLICKHOUSE_UID,
  ClickHouseCharts,
  type ClickHouseChartsProps,
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
  SERVER_USERS_NAME,
  SHARD_LABEL,
  ZONE_KEY,
} from '../../../constructs/clickhouse';
import { validateKubernetesObject } from '../../support/k8s-schema';
import { parseXml } from '../../support/xml';

type Obj = Record<string, any>;

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
// CloudFormation tokens, as the compute stack passes them: the chart must carry them untouched.
const IMAGE = Token.asString({ 'Fn::Sub': `111122223333.dkr.ecr.\${AWS::Region}.amazonaws.com/clickhouse-server:26.3` });
const BOOTSTRAP = Token.asString({ 'Fn::GetAtt': ['Kafka', 'BootstrapBrokerStringSaslIam'] });
const BUCKET = Token.asString({ Ref: 'BackupBucket' });

/** A tier's shape ([000] shards x replicas and node size), with the rest as the compute stack passes it. */
function spec(overrides: Partial<ClickHouseChartsProps> = {}): ClickHouseChartsProps {
  return {
    namespace: 'clickhouse',
    clusterName: 'mlp',
    region: 'us-east-1',
    clients: [
      { namespace: 'mlp', access: 'write' },
      { namespace: 'mlp', access: 'read' },
    ],
    tls: { issuer: { kind: 'ClusterIssuer', name: 'mlp-internal-ca' } },
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

/** Every object of both charts, the cluster's first. */
function objects(s: ClickHouseChartsProps): Obj[] {
  const charts = new ClickHouseCharts(new App(), 'ClickHouse', s);
  return [...charts.cluster.toJson(), ...charts.shards.toJson()] as Obj[];
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
    return [
      ...(shard as string).matchAll(
        /<replica><host>([^<]+)<\/host><port>9440<\/port><secure>1<\/secure><user>mlp_interserver<\/user><\/replica>/g,
      ),
    ].map(([, host]) => host as string);
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

  test('probes: /ping over HTTPS on 8443', () => {
    const server = container(named(objects(spec()), 'StatefulSet', 'clickhouse-shard1').spec.template, 'clickhouse');
    for (const probe of [server.startupProbe, server.readinessProbe, server.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/ping', port: 8443, scheme: 'HTTPS' });
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

  test('the query Service selects every server on HTTPS 8443 and native TLS 9440 only', () => {
    const objs = objects(spec({ shards: 2 }));
    const service = named(objs, 'Service', QUERY_SERVICE_NAME);
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports.map((p: Obj) => [p.name, p.port])).toEqual([
      ['https', 8443],
      ['native-tls', 9440],
    ]);
    for (const set of serverSets(objs)) {
      expect(container(set.spec.template, 'clickhouse').ports.map((p: Obj) => p.containerPort)).toEqual([8443, 9440, 9010]);
    }
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
    // Keeper's small requests run on the general pool, not on nodes sized for a ClickHouse server.
    expect(keeper.spec.template.spec.nodeSelector).toEqual({ 'mlp.platform/pool': 'general' });
    expect(keeper.spec.template.spec.containers[0].resources.requests).toEqual({ cpu: '250m', memory: '1024Mi' });
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
    const hosts = [...zookeeper.matchAll(/<host>([^<]+)<\/host><port>9281<\/port><secure>1<\/secure>/g)].map(([, host]) => host);
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
    expect(script).toContain(
      `clickhouse-client --config-file /etc/clickhouse-jobs/client.xml --host ${QUERY_SERVICE_NAME} --port 9440 --secure --multiquery`,
    );
    expect(script).toContain('< /etc/clickhouse-jobs/schema.sql');
  });

  test('a new schema is a new Job; the same schema keeps its name', () => {
    const name = (s: ClickHouseChartsProps) => ofKind(objects(s), 'Job')[0]?.metadata.name;
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
      // Only the client certificates live outside the ClickHouse namespace, in their clients' namespaces.
      const expected = o.kind === 'Certificate' && /^clickhouse-(reader|writer)$/.test(o.metadata.name) ? 'mlp' : 'clickhouse';
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe(expected);
      expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('ml-platform');
    }
  });

  test('the shards chart holds the server StatefulSets, their headless Services and budgets, and depends on the cluster chart', () => {
    const charts = new ClickHouseCharts(new App(), 'ClickHouse', spec({ shards: 2 }));
    const kinds = (charts.shards.toJson() as Obj[]).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds.sort()).toEqual(
      ['clickhouse-shard1', 'clickhouse-shard2']
        .flatMap((name) => [`PodDisruptionBudget/${name}`, `Service/${name}`, `StatefulSet/${name}`])
        .sort(),
    );
    expect(charts.shards.node.dependencies).toContain(charts.cluster);
  });

  test('tier3 (20 x 3): each chart, as the CloudFormation manifest string, stays under 60 % of the 256 KB payload limit', () => {
    const charts = new ClickHouseCharts(
      new App(),
      'ClickHouse',
      spec({ shards: 20, replicasPerShard: 3, nodeVcpus: 64, nodeMemoryGiB: 256, storageGiB: 8192 }),
    );
    const stack = new Stack(new CdkApp(), 'Size');
    for (const chart of [charts.cluster, charts.shards]) {
      // What addCdk8sChart puts into the custom resource: the manifest as one JSON string (quotes escaped).
      const manifest = stack.resolve(stack.toJsonString(chart.toJson()));
      expect(JSON.stringify(manifest).length).toBeLessThan(0.6 * 256 * 1024);
    }
  });
});

describe('validation', () => {
  test.each<[string, Partial<ClickHouseChartsProps>, string]>([
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
    [
      'a client namespace with capitals',
      { clients: [{ namespace: 'Mlp', access: 'read' }] },
      "clients: namespace must be a DNS-1123 label, got 'Mlp'",
    ],
    [
      'a client listed twice',
      { clients: [...spec().clients, { namespace: 'mlp', access: 'read' }] },
      "clients: namespace 'mlp' is listed twice with access 'read'",
    ],
    [
      'an unknown access',
      { clients: [{ namespace: 'mlp', access: 'admin' as 'read' }] },
      "clients: access of namespace 'mlp' must be 'read' or 'write', got 'admin'",
    ],
    [
      'renewal at expiry',
      { tls: { ...spec().tls, durationHours: 24, renewBeforeHours: 24 } },
      'tls.renewBeforeHours must be an integer from 1 to 23, got 24',
    ],
    ['a zero lifetime', { tls: { ...spec().tls, durationHours: 0 } }, 'tls.durationHours must be an integer of at least 1, got 0'],
    ['an issuer name with a space', { tls: { issuer: { kind: 'ClusterIssuer', name: 'internal ca' } } }, 'tls.issuer.name'],
  ])('%s', (_, overrides, message) => {
    expect(() => objects(spec(overrides))).toThrow(message);
  });

  test('the error carries the construct path', () => {
    expect(() => objects(spec({ shards: 0 }))).toThrow(/^ClickHouse: shards/);
  });
});

describe('network policy', () => {
  const policies = objects(spec({ clients: [...spec().clients, { namespace: 'analytics', access: 'read' }] })).filter(
    (o) => o.kind === 'NetworkPolicy',
  );
  const policy = (name: string) => policies.find((o) => o.metadata.name === name)?.spec;
  const namespace = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
  const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: 'TCP', port }));

  test('everything is denied unless a policy admits it', () => {
    expect(policy('clickhouse-default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
  });

  test('servers: query ports from the namespace and each client namespace once, part fetches from servers only', () => {
    expect(policy('clickhouse-server-ingress')).toEqual({
      podSelector: { matchLabels: { [NAME_LABEL]: 'clickhouse' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [namespace('clickhouse'), namespace('mlp'), namespace('analytics')], ports: tcp(8443, 9440) },
        { from: [{ podSelector: { matchLabels: { [NAME_LABEL]: 'clickhouse' } } }], ports: tcp(9010) },
      ],
    });
  });

  test('Keeper: client port from the servers, Raft between members', () => {
    expect(policy('clickhouse-keeper-ingress')).toEqual({
      podSelector: { matchLabels: { [NAME_LABEL]: KEEPER_NAME } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { [NAME_LABEL]: 'clickhouse' } } }], ports: tcp(9281) },
        { from: [{ podSelector: { matchLabels: { [NAME_LABEL]: KEEPER_NAME } } }], ports: tcp(9234) },
      ],
    });
    expect(policies).toHaveLength(3);
    expect(policies.flatMap((o) => validateKubernetesObject(o))).toEqual([]);
  });
});

describe('TLS and authentication', () => {
  const objs = objects(spec({ shards: 2 }));
  const certificate = (namespace: string, name: string): Obj => {
    const found = objs.find((o) => o.kind === 'Certificate' && o.metadata.namespace === namespace && o.metadata.name === name);
    if (!found) throw new Error(`no Certificate ${namespace}/${name}`);
    return found.spec;
  };
  const tlsVolume = (pod: Obj, mountPath: string, containerName: string): Obj => {
    const mount = container(pod, containerName).volumeMounts.find((m: Obj) => m.mountPath === mountPath);
    expect(mount?.readOnly).toBe(true);
    return pod.spec.volumes.find((v: Obj) => v.name === mount.name).secret;
  };

  test('one certificate per role, each from the issuer, ECDSA P-256 with a new key on renewal, 90 days renewed 30 days ahead', () => {
    const certificates = ofKind(objs, 'Certificate');
    expect(certificates.map((o) => `${o.metadata.namespace}/${o.metadata.name} -> ${o.spec.secretName} (${o.spec.commonName})`)).toEqual([
      'clickhouse/clickhouse-server -> clickhouse-server-tls (server.clickhouse)',
      'clickhouse/clickhouse-keeper -> clickhouse-keeper-tls (keeper.clickhouse)',
      'clickhouse/clickhouse-admin -> clickhouse-admin-tls (admin.clickhouse)',
      'mlp/clickhouse-writer -> clickhouse-writer-tls (writer.mlp)',
      'mlp/clickhouse-reader -> clickhouse-reader-tls (reader.mlp)',
    ]);
    for (const { spec: cert } of certificates) {
      expect(cert).toMatchObject({
        duration: '2160h',
        renewBefore: '720h',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'mlp-internal-ca' },
      });
    }
    expect(certificates.flatMap((o) => validateKubernetesObject(o))).toEqual([]);
  });

  test('the server certificate names every replica (per shard), the query Service and localhost; it also authenticates as a client', () => {
    const server = certificate('clickhouse', 'clickhouse-server');
    expect(server.dnsNames).toEqual([
      'localhost',
      'clickhouse',
      'clickhouse.clickhouse',
      'clickhouse.clickhouse.svc',
      'clickhouse.clickhouse.svc.cluster.local',
      '*.clickhouse-shard1.clickhouse.svc.cluster.local',
      '*.clickhouse-shard2.clickhouse.svc.cluster.local',
    ]);
    expect(server.ipAddresses).toEqual(['127.0.0.1']);
    expect(server.usages).toEqual(['digital signature', 'key encipherment', 'server auth', 'client auth']);
    // Every name in remote_servers is covered by one wildcard (a wildcard matches one label).
    for (const host of remoteServerHosts(objs).flat()) {
      expect(server.dnsNames).toContain(`*.${host.split('.').slice(1).join('.')}`);
    }
  });

  test('client certificates are for client authentication only', () => {
    for (const [namespace, name] of [
      ['clickhouse', 'clickhouse-admin'],
      ['mlp', 'clickhouse-reader'],
      ['mlp', 'clickhouse-writer'],
    ] as const) {
      const cert = certificate(namespace, name);
      expect(cert.usages).toEqual(['digital signature', 'key encipherment', 'client auth']);
      expect(cert).not.toHaveProperty('dnsNames');
    }
  });

  test('servers and their backup sidecars mount the server certificate; users come from users.d', () => {
    for (const set of serverSets(objs)) {
      const pod = set.spec.template;
      expect(tlsVolume(pod, '/etc/clickhouse-server/tls', 'clickhouse')).toEqual({
        secretName: 'clickhouse-server-tls',
        defaultMode: 0o440,
      });
      expect(tlsVolume(pod, '/etc/clickhouse-server/tls', 'backup')).toEqual({ secretName: 'clickhouse-server-tls', defaultMode: 0o440 });
      expect(container(pod, 'clickhouse').volumeMounts).toContainEqual({ name: 'users', mountPath: '/etc/clickhouse-server/users.d' });
      expect(pod.spec.volumes).toContainEqual({ name: 'users', configMap: { name: SERVER_USERS_NAME } });
    }
    const users: string = named(objs, 'ConfigMap', SERVER_USERS_NAME).data['users.xml'];
    expect(users).toContain('<common_name>writer.mlp</common_name>');
    expect(users).toContain('<common_name>reader.mlp</common_name>');
  });

  test('the backup sidecar reaches its server as default on localhost over TLS, verifying it', () => {
    expect(named(objs, 'ConfigMap', BACKUP_ENV_NAME).data).toMatchObject({
      CLICKHOUSE_HOST: 'localhost',
      CLICKHOUSE_PORT: '9440',
      CLICKHOUSE_USERNAME: 'default',
      CLICKHOUSE_SECURE: 'true',
      CLICKHOUSE_SKIP_VERIFY: 'false',
      CLICKHOUSE_TLS_CA: '/etc/clickhouse-server/tls/ca.crt',
    });
  });

  test('Keeper members mount theirs; the Jobs mount the admin certificate and its client configuration', () => {
    const keeper = named(objs, 'StatefulSet', KEEPER_NAME).spec.template;
    expect(tlsVolume(keeper, '/etc/clickhouse-keeper/tls', 'keeper')).toEqual({ secretName: 'clickhouse-keeper-tls', defaultMode: 0o440 });
    const jobPods = [ofKind(objs, 'Job')[0]?.spec.template, named(objs, 'CronJob', BACKUP_CRONJOB_NAME).spec.jobTemplate.spec.template];
    for (const pod of jobPods) {
      expect(tlsVolume(pod, '/etc/clickhouse-client/tls', pod.spec.containers[0].name)).toEqual({
        secretName: 'clickhouse-admin-tls',
        defaultMode: 0o440,
      });
    }
    expect(named(objs, 'ConfigMap', JOBS_CONFIG_NAME).data['client.xml']).toContain('<user>mlp_admin</user>');
    expect(named(objs, 'ConfigMap', JOBS_CONFIG_NAME).data['backup.sh']).toContain(
      'q() { clickhouse-client --config-file /etc/clickhouse-jobs/client.xml --host "$1" --port 9440 --secure --query "$2"; }',
    );
  });

  test('every XML file in the ConfigMaps is well-formed', () => {
    const files = ofKind(objs, 'ConfigMap')
      .flatMap((o) => Object.entries(o.data as Record<string, string>))
      .filter(([file]) => file.endsWith('.xml'));
    expect(files.map(([file]) => file).sort()).toEqual(
      ['client.xml', 'keeper_config.xml', 'macros.xml', 'remote-servers.xml', 'server.xml', 'users.xml', 'zookeeper.xml'].sort(),
    );
    for (const [, text] of files) expect(() => parseXml(text)).not.toThrow();
  });
});
