import { HEARTBEAT_METRIC } from '../../lib/config/naming';
import { PLATFORM_WRITER } from '../core/database';
import { publishCounts } from '../core/metrics';
import { describeRegionDatabase } from '../core/regional-database';
import { readPrimary } from '../core/state-table';
import { parameter, type Step } from '../core/step';
import { HEARTBEATS_PER_RUN } from '../definitions/catalogue';

export { HEARTBEATS_PER_RUN };

/**
 * The platform's heartbeat writer: while this region holds the primary, one row a second into
 * `mlp_dr.heartbeat` (seconds since the epoch as the sequence), acknowledged by the commit. The
 * runbooks measure RPO against these rows; the rows acknowledged are published (`HEARTBEAT_METRIC`), so a
 * primary whose heartbeats stopped pages. `sleep` is injected so a test need not wait.
 */
export function heartbeatWriter(
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Step<Record<string, never>, { written: number }> {
  return async (_event, deps) => {
    const region = deps.env.region;
    const recorded = await readPrimary(deps, region, deps.env.stateTable);
    const deployed = await parameter(deps, region, 'topology', 'primary-region');
    if ((recorded?.region ?? deployed) !== region) return { written: 0 };
    const { endpoint } = await describeRegionDatabase(deps, region);
    let written = 0;
    for (let i = 0; i < HEARTBEATS_PER_RUN; i++) {
      const at = deps.now();
      await deps.database.writeHeartbeat(endpoint, PLATFORM_WRITER, Math.floor(at.getTime() / 1000), at.toISOString());
      written++;
      await sleep(1000);
    }
    await publishCounts(deps, region, HEARTBEAT_METRIC.namespace, [{ name: HEARTBEAT_METRIC.metricName, value: written }]);
    return { written };
  };
}
