import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { applyBootstrap } from '../../../runbooks/core/database-bootstrap';
import { fromPlanProperty, type PlanProperty, planSha256 } from './plan';

/**
 * Custom resource handler of `DatabaseBootstrap`: runs the platform's bootstrap plan (roles and
 * databases, runbooks/core/database-bootstrap.ts) against the primary as its master user, over TLS
 * with the server verified, on Create and Update. The plan is idempotent, so running it again
 * changes nothing that exists; an existing role keeps its LOGIN or NOLOGIN (a deploy never lifts a
 * fence). Delete does nothing: the roles and databases stay with the retained instance.
 */

export interface DatabaseBootstrapProperties {
  /** Endpoint address of the primary. */
  readonly Host: string;
  /** Its port (CloudFormation passes numbers as strings). */
  readonly Port: string;
  /** The RDS-managed master user secret: JSON with `username` and `password`. */
  readonly MasterSecretArn: string;
  /** SHA-256 of `Plan`, checked before anything runs. */
  readonly PlanSha256: string;
  readonly Plan: PlanProperty;
}

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: DatabaseBootstrapProperties & { readonly ServiceToken?: string };
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: {
    readonly PlanSha256: string;
    /** How many statements ran (the others' guards found what they create). */
    readonly Applied: string;
    /** Roles and databases this run created, comma-separated, or `none`. */
    readonly Created: string;
  };
}

/** What the handler reaches outside itself; the Lambda entry point passes the real ones. */
export interface BootstrapDependencies {
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
  readonly newClient: (config: pg.ClientConfig) => pg.Client;
  readonly log: (message: string) => void;
}

/** The Lambda Node.js runtime trusts the RDS certificate authorities through NODE_EXTRA_CA_CERTS, which the construct sets. */
export function clientConfig(properties: DatabaseBootstrapProperties, master: MasterCredentials, database: string): pg.ClientConfig {
  return {
    host: properties.Host,
    port: Number(properties.Port),
    user: master.username,
    password: master.password,
    database,
    ssl: { rejectUnauthorized: true },
    application_name: 'mlp-database-bootstrap',
    connectionTimeoutMillis: 15_000,
    // CREATE DATABASE copies template1 and checkpoints: seconds, not minutes.
    statement_timeout: 120_000,
  };
}

export interface MasterCredentials {
  readonly username: string;
  readonly password: string;
}

async function masterCredentials(secrets: BootstrapDependencies['secrets'], secretArn: string): Promise<MasterCredentials> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let value: unknown;
  try {
    value = JSON.parse(out.SecretString ?? '');
  } catch {
    value = undefined;
  }
  const { username, password } = (value ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    // The secret's value is never part of a message.
    throw new Error(`secret ${secretArn} is not an RDS master user secret: expected a JSON string with username and password`);
  }
  return { username, password };
}

const CREATED = /^CREATE (?:ROLE|DATABASE) "([a-z0-9_]+)"/;

export async function bootstrap(event: CustomResourceEvent, deps: BootstrapDependencies): Promise<OnEventResponse> {
  const properties = event.ResourceProperties;
  if (event.RequestType === 'Delete') {
    deps.log('Delete: nothing to do, the roles and databases stay with the retained instance');
    return { PhysicalResourceId: event.PhysicalResourceId ?? `bootstrap:${properties.Host}` };
  }
  const plan = fromPlanProperty(properties.Plan ?? []);
  if (plan.length === 0) throw new Error('Plan is empty: the bootstrap needs at least one statement');
  const hash = planSha256(plan);
  if (hash !== properties.PlanSha256) {
    throw new Error(`PlanSha256 is ${properties.PlanSha256}, but the plan received hashes to ${hash}: refusing to run it`);
  }
  const master = await masterCredentials(deps.secrets, properties.MasterSecretArn);
  const applied = await applyBootstrap(async (database) => {
    const client = deps.newClient(clientConfig(properties, master, database));
    await client.connect();
    return client;
  }, plan);
  for (const sql of applied) deps.log(`applied: ${sql}`);
  const created = applied.flatMap((sql) => CREATED.exec(sql)?.[1] ?? []);
  deps.log(`${event.RequestType}: plan ${hash}, ${applied.length} of ${plan.length} statements applied`);
  return {
    PhysicalResourceId: event.PhysicalResourceId ?? `bootstrap:${properties.Host}`,
    Data: { PlanSha256: hash, Applied: String(applied.length), Created: created.join(',') || 'none' },
  };
}

let secrets: SecretsManagerClient | undefined;

/** Lambda entry point of the provider framework's onEvent. */
export async function onEvent(event: CustomResourceEvent): Promise<OnEventResponse> {
  secrets ??= new SecretsManagerClient({});
  return bootstrap(event, { secrets, newClient: (config) => new pg.Client(config), log: (message) => console.log(message) });
}
