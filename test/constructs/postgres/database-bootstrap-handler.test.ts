import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type pg from 'pg';
import { describe, expect, test } from 'vitest';
import {
  type BootstrapDependencies,
  bootstrap,
  type CustomResourceEvent,
  type DatabaseBootstrapProperties,
} from '../../../constructs/postgres/database-bootstrap/handler';
import { planSha256, toPlanProperty } from '../../../constructs/postgres/database-bootstrap/plan';
import {
  APPLICATION_ROLES,
  type BootstrapStatement,
  bootstrapPlan,
  DATABASE_NAMES,
  RUNBOOK_ROLE,
} from '../../../runbooks/core/database-bootstrap';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-0123-AbCdEf';
const MASTER = { username: 'mlp_admin', password: 'not-a-real-password' };

function properties(plan: readonly BootstrapStatement[] = bootstrapPlan()): DatabaseBootstrapProperties {
  return {
    Host: 'mlp-tier1-pg-use1.abc.us-east-1.rds.amazonaws.com',
    Port: '5432',
    MasterSecretArn: SECRET_ARN,
    PlanSha256: planSha256(plan),
    Plan: toPlanProperty(plan),
  };
}

const event = (
  RequestType: CustomResourceEvent['RequestType'],
  props = properties(),
  PhysicalResourceId?: string,
): CustomResourceEvent => ({
  RequestType,
  ResourceProperties: props,
  ...(PhysicalResourceId ? { PhysicalResourceId } : {}),
});

/**
 * Stands in for pg: records every client's configuration and every query in order; a guard
 * (`SELECT 1 ...`) finds a row when `exists` says the object it looks for is there.
 */
function fakePostgres(exists: (guard: string) => boolean = () => false) {
  const configs: pg.ClientConfig[] = [];
  const log: string[] = [];
  const newClient = (config: pg.ClientConfig) => {
    configs.push(config);
    return {
      connect: async () => void log.push(`connect ${config.database}`),
      query: async (sql: string) => {
        log.push(`${config.database}: ${sql}`);
        return { rowCount: sql.startsWith('SELECT 1') && exists(sql) ? 1 : 0, rows: [] };
      },
      end: async () => void log.push(`end ${config.database}`),
    } as unknown as pg.Client;
  };
  return { configs, log, newClient };
}

function dependencies(postgres: ReturnType<typeof fakePostgres>, secretString: string | undefined = JSON.stringify(MASTER)) {
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  const secrets = mockClient(client);
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: secretString });
  const messages: string[] = [];
  const deps: BootstrapDependencies = { secrets: client, newClient: postgres.newClient, log: (m) => void messages.push(m) };
  return { deps, secrets, messages };
}

describe('the database bootstrap handler', () => {
  test('connects as the master user from the secret, over TLS with the server verified, to each database the plan names', async () => {
    const postgres = fakePostgres();
    const { deps, secrets } = dependencies(postgres);
    await bootstrap(event('Create'), deps);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(postgres.configs[0]).toMatchObject({
      host: 'mlp-tier1-pg-use1.abc.us-east-1.rds.amazonaws.com',
      port: 5432,
      user: 'mlp_admin',
      password: 'not-a-real-password',
      database: 'postgres',
      ssl: { rejectUnauthorized: true },
    });
    const planDatabases = [...new Set(bootstrapPlan().map((s) => s.database))];
    expect([...new Set(postgres.configs.map((c) => c.database))]).toEqual(planDatabases);
  });

  test('runs every statement of the plan in order, each after its guard, and reports what it created', async () => {
    const postgres = fakePostgres();
    const { deps } = dependencies(postgres);
    const plan = bootstrapPlan();
    const response = await bootstrap(event('Create'), deps);
    const expected = plan.flatMap((s) => [...(s.unless ? [`${s.database}: ${s.unless}`] : []), `${s.database}: ${s.sql}`]);
    expect(postgres.log.filter((line) => !/^(connect|end) /.test(line))).toEqual(expected);
    // Every connection is closed.
    expect(postgres.log.filter((l) => l.startsWith('connect')).length).toBe(postgres.log.filter((l) => l.startsWith('end')).length);
    expect(response).toEqual({
      PhysicalResourceId: 'bootstrap:mlp-tier1-pg-use1.abc.us-east-1.rds.amazonaws.com',
      Data: {
        PlanSha256: planSha256(plan),
        Applied: String(plan.length),
        Created: [...APPLICATION_ROLES, RUNBOOK_ROLE, ...DATABASE_NAMES].join(','),
      },
    });
  });

  test('run again on an Update, it creates nothing that exists and keeps the resource', async () => {
    const postgres = fakePostgres(() => true);
    const { deps } = dependencies(postgres);
    const response = await bootstrap(event('Update', properties(), 'bootstrap:earlier'), deps);
    expect(postgres.log.some((l) => / CREATE (ROLE|DATABASE) /.test(l))).toBe(false);
    expect(response.PhysicalResourceId).toBe('bootstrap:earlier');
    expect(response.Data?.Created).toBe('none');
    expect(Number(response.Data?.Applied)).toBe(bootstrapPlan().filter((s) => !s.unless).length);
  });

  test('Delete reads no secret and opens no connection', async () => {
    const postgres = fakePostgres();
    const { deps, secrets } = dependencies(postgres);
    expect(await bootstrap(event('Delete', properties(), 'bootstrap:x'), deps)).toEqual({ PhysicalResourceId: 'bootstrap:x' });
    expect(secrets.calls()).toHaveLength(0);
    expect(postgres.configs).toEqual([]);
  });

  test('refuses a plan that does not match its hash, before reading the secret', async () => {
    const postgres = fakePostgres();
    const { deps, secrets } = dependencies(postgres);
    const tampered = { ...properties(), PlanSha256: planSha256(bootstrapPlan().slice(1)) };
    await expect(bootstrap(event('Create', tampered), deps)).rejects.toThrow(/refusing to run it$/);
    expect(secrets.calls()).toHaveLength(0);
    expect(postgres.configs).toEqual([]);
  });

  test('refuses a secret that is not a master user secret, without quoting it', async () => {
    const postgres = fakePostgres();
    const { deps } = dependencies(postgres, JSON.stringify({ username: 'mlp_admin', pass: 'leaked?' }));
    const failure = bootstrap(event('Create'), deps);
    await expect(failure).rejects.toThrow(
      `secret ${SECRET_ARN} is not an RDS master user secret: expected a JSON string with username and password`,
    );
    await expect(failure).rejects.not.toThrow(/leaked/);
    expect(postgres.configs).toEqual([]);
  });
});
