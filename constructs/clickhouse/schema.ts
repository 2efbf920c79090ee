import type { ClickHouseKafkaSpec } from './types';

export interface SchemaOptions {
  readonly clusterName: string;
  readonly database: string;
  readonly kafka: ClickHouseKafkaSpec;
  /** Region of the MSK cluster, for the IAM signature. */
  readonly region: string;
  /** Delete rows older than this many days. @default - no TTL */
  readonly tableTtlDays?: number;
}

/** Table name suffixes: `<name>_local` holds a shard's rows, `<name>` is the Distributed table over all shards. */
const LOCAL = '_local';

interface TableDefinition {
  readonly name: string;
  readonly columns: readonly string[];
  readonly timeColumn: string;
  readonly orderBy: string;
  /** Distributed sharding key. */
  readonly shardingKey: string;
}

/** [004] spans are sharded by tenant (query locality); evaluations follow their spans' tenant. */
const SPANS: TableDefinition = {
  name: 'spans',
  columns: [
    'org_id String',
    'trace_id String',
    'span_id String',
    'parent_span_id String',
    'name LowCardinality(String)',
    'kind LowCardinality(String)',
    'status LowCardinality(String)',
    'model LowCardinality(String)',
    "start_time DateTime64(6, 'UTC')",
    "end_time DateTime64(6, 'UTC')",
    'input_tokens UInt32',
    'output_tokens UInt32',
    'cost_usd Float64',
    'attributes Map(LowCardinality(String), String)',
  ],
  timeColumn: 'start_time',
  orderBy: 'org_id, start_time, trace_id, span_id',
  shardingKey: 'cityHash64(org_id)',
};

const EVALUATIONS: TableDefinition = {
  name: 'evaluations',
  columns: [
    'org_id String',
    'trace_id String',
    'span_id String',
    'evaluation_id String',
    'evaluator LowCardinality(String)',
    'metric LowCardinality(String)',
    'score Float64',
    'label LowCardinality(String)',
    'explanation String',
    "created_at DateTime64(3, 'UTC')",
  ],
  timeColumn: 'created_at',
  orderBy: 'org_id, trace_id, created_at, evaluation_id',
  shardingKey: 'cityHash64(org_id)',
};

/** [000] experiment metrics are sharded by run (`cityHash64(run_id) % num_shards`). */
const METRICS: TableDefinition = {
  name: 'metrics',
  columns: [
    'run_id String',
    'experiment_id String',
    'key LowCardinality(String)',
    'value Float64',
    'step Int64',
    "timestamp DateTime64(3, 'UTC')",
  ],
  timeColumn: 'timestamp',
  orderBy: 'run_id, key, step, timestamp',
  shardingKey: 'cityHash64(run_id)',
};

/**
 * The platform's schema, idempotent (every statement is `IF NOT EXISTS`, so the Job can run again
 * after any change or failure) and `ON CLUSTER` (every replica gets every table):
 *
 * - `<table>_local`: ReplicatedMergeTree, one Keeper path per shard, one replica per pod;
 * - `<table>`: Distributed over the cluster with the table's sharding key;
 * - `<topic>_queue` (Kafka engine, MSK IAM) and `<topic>_ingest`, a materialized view into the
 *   Distributed table, so each row lands on its shard whichever replica consumed it.
 *
 * `IF NOT EXISTS` never alters an existing table: a changed column list or Kafka setting needs a
 * migration (for the Kafka tables: drop the queue and its view, then rerun the Job).
 */
export function schemaSql(options: SchemaOptions): string {
  const { clusterName: cluster, database: db } = options;
  const onCluster = `ON CLUSTER ${cluster}`;
  const statements: string[] = [`CREATE DATABASE IF NOT EXISTS ${db} ${onCluster}`];

  for (const table of [SPANS, EVALUATIONS, METRICS]) {
    const ttl = options.tableTtlDays === undefined ? [] : [`TTL toDateTime(${table.timeColumn}) + INTERVAL ${options.tableTtlDays} DAY`];
    statements.push(
      [
        `CREATE TABLE IF NOT EXISTS ${db}.${table.name}${LOCAL} ${onCluster}`,
        `(\n  ${table.columns.join(',\n  ')}\n)`,
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
        `PARTITION BY toYYYYMM(${table.timeColumn})`,
        `ORDER BY (${table.orderBy})`,
        ...ttl,
        ...(options.tableTtlDays === undefined ? [] : ['SETTINGS ttl_only_drop_parts = 1']),
      ].join('\n'),
      `CREATE TABLE IF NOT EXISTS ${db}.${table.name} ${onCluster} AS ${db}.${table.name}${LOCAL}\n` +
        `ENGINE = Distributed(${cluster}, ${db}, ${table.name}${LOCAL}, ${table.shardingKey})`,
    );
  }

  const { kafka } = options;
  for (const [table, topic] of [
    [SPANS, kafka.topics.spans],
    [EVALUATIONS, kafka.topics.evaluations],
  ] as const) {
    statements.push(
      [
        `CREATE TABLE IF NOT EXISTS ${db}.${table.name}_queue ${onCluster}`,
        `(\n  ${table.columns.join(',\n  ')}\n)`,
        'ENGINE = Kafka',
        'SETTINGS',
        `  kafka_broker_list = '${kafka.bootstrapServers}',`,
        `  kafka_topic_list = '${topic}',`,
        `  kafka_group_name = '${kafka.consumerGroup}-${table.name}',`,
        "  kafka_format = 'JSONEachRow',",
        "  kafka_security_protocol = 'sasl_ssl',",
        "  kafka_sasl_mechanism = 'AWS_MSK_IAM',",
        `  kafka_aws_region = '${options.region}',`,
        '  input_format_skip_unknown_fields = 1,',
        "  date_time_input_format = 'best_effort'",
      ].join('\n'),
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${table.name}_ingest ${onCluster} TO ${db}.${table.name}\n` +
        `AS SELECT * FROM ${db}.${table.name}_queue`,
    );
  }
  return `${statements.join(';\n\n')};\n`;
}
