import type pg from 'pg';

/**
 * The platform's PostgreSQL roles and databases, and the one SQL plan that creates them: run by the
 * deploy (as the instance's master user, in the primary region; replicas receive roles and
 * databases by replication) and by the drill (as an `rds_superuser`-like master of the same powers).
 *
 * The master user on RDS and Aurora is not a superuser: it has CREATEROLE and CREATEDB, is a member
 * of `rds_superuser` (and through it of `pg_signal_backend`), and PostgreSQL 16+'s CREATEROLE rules
 * apply: a role alters only roles it holds ADMIN OPTION on. The plan gives the runbooks' role exactly
 * what the fence needs and no more: CREATEROLE, ADMIN OPTION (without INHERIT or SET: it cannot act
 * as them) on every application role, and `pg_signal_backend` to end their sessions.
 */

/** The runbooks' own database user (IAM authentication), as the runbook functions' `MLP_DATABASE_USER`. */
export const RUNBOOK_ROLE = 'mlp_dr';
/** The runbooks' database: the heartbeat table (`mlp_dr.heartbeat`) lives here. */
export const RUNBOOK_DATABASE = 'mlp';

/** A database of the platform and the services whose roles use it. */
export interface PlatformDatabase {
  readonly name: string;
  readonly services: readonly string[];
}

/**
 * Every service that uses PostgreSQL, by database. Compute grants each service IAM authentication as
 * `applicationRole(service)`: a service missing here has no role to connect as (`applicationRole` throws).
 */
export const PLATFORM_DATABASES: readonly PlatformDatabase[] = [
  { name: 'mlp_tracking', services: ['tracking-server'] },
  { name: 'mlp_registry', services: ['registry-api'] },
  { name: 'mlp_metadata', services: ['metadata-service', 'metaflow-worker'] },
  { name: 'mlp_scheduler', services: ['scheduler'] },
];

const SERVICES = PLATFORM_DATABASES.flatMap((d) => d.services);

/** The database user a service connects as, e.g. `mlp_tracking_server`. */
export function applicationRole(service: string): string {
  if (!SERVICES.includes(service)) {
    throw new Error(`service ${service} has no PostgreSQL role: add it to PLATFORM_DATABASES (one of ${SERVICES.join(', ')})`);
  }
  return `mlp_${service.replace(/-/g, '_')}`;
}

/** Every application role: what the fence turns NOLOGIN and the unfence LOGIN again. */
export const APPLICATION_ROLES: readonly string[] = SERVICES.map(applicationRole);

/** Every database the platform's services and runbooks use. */
export const DATABASE_NAMES: readonly string[] = [RUNBOOK_DATABASE, ...PLATFORM_DATABASES.map((d) => d.name)];

/**
 * One statement of the plan: run in `database` unless `unless` (a query in the same database)
 * returns a row. Statements that cannot run inside a transaction block (`CREATE DATABASE`) are
 * guarded this way instead of by a `DO` block.
 */
export interface BootstrapStatement {
  readonly database: string;
  readonly sql: string;
  readonly unless?: string;
}

/** The maintenance database every RDS instance has, where roles and databases are created. */
export const MAINTENANCE_DATABASE = 'postgres';

export function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`${name} is not a plain lower-case identifier`);
  return `"${name}"`;
}

const literal = (name: string) => `'${quoteIdentifier(name).slice(1, -1)}'`;

const createRole = (role: string, attributes: string): BootstrapStatement => ({
  database: MAINTENANCE_DATABASE,
  sql: `CREATE ROLE ${quoteIdentifier(role)} ${attributes}`,
  unless: `SELECT 1 FROM pg_roles WHERE rolname = ${literal(role)}`,
});

const sql = (sql: string, database = MAINTENANCE_DATABASE): BootstrapStatement => ({ database, sql });

/**
 * The plan, in order. Idempotent: every create is guarded, every grant repeatable. An existing role
 * keeps its LOGIN or NOLOGIN: a deploy never lifts a fence.
 */
export function bootstrapPlan(): BootstrapStatement[] {
  const runbook = quoteIdentifier(RUNBOOK_ROLE);
  const plan: BootstrapStatement[] = [];
  for (const role of APPLICATION_ROLES) {
    plan.push(createRole(role, 'LOGIN'), sql(`GRANT rds_iam TO ${quoteIdentifier(role)}`));
  }
  plan.push(
    createRole(RUNBOOK_ROLE, 'LOGIN CREATEROLE'),
    sql(`ALTER ROLE ${runbook} CREATEROLE`),
    sql(`GRANT rds_iam TO ${runbook}`),
    sql(`GRANT pg_signal_backend TO ${runbook}`),
  );
  for (const role of APPLICATION_ROLES) {
    // ADMIN to change its LOGIN attribute (PostgreSQL 16+); neither INHERIT nor SET: the runbooks cannot act as the service.
    plan.push(sql(`GRANT ${quoteIdentifier(role)} TO ${runbook} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`));
  }
  for (const name of DATABASE_NAMES) {
    const database = quoteIdentifier(name);
    plan.push(
      {
        database: MAINTENANCE_DATABASE,
        sql: `CREATE DATABASE ${database}`,
        unless: `SELECT 1 FROM pg_database WHERE datname = ${literal(name)}`,
      },
      sql(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`),
    );
  }
  plan.push(sql(`GRANT CONNECT, CREATE, TEMPORARY ON DATABASE ${quoteIdentifier(RUNBOOK_DATABASE)} TO ${runbook}`));
  for (const { name, services } of PLATFORM_DATABASES) {
    const roles = services.map((s) => quoteIdentifier(applicationRole(s))).join(', ');
    plan.push(
      sql(`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdentifier(name)} TO ${roles}`),
      // The services create their own tables in the public schema, owned by the database's owner (the master).
      sql(`GRANT USAGE, CREATE ON SCHEMA public TO ${roles}`, name),
    );
  }
  return plan;
}

/** Opens a connection to one database as the master user. */
export type Connect = (database: string) => Promise<pg.Client>;

/** Run the plan, one connection per database in turn; returns the statements run (guards that held are skipped). */
export async function applyBootstrap(connect: Connect, plan: readonly BootstrapStatement[] = bootstrapPlan()): Promise<string[]> {
  const applied: string[] = [];
  let open: { database: string; client: pg.Client } | undefined;
  try {
    for (const statement of plan) {
      if (open?.database !== statement.database) {
        await open?.client.end();
        open = { database: statement.database, client: await connect(statement.database) };
      }
      if (statement.unless && (await open.client.query(statement.unless)).rowCount) continue;
      await open.client.query(statement.sql);
      applied.push(statement.sql);
    }
  } finally {
    await open?.client.end().catch(() => undefined);
  }
  return applied;
}

/**
 * The fence, as SQL the runbook role may run: every application role NOLOGIN (a new connection is
 * refused, whatever the client asks), then every session of those roles ended, in every database.
 */
export const FENCE_SQL = {
  nologin: (role: string) => `ALTER ROLE ${quoteIdentifier(role)} NOLOGIN`,
  login: (role: string) => `ALTER ROLE ${quoteIdentifier(role)} LOGIN`,
  // The sessions are chosen first, then ended: inside one WHERE, PostgreSQL may call
  // pg_terminate_backend before the other conditions. Without pg_read_all_stats a role sees the
  // pid and user of other roles' sessions, not their backend_type: the user alone selects them.
  terminate: `WITH sessions AS MATERIALIZED (
      SELECT pid FROM pg_stat_activity WHERE usename = ANY($1) AND pid <> pg_backend_pid()
    )
    SELECT pid FROM sessions WHERE pg_terminate_backend(pid)`,
} as const;
