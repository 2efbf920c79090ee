import { type AwsClients, awsClients } from './clients';
import { type DatabasePlane, directDatabasePlane, iamClientConfig, routedDatabasePlane } from './database';
import { ERROR, fail } from './errors';

/** What every step knows about the deployment, from its function's environment (set by the resilience stack). */
export interface RunbookEnv {
  readonly tier: string;
  /** The region the runbook runs in: the one that becomes, or stays, the primary. */
  readonly region: string;
  /** Every region of the deployment in home order (`-c regions`). */
  readonly regions: readonly string[];
  /**
   * The regions whose state tables hold the runbook lock and the write lease: every region, and a
   * two-region deployment's witness (`MLP_WITNESS_REGION`), last.
   */
  readonly stateRegions: readonly string[];
  /** The DynamoDB table of this region holding the runbook lock, the epoch, the write gate and the primary. */
  readonly stateTable: string;
  /** Region objectives (seed 003): RPO 60 s, RTO 300 s. */
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  /** Where reports go: the region's artifact bucket and the runbook topic. */
  readonly reportBucket: string;
  readonly reportTopicArn: string;
  /** Database user the data-plane steps connect as (IAM authentication) and its database. */
  readonly databaseUser: string;
  readonly databaseName: string;
  /** The platform's domain: each region's API answers at `api.<code>.<domain>`. */
  readonly domain: string;
  /** Whether the tier lets a failover start itself (`recovery.regionFailoverStart.kind: automatic`). */
  readonly automaticStart: boolean;
}

/** Everything a step uses besides its input. */
export interface RunbookDeps {
  readonly env: RunbookEnv;
  readonly clients: AwsClients;
  readonly database: DatabasePlane;
  /** The clock; the drill passes a virtual one. */
  now(): Date;
  /** The HTTP status an HTTPS GET of `url` answers with within `timeoutSeconds`, or nothing (no answer). */
  probe(url: string, timeoutSeconds: number): Promise<number | undefined>;
}

/** The environment of a runbook function from its variables (as the resilience stack sets them, and Lambda sets `AWS_REGION`). */
export function envFromVariables(variables: Readonly<Record<string, string | undefined>>): RunbookEnv {
  const required = (name: string): string => {
    const value = variables[name];
    if (!value) return fail(ERROR.invalidInput, `environment variable ${name} is not set`);
    return value;
  };
  const regions = required('MLP_REGIONS').split(',');
  return {
    tier: required('MLP_TIER'),
    region: required('AWS_REGION'),
    regions,
    stateRegions: variables.MLP_WITNESS_REGION ? [...regions, variables.MLP_WITNESS_REGION] : regions,
    stateTable: required('MLP_STATE_TABLE'),
    rpoSeconds: Number(required('MLP_RPO_SECONDS')),
    rtoSeconds: Number(required('MLP_RTO_SECONDS')),
    reportBucket: variables.MLP_REPORT_BUCKET ?? '',
    reportTopicArn: variables.MLP_REPORT_TOPIC_ARN ?? '',
    databaseUser: required('MLP_DATABASE_USER'),
    databaseName: required('MLP_DATABASE_NAME'),
    domain: variables.MLP_DOMAIN ?? '',
    automaticStart: variables.MLP_AUTOMATIC_START === 'true',
  };
}

/** The environment of a deployed runbook function. */
export function envFromProcess(): RunbookEnv {
  return envFromVariables(process.env);
}

/** The dependencies of a deployed runbook function: real clients, IAM database authentication, the wall clock. */
export function lambdaDeps(): RunbookDeps {
  const env = envFromProcess();
  const clients = awsClients();
  const local = directDatabasePlane(iamClientConfig(env.databaseUser, env.databaseName));
  return {
    env,
    clients,
    database: routedDatabasePlane(local, env.region, env.tier, clients),
    now: () => new Date(),
    probe: (url, timeoutSeconds) =>
      fetch(url, { signal: AbortSignal.timeout(timeoutSeconds * 1000), redirect: 'manual' }).then(
        (response) => response.status,
        () => undefined,
      ),
  };
}
