import { TIER_PRESETS } from './tiers';
import type { TierPreset } from './types';

/** Where the generated table stands in docs/configuration.md. */
export const TIER_TABLE_START = '<!-- tier-table:start (npm run docs:config) -->';
export const TIER_TABLE_END = '<!-- tier-table:end -->';

const ROWS: readonly [string, (preset: TierPreset) => string][] = [
  ['Database engine (default)', (p) => p.database.engine],
  [
    'Postgres writer',
    (p) =>
      `${p.database.engine === 'aurora-postgresql-global' ? `db.${p.database.aurora.instanceClass}` : `db.${p.postgres.instanceClass}, ${p.postgres.allocatedStorageGiB} GiB`}, ` +
      `${p.postgres.readReplicaRoles.length} readers, ${p.postgres.maxConnections} conns${p.postgres.connectionPooler ? ', pooler' : ''}`,
  ],
  ['Postgres as RDS (`-c databaseEngine=rds-postgresql`)', (p) => `db.${p.postgres.instanceClass}, ${p.postgres.allocatedStorageGiB} GiB`],
  ['ClickHouse shards x replicas', (p) => `${p.clickhouse.shards} x ${p.clickhouse.replicasPerShard}`],
  [
    'Kafka brokers / span partitions',
    (p) => `${p.kafka.brokers} / ${p.kafka.topics.find((t) => t.name === 'llm-spans')?.partitions ?? '-'}`,
  ],
  ['Valkey cache', (p) => `${p.redis.shards} x ${p.redis.nodeType.replace(/^cache\./, '')} (${p.redis.targetMemoryGiB} GiB)`],
  ['Batch CPU / GPU max vCPU', (p) => `${p.batch.cpuMaxVcpus} / ${p.batch.gpuMaxVcpus}`],
  ['NAT gateways per VPC', (p) => String(p.network.natGateways)],
];

/** The tier presets' headline sizes as a Markdown table, rendered from `TIER_PRESETS`. */
export function renderTierTable(): string {
  const presets = Object.values(TIER_PRESETS);
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    row(['', ...presets.map((p) => p.name)]),
    row(['---', ...presets.map(() => '---')]),
    ...ROWS.map(([label, cell]) => row([label, ...presets.map(cell)])),
  ].join('\n');
}

/** `document` with the text between the table's markers replaced by the rendered table. */
export function withTierTable(document: string): string {
  const start = document.indexOf(TIER_TABLE_START);
  const end = document.indexOf(TIER_TABLE_END);
  if (start < 0 || end < start) throw new Error(`the document has no ${TIER_TABLE_START} ... ${TIER_TABLE_END} markers`);
  return `${document.slice(0, start + TIER_TABLE_START.length)}\n${renderTierTable()}\n${document.slice(end)}`;
}
