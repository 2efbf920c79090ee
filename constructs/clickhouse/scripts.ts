import { type ClickHouseTopology, NATIVE_SECURE_PORT, podDnsName, QUERY_SERVICE_NAME, shardName } from './topology';

/**
 * Shell scripts of the schema Job and the backup CronJob, run by `sh` in the ClickHouse server
 * image (for its `clickhouse-client`). They live in a ConfigMap, not in the pod specs, so Kubernetes
 * does not expand their `$(...)`.
 */

/** Where the Jobs mount their ConfigMap. */
export const JOBS_DIR = '/etc/clickhouse-jobs';
export const SCHEMA_FILE = 'schema.sql';
/** The Jobs' scripts, in the same ConfigMap. */
export const SCHEMA_SCRIPT_FILE = 'schema.sh';
export const BACKUP_SCRIPT_FILE = 'backup.sh';
/** The Jobs' `clickhouse-client` configuration (TLS, admin certificate), in the same ConfigMap. */
export const CLIENT_CONFIG_FILE = 'client.xml';

/** `clickhouse-client` over TLS as the admin user, to `host` (a shell word). */
const client = (host: string) =>
  `clickhouse-client --config-file ${JOBS_DIR}/${CLIENT_CONFIG_FILE} --host ${host} --port ${NATIVE_SECURE_PORT} --secure`;

/**
 * Wait until the query Service answers (the Job may start before any server is ready), then run the
 * schema. `ON CLUSTER` statements wait up to 5 minutes per statement for every replica; a replica
 * that is down gets a NULL status instead of failing the Job, and runs the statements from the
 * distributed DDL queue when it is back.
 */
export function schemaScript(): string {
  return [
    'set -eu',
    'attempt=0',
    `until ${client(QUERY_SERVICE_NAME)} --query 'SELECT 1' >/dev/null 2>&1; do`,
    '  attempt=$((attempt + 1))',
    '  if [ "$attempt" -ge 60 ]; then echo "ClickHouse did not answer in 10 minutes" >&2; exit 1; fi',
    '  sleep 10',
    'done',
    `exec ${client(QUERY_SERVICE_NAME)} --multiquery \\`,
    '  --distributed_ddl_task_timeout 300 --distributed_ddl_output_mode null_status_on_timeout \\',
    `  < ${JOBS_DIR}/${SCHEMA_FILE}`,
    '',
  ].join('\n');
}

/**
 * Back up every shard once: on the first replica of each shard that answers, ask its
 * clickhouse-backup sidecar (through the `system.backup_actions` table it creates) to
 * `create_remote` a backup, which uploads it under the shard's S3 path and then deletes the remote
 * backups beyond the configured count. All shards run in parallel; the script waits for each and
 * fails if any shard has no backup.
 */
export function backupScript(topology: ClickHouseTopology, namespace: string): string {
  const host = podDnsName(`${shardName('$s')}-$r`, shardName('$s'), namespace);
  return [
    'set -u',
    'name="daily-$(date -u +%Y%m%dT%H%M%S)"',
    `q() { ${client('"$1"')} --query "$2"; }`,
    'failed=0',
    'started=""',
    `for s in $(seq 1 ${topology.shards.length}); do`,
    '  chosen=""',
    `  for r in $(seq 0 ${topology.replicasPerShard - 1}); do`,
    `    host="${host}"`,
    '    if q "$host" "SELECT 1" >/dev/null 2>&1; then chosen="$host"; break; fi',
    '  done',
    `  if [ -n "$chosen" ] && q "$chosen" "INSERT INTO system.backup_actions(command) VALUES ('create_remote $name')"; then`,
    '    echo "shard $s: create_remote $name on $chosen"',
    '    started="$started $chosen"',
    '  else',
    '    echo "shard $s: no replica started the backup" >&2',
    '    failed=1',
    '  fi',
    'done',
    'for host in $started; do',
    '  errors=0',
    '  while :; do',
    `    status="$(q "$host" "SELECT status FROM system.backup_actions WHERE command = 'create_remote $name' ORDER BY start DESC LIMIT 1" 2>/dev/null)" || status=unreachable`,
    '    if [ "$status" = "in progress" ]; then errors=0',
    '    elif [ "$status" = unreachable ] && [ "$errors" -lt 10 ]; then errors=$((errors + 1))',
    '    else break',
    '    fi',
    '    sleep 30',
    '  done',
    '  if [ "$status" = success ]; then echo "$host: $name uploaded"; else echo "$host: $name ended with status \'$status\'" >&2; failed=1; fi',
    'done',
    'exit "$failed"',
    '',
  ].join('\n');
}

/** Start command of a Keeper member: its Raft id is its StatefulSet ordinal + 1. */
export function keeperStartScript(idEnv: string, configFile: string): string {
  return ['set -eu', `export ${idEnv}="$(( \${HOSTNAME##*-} + 1 ))"`, `exec clickhouse-keeper --config-file=${configFile}`, ''].join('\n');
}
