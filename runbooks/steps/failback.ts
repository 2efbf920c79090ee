import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ERROR, fail } from '../core/errors';
import { readPrimary } from '../core/state-table';
import { aws, parameter, type Step } from '../core/step';

/** Input of `Failback`: the former primary region, where it runs, to return the primary to. */
export interface FailbackState {
  readonly input?: { readonly formerPrimary?: string };
  readonly reprotection?: { readonly instanceIdentifier: string; readonly source: string; readonly lagSeconds: number };
}

/**
 * Re-protection is in place and caught up: this region's current database (the generation the
 * `-c rebuiltReplicas` deploy created) replicates the instance that is primary now, and its newest
 * platform heartbeat is within the RPO objective. `NotReady` until then, so the state machine waits.
 */
export const checkReprotection: Step<FailbackState, NonNullable<FailbackState['reprotection']>> = async ({ state }, deps) => {
  const region = deps.env.region;
  const asked = state.input?.formerPrimary;
  if (asked !== region)
    fail(ERROR.invalidInput, `formerPrimary must be the region the failback runs in (${region}), got ${JSON.stringify(asked)}`);
  const instanceIdentifier = await parameter(deps, region, 'postgres', 'instance-id');
  const instance = (
    await aws(region, () => deps.clients.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceIdentifier })))
  ).DBInstances?.[0];
  const source = instance?.ReadReplicaSourceDBInstanceIdentifier;
  if (!instance || !source) {
    fail(
      ERROR.preflightFailed,
      `${instanceIdentifier} is not a replica: re-protect ${region} first (cdk deploy with -c rebuiltReplicas=...,${region}:<primary>)`,
    );
  }
  const primary = await readPrimary(deps, region, deps.env.stateTable);
  if (primary && !String(source).endsWith(`:db:${primary.instanceIdentifier}`)) {
    fail(ERROR.preflightFailed, `${instanceIdentifier} replicates ${source}, not the primary ${primary.instanceIdentifier}`);
  }
  if (instance?.DBInstanceStatus !== 'available') fail(ERROR.notReady, `${instanceIdentifier} is ${instance?.DBInstanceStatus}`);
  const endpoint = { region, instanceIdentifier, host: instance?.Endpoint?.Address ?? '', port: instance?.Endpoint?.Port ?? 5432 };
  const latest = await deps.database.latestHeartbeat(endpoint);
  const lagSeconds = latest ? (deps.now().getTime() - Date.parse(latest.writtenAt)) / 1000 : Number.POSITIVE_INFINITY;
  if (lagSeconds > deps.env.rpoSeconds)
    fail(ERROR.notReady, `${instanceIdentifier} is ${lagSeconds.toFixed(0)} s behind; waiting for it to catch up`);
  return { instanceIdentifier, source: String(source), lagSeconds };
};
