import { ERROR, fail } from '../core/errors';
import { describeRegionDatabase } from '../core/regional-database';
import { readPrimary } from '../core/state-table';
import type { Step } from '../core/step';

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
  const database = await describeRegionDatabase(deps, region);
  const instanceIdentifier = database.identifier;
  const source =
    database.replicating ??
    fail(
      ERROR.preflightFailed,
      database.engine === 'rds-postgresql'
        ? `${instanceIdentifier} is not a replica: re-protect ${region} first (cdk deploy with -c rebuiltReplicas=...,${region}:<primary>)`
        : `${instanceIdentifier} is not a secondary of ${database.globalClusterId} yet: Aurora rejoins a former primary once its region is healthy`,
    );
  const primary = await readPrimary(deps, region, deps.env.stateTable);
  if (primary && source.identifier !== primary.instanceIdentifier) {
    fail(ERROR.preflightFailed, `${instanceIdentifier} replicates ${source.identifier}, not the primary ${primary.instanceIdentifier}`);
  }
  if (database.status !== 'available') fail(ERROR.notReady, `${instanceIdentifier} is ${database.status}`);
  if (database.resynchronizing) fail(ERROR.notReady, `Aurora is rebuilding the volume of ${instanceIdentifier} (pending-resync)`);
  const endpoint = database.readEndpoint;
  const latest = await deps.database.latestHeartbeat(endpoint);
  const lagSeconds = latest ? (deps.now().getTime() - Date.parse(latest.writtenAt)) / 1000 : Number.POSITIVE_INFINITY;
  if (lagSeconds > deps.env.rpoSeconds)
    fail(ERROR.notReady, `${instanceIdentifier} is ${lagSeconds.toFixed(0)} s behind; waiting for it to catch up`);
  return { instanceIdentifier, source: `${source.region}:${source.identifier}`, lagSeconds };
};
