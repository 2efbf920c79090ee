/**
 * A region's PostgreSQL as the runbooks see it, whichever engine serves it: an RDS instance (primary
 * or cross-region read replica) or a member cluster of an Aurora global database. Steps ask what
 * the database is now (writable, replicating, changing role) and where to reach it; only promotion
 * itself differs by engine (promote.ts).
 */
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeGlobalClustersCommand } from '@aws-sdk/client-rds';
import type { DatabaseEngine } from '../../lib/config/types';
import type { DatabaseEndpoint } from './database';
import type { RunbookDeps } from './env';
import { ERROR, fail } from './errors';
import { aws, parameter } from './step';

export const DATABASE_ENGINES: readonly DatabaseEngine[] = ['aurora-postgresql-global', 'rds-postgresql'];

export interface RegionDatabase {
  readonly engine: DatabaseEngine;
  readonly region: string;
  /** The instance identifier (RDS) or the cluster identifier (Aurora). */
  readonly identifier: string;
  readonly arn: string;
  /** RDS `DBInstanceStatus` or Aurora `Status` of the cluster. */
  readonly status: string;
  /** Where writes go once it is the primary: the instance, or the cluster (writer) endpoint. */
  readonly endpoint: DatabaseEndpoint;
  /** Where it serves reads now: the instance, or the cluster's reader endpoint (an Aurora secondary has no writer). */
  readonly readEndpoint: DatabaseEndpoint;
  /** Aurora: the global database lists it (an old writer is left out after a failover until Aurora rejoins it). */
  readonly member: boolean;
  /** Takes writes as the database's role goes: an RDS instance that replicates nothing, the global database's writer cluster. */
  readonly writer: boolean;
  /** The database it replicates while it is a replica or an Aurora secondary. */
  readonly replicating?: { readonly region: string; readonly account: string; readonly identifier: string };
  /** Aurora: a member whose volume Aurora is rebuilding (`SynchronizationStatus` pending-resync): not yet a copy to fail over to. */
  readonly resynchronizing?: boolean;
  /** Aurora: the global database it is a member of. */
  readonly globalClusterId?: string;
  /** Aurora: a switchover or failover of the global database under way (`FailoverState`), toward which cluster. */
  readonly transition?: { readonly status: string; readonly toArn: string; readonly dataLossAllowed: boolean };
}

/** The engine a region's stacks deployed (the `postgres/engine` runbook parameter). */
export async function databaseEngineOf(deps: RunbookDeps, region: string): Promise<DatabaseEngine> {
  const engine = await parameter(deps, region, 'postgres', 'engine');
  if (!DATABASE_ENGINES.includes(engine as DatabaseEngine))
    fail(
      ERROR.preflightFailed,
      `/mlp/${deps.env.tier}/postgres/engine in ${region} is ${JSON.stringify(engine)}, not one of ${DATABASE_ENGINES.join(', ')}`,
    );
  return engine as DatabaseEngine;
}

/** `arn:aws:rds:<region>:<account>:<db|cluster>:<id>` into its parts. */
export function parseDatabaseArn(arn: string): { region: string; account: string; identifier: string } {
  const [, , , region, account, , identifier] = arn.split(':');
  if (!region || !account || !identifier) return fail(ERROR.preflightFailed, `cannot read the database ARN ${arn}`);
  return { region, account, identifier };
}

/**
 * What the region's database is now. `identifier` names one explicitly (an older RDS generation
 * owed a fence); by default the region's current one from its runbook parameters.
 */
export async function describeRegionDatabase(deps: RunbookDeps, region: string, identifier?: string): Promise<RegionDatabase> {
  const engine = await databaseEngineOf(deps, region);
  if (engine === 'rds-postgresql') {
    return describeDatabase(deps, { engine, region, identifier: identifier ?? (await parameter(deps, region, 'postgres', 'instance-id')) });
  }
  return describeDatabase(deps, {
    engine,
    region,
    identifier: identifier ?? (await parameter(deps, region, 'postgres', 'cluster-id')),
    globalClusterId: await parameter(deps, region, 'postgres', 'global-cluster-id'),
  });
}

/** What a named database is now, without the runbook parameters (for steps that hold a plan). */
export async function describeDatabase(
  deps: RunbookDeps,
  ref: { engine: DatabaseEngine; region: string; identifier: string; globalClusterId?: string },
): Promise<RegionDatabase> {
  const { engine, region } = ref;
  if (engine === 'rds-postgresql') {
    const id = ref.identifier;
    const out = await aws(region, () => deps.clients.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })));
    const instance = out.DBInstances?.[0] ?? fail(ERROR.preflightFailed, `${id} does not exist in ${region}`);
    const endpoint = {
      region,
      instanceIdentifier: id,
      host: instance.Endpoint?.Address ?? '',
      port: instance.Endpoint?.Port ?? 5432,
    };
    const source = instance.ReadReplicaSourceDBInstanceIdentifier;
    return {
      engine,
      region,
      identifier: id,
      arn: instance.DBInstanceArn ?? '',
      status: instance.DBInstanceStatus ?? 'unknown',
      endpoint,
      readEndpoint: endpoint,
      member: true,
      writer: !source,
      ...(source ? { replicating: parseDatabaseArn(source) } : {}),
    };
  }
  const id = ref.identifier;
  const globalClusterId = ref.globalClusterId ?? fail(ERROR.invalidInput, `the global database of ${id} is not known`);
  const rds = deps.clients.rds(region);
  const [clusters, globals] = await Promise.all([
    aws(region, () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))),
    aws(region, () => rds.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: globalClusterId }))),
  ]);
  const cluster = clusters.DBClusters?.[0] ?? fail(ERROR.preflightFailed, `cluster ${id} does not exist in ${region}`);
  const global = globals.GlobalClusters?.[0] ?? fail(ERROR.preflightFailed, `global database ${globalClusterId} does not exist`);
  const members = global.GlobalClusterMembers ?? [];
  const self = members.find((m) => m.DBClusterArn === cluster.DBClusterArn);
  const writer = members.find((m) => m.IsWriter);
  const failover = global.FailoverState;
  const port = cluster.Port ?? 5432;
  return {
    engine,
    region,
    identifier: id,
    arn: cluster.DBClusterArn ?? '',
    status: cluster.Status ?? 'unknown',
    endpoint: { region, instanceIdentifier: id, host: cluster.Endpoint ?? '', port },
    readEndpoint: { region, instanceIdentifier: id, host: cluster.ReaderEndpoint ?? '', port },
    globalClusterId,
    member: self !== undefined,
    writer: self?.IsWriter === true,
    resynchronizing: self?.SynchronizationStatus === 'pending-resync',
    // A cluster the global database does not list (an old primary not yet rejoined) replicates nothing and is not the writer.
    ...(self && !self.IsWriter && writer?.DBClusterArn ? { replicating: parseDatabaseArn(writer.DBClusterArn) } : {}),
    ...(failover?.Status
      ? {
          transition: {
            status: failover.Status,
            toArn: failover.ToDbClusterArn ?? '',
            dataLossAllowed: failover.IsDataLossAllowed === true,
          },
        }
      : {}),
  };
}

/**
 * Writable now: an RDS instance that replicates nothing and is available; an Aurora cluster that the
 * global database lists as its writer, with no switchover or failover under way.
 */
export function isWritablePrimary(database: RegionDatabase): boolean {
  return database.writer && !database.transition && database.status === 'available';
}
