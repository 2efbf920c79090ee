import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { Signer } from '@aws-sdk/rds-signer';
import pg from 'pg';
import { runbookNames } from '../../lib/config/naming';
import type { AwsClients } from './clients';
import { APPLICATION_ROLES, FENCE_SQL } from './database-bootstrap';
import { ERROR, RunbookError } from './errors';

/** Where a region's PostgreSQL instance answers. */
export interface DatabaseEndpoint {
  readonly region: string;
  readonly instanceIdentifier: string;
  readonly host: string;
  readonly port: number;
}

export interface HeartbeatMark {
  readonly seq: number;
  readonly writtenAt: string;
}

/**
 * What the runbooks do on a database's data plane: read and write heartbeats, fence. Narrow on
 * purpose: no step sends arbitrary SQL, so the agent that runs these in another region cannot be
 * made to run anything else.
 */
export interface DatabasePlane {
  latestHeartbeat(endpoint: DatabaseEndpoint, writer?: string): Promise<HeartbeatMark | undefined>;
  writeHeartbeat(endpoint: DatabaseEndpoint, writer: string, seq: number, writtenAt: string): Promise<void>;
  /**
   * Every application role becomes NOLOGIN, then every session of those roles is ended, in every
   * database: no client can connect, and none is left connected. A client cannot undo it (it is a
   * role attribute, not a session setting); the master user and the runbook role are not fenced.
   */
  fence(endpoint: DatabaseEndpoint): Promise<{ terminatedSessions: number }>;
  /**
   * Undo a fence on a newly promoted primary (the application roles LOGIN again). Roles stream to
   * the replicas with everything else: a replica promoted after a planned fence inherits NOLOGIN.
   */
  unfence(endpoint: DatabaseEndpoint): Promise<void>;
}

export const DATABASE_OPERATIONS = ['latestHeartbeat', 'writeHeartbeat', 'fence', 'unfence'] as const;
export type DatabaseOperation = (typeof DATABASE_OPERATIONS)[number];

/** Connection attempts give up after this long: a lost region must not stall a step. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** A runbook statement gives up after this long (PostgreSQL `statement_timeout`). */
export const STATEMENT_TIMEOUT_MS = 10_000;

/** The platform writer's heartbeat rows are written under this name. */
export const PLATFORM_WRITER = 'platform';

/**
 * The heartbeat: a row a second from the platform's writer, and one per runbook verification. RPO is
 * measured by comparing the newest row the new primary holds with the newest the old one
 * acknowledged, never by `ReplicaLag` alone (it grows on an idle primary).
 */
export const HEARTBEAT_SQL = {
  schema: 'CREATE SCHEMA IF NOT EXISTS mlp_dr',
  table:
    'CREATE TABLE IF NOT EXISTS mlp_dr.heartbeat (writer text NOT NULL, seq bigint NOT NULL, written_at timestamptz NOT NULL, region text NOT NULL, PRIMARY KEY (writer, seq))',
  insert: 'INSERT INTO mlp_dr.heartbeat (writer, seq, written_at, region) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
  latest: 'SELECT seq, written_at FROM mlp_dr.heartbeat WHERE writer = $1 ORDER BY seq DESC LIMIT 1',
} as const;

type ClientConfigFor = (endpoint: DatabaseEndpoint) => Promise<pg.ClientConfig>;

async function withClient<T>(config: pg.ClientConfig, endpoint: DatabaseEndpoint, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionTimeoutMillis: CONNECT_TIMEOUT_MS, ...config });
  client.on('error', () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new RunbookError(
      ERROR.unreachable,
      `database ${endpoint.instanceIdentifier} in ${endpoint.region} did not answer: ${(error as Error).message}`,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The operations over direct `pg` connections, configured per endpoint (IAM in AWS, plain local servers in the drill). */
export function directDatabasePlane(configFor: ClientConfigFor): DatabasePlane {
  const run = async <T>(endpoint: DatabaseEndpoint, work: (client: pg.Client) => Promise<T>) =>
    withClient(await configFor(endpoint), endpoint, work);
  return {
    latestHeartbeat: (endpoint, writer = PLATFORM_WRITER) =>
      run(endpoint, async (client) => {
        const row = (await client.query(HEARTBEAT_SQL.latest, [writer]).catch(noHeartbeatTable)).rows[0];
        return row ? { seq: Number(row.seq), writtenAt: new Date(row.written_at).toISOString() } : undefined;
      }),
    writeHeartbeat: (endpoint, writer, seq, writtenAt) =>
      run(endpoint, async (client) => {
        await client.query(HEARTBEAT_SQL.schema);
        await client.query(HEARTBEAT_SQL.table);
        await client.query(HEARTBEAT_SQL.insert, [writer, seq, writtenAt, endpoint.region]);
      }),
    fence: (endpoint) =>
      run(endpoint, async (client) => {
        await client.query('BEGIN');
        for (const role of APPLICATION_ROLES) await client.query(FENCE_SQL.nologin(role));
        await client.query('COMMIT');
        // A session that passed its login check just before the commit may show up a moment later:
        // end sessions until a pass finds none.
        let terminatedSessions = 0;
        for (let pass = 0; pass < TERMINATE_PASSES; pass++) {
          const ended = (await client.query(FENCE_SQL.terminate, [APPLICATION_ROLES])).rowCount ?? 0;
          terminatedSessions += ended;
          if (ended === 0 && pass > 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        return { terminatedSessions };
      }),
    unfence: (endpoint) =>
      run(endpoint, async (client) => {
        await client.query('BEGIN');
        for (const role of APPLICATION_ROLES) await client.query(FENCE_SQL.login(role));
        await client.query('COMMIT');
      }),
  };
}

/** At most this many rounds of ending the application roles' sessions per fence. */
const TERMINATE_PASSES = 5;

/** A database without the heartbeat table has no heartbeat yet. */
function noHeartbeatTable(error: { code?: string }): { rows: never[] } {
  if (error.code === '42P01' || error.code === '3F000') return { rows: [] };
  throw error;
}

/**
 * IAM database authentication over TLS as the runbooks' database user. The Lambda Node.js runtime
 * trusts the RDS certificate authorities (NODE_EXTRA_CA_CERTS), so the server is verified.
 */
export function iamClientConfig(user: string, database: string): ClientConfigFor {
  return async (endpoint) => ({
    host: endpoint.host,
    port: endpoint.port,
    user,
    database,
    password: await new Signer({ region: endpoint.region, hostname: endpoint.host, port: endpoint.port, username: user }).getAuthToken(),
    ssl: { rejectUnauthorized: true },
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
}

/**
 * Operations on this region's databases run directly; on another region's, through that region's
 * database agent (a Lambda inside its VPC): databases sit in isolated subnets that no other region
 * can route to. An agent that does not answer is `RegionUnreachable`.
 */
export function routedDatabasePlane(local: DatabasePlane, ownRegion: string, tier: string, clients: AwsClients): DatabasePlane {
  const remote = async <T>(endpoint: DatabaseEndpoint, operation: DatabaseOperation, args: unknown[]): Promise<T> => {
    let out: InvokeCommandOutput;
    try {
      out = await clients.lambda(endpoint.region).send(
        new InvokeCommand({
          FunctionName: runbookNames.databaseAgent(tier),
          Payload: new TextEncoder().encode(JSON.stringify({ operation, endpoint, args })),
        }),
      );
    } catch (error) {
      throw new RunbookError(ERROR.unreachable, `the database agent of ${endpoint.region} did not answer: ${(error as Error).message}`);
    }
    const payload = out.Payload ? JSON.parse(new TextDecoder().decode(out.Payload)) : undefined;
    if (out.FunctionError)
      throw new RunbookError(payload?.errorType ?? ERROR.unreachable, payload?.errorMessage ?? 'the database agent failed');
    return payload as T;
  };
  const route =
    <K extends DatabaseOperation>(operation: K) =>
    (endpoint: DatabaseEndpoint, ...args: unknown[]) =>
      endpoint.region === ownRegion
        ? (local[operation] as (e: DatabaseEndpoint, ...a: unknown[]) => Promise<unknown>)(endpoint, ...args)
        : remote(endpoint, operation, args);
  return {
    latestHeartbeat: route('latestHeartbeat') as DatabasePlane['latestHeartbeat'],
    writeHeartbeat: route('writeHeartbeat') as DatabasePlane['writeHeartbeat'],
    fence: route('fence') as DatabasePlane['fence'],
    unfence: route('unfence') as DatabasePlane['unfence'],
  };
}

/** The agent's entry: one of the narrow operations, on an endpoint of its own region only. */
export async function runAgentOperation(
  local: DatabasePlane,
  ownRegion: string,
  event: { operation?: string; endpoint?: DatabaseEndpoint; args?: unknown[] },
): Promise<unknown> {
  const { operation, endpoint, args = [] } = event;
  if (!DATABASE_OPERATIONS.includes(operation as DatabaseOperation)) {
    throw new RunbookError(
      ERROR.invalidInput,
      `operation must be one of ${DATABASE_OPERATIONS.join(', ')}, got ${JSON.stringify(operation)}`,
    );
  }
  if (!endpoint || endpoint.region !== ownRegion)
    throw new RunbookError(ERROR.invalidInput, `the agent of ${ownRegion} acts on its own region's databases only`);
  return (local[operation as DatabaseOperation] as (e: DatabaseEndpoint, ...a: unknown[]) => Promise<unknown>)(endpoint, ...args);
}
