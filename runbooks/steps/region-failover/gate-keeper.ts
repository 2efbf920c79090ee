/** Every minute in every region: the write gate's lease, and the fence a superseded primary owes. */
import { setCacheAccess } from '../../core/cache-access';
import { clearFenceRequest, readFenceRequest, readGate, writeFenceRequest, writeGate } from '../../core/state-table';
import { parameter, type Step } from '../../core/step';

import { describeInstance, endpointOf, publishGate } from './plan';
/**
 * The gate keeper: republish this region's recorded gate every minute, so an open gate is a lease.
 * An open gate is kept only while no other region's gate was opened after it: a former primary that
 * comes back after an unplanned failover (its gate could not be closed then) closes its own, and
 * owes a fence of its database (application roles NOLOGIN, sessions ended) and of its cache, retried every minute until it lands, so
 * a client still pinned to it cannot write there either. Regions that do not answer are skipped: a
 * gate is never closed on a guess.
 */
export const refreshGate: Step<Record<string, never>, { open: boolean; supersededBy?: string; fenced?: string }> = async (_event, deps) => {
  const { region, stateTable, regions } = deps.env;
  const gate = await readGate(deps, region, stateTable);
  let open = gate?.open === true;
  let supersededBy: string | undefined;
  if (gate && open) {
    const others = await Promise.all(
      regions
        .filter((other) => other !== region)
        .map(async (other) => ({ other, gate: await readGate(deps, other, stateTable).catch(() => undefined) })),
    );
    const newer = others.find((o) => o.gate?.open && o.gate.updatedAt > gate.updatedAt);
    if (newer) {
      // The database to fence is the one that was primary here, whatever replaces it later.
      const instanceIdentifier = await parameter(deps, region, 'postgres', 'instance-id');
      await writeFenceRequest(deps, region, stateTable, { instanceIdentifier, supersededBy: newer.other });
      await writeGate(deps, region, stateTable, false, gate.epoch);
      open = false;
      supersededBy = newer.other;
    }
  }
  await publishGate(deps, region, open);
  const owed = await readFenceRequest(deps, region, stateTable);
  if (!owed) return supersededBy ? { open, supersededBy } : { open };
  const id = owed.instanceIdentifier;
  const instance = await describeInstance(deps, region, id).catch((error: Error) => {
    if (/NotFound/.test(error.name)) return undefined; // retired since: nothing left to fence
    throw error;
  });
  if (!instance) {
    await clearFenceRequest(deps, region, stateTable);
    return { open, supersededBy: owed.supersededBy, fenced: `${id} no longer exists` };
  }
  const endpoint = endpointOf(region, instance);
  const { terminatedSessions } = await deps.database.fence(endpoint);
  // Its cache holds what it had when it was cut off: no client reads it again until the region is primary again.
  const cache = await setCacheAccess(deps, region, 'fenced');
  await clearFenceRequest(deps, region, stateTable);
  return {
    open,
    supersededBy: owed.supersededBy,
    fenced: `${id} fenced (application roles NOLOGIN), ${terminatedSessions} session(s) ended; ${cache}: ${owed.supersededBy} took the primary`,
  };
};
