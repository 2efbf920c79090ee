/** Phase 1: read-only readiness, the go or no-go. */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { DatabaseEndpoint, HeartbeatMark } from '../../core/database';
import type { RunbookDeps } from '../../core/env';
import { ERROR, fail } from '../../core/errors';
import { describeDatabase, describeRegionDatabase, parseDatabaseArn } from '../../core/regional-database';
import { readPrimary, readPromotion } from '../../core/state-table';
import { aws, parameter, type Step } from '../../core/step';
import { failoverBegan, lastRenewalOf } from '../../core/tier-lock';
import { WRITE_LEASE } from '../../definitions/catalogue';
import { primaryGateAnswers, viewPrimary } from '../watchdog';
import { codeOf, type FailoverPlan, type FailoverState, PROMOTING, validateFailoverInput } from './plan';
/**
 * Why an automatic start must not go on, or nothing: the tier does not start failovers automatically;
 * this region is not the successor of the lease's holder; the holder's lease is no longer stale in a
 * majority of the state tables (it renewed since the alarm), or a failover or a runbook is under way;
 * or the holder's write gate answers open again. Each is read again here, after the alarm, so a
 * primary that came back meanwhile keeps its place.
 */
export async function automaticStartRefusal(deps: RunbookDeps): Promise<string | undefined> {
  const { region } = deps.env;
  if (!deps.env.automaticStart) return `the tier does not start failovers automatically (recovery.regionFailoverStart.kind is operator)`;
  const view = await viewPrimary(deps);
  if (!view.holder) return 'no state table holds a write lease: there is no primary to take over from';
  if (view.holder === region) return `${region} holds the write lease itself`;
  if (view.successor !== region) return `${view.successor} is ${view.holder}'s successor, not ${region}`;
  if (!view.stale)
    return (
      view.held ??
      `${view.holder}'s lease is stale in ${view.staleIn.length} of ${deps.env.stateRegions.length} state tables, not a majority`
    );
  if (await primaryGateAnswers(deps, view.holder)) return `${view.holder}'s write gate answers open`;
  return undefined;
}

/**
 * Read-only readiness: the target's database is a replica of the primary (or already promoted by
 * an earlier execution), its replication lag by heartbeat against the RPO, the cache's membership,
 * and whether the source answers. Nothing here changes anything, so it is safe to run daily.
 */
export const preflight: Step<FailoverState, FailoverPlan> = async ({ state }, deps) => {
  const { env } = deps;
  const input = validateFailoverInput(state.input, env.regions, env.region);
  const target = input.targetRegion;
  if (input.startedBy === 'automatic') {
    const refused = await automaticStartRefusal(deps);
    if (refused) fail(ERROR.preflightFailed, `automatic start refused: ${refused}; nothing was changed`);
  }
  const reasons: string[] = [];
  const targetDb = await describeRegionDatabase(deps, target);
  const { engine, identifier: targetId } = targetDb;
  const [recorded, promotion] = await Promise.all([readPrimary(deps, target, env.stateTable), readPromotion(deps, target, env.stateTable)]);
  // Promoted by a runbook: an earlier execution finished (primary recorded) or asked for it and died.
  const promotedHere = promotion?.region === target && promotion.instanceIdentifier === targetId;
  const promotionUnderWay =
    promotedHere && (engine === 'rds-postgresql' ? PROMOTING.has(targetDb.status) : targetDb.transition?.toArn === targetDb.arn);
  const alreadyPromoted = (targetDb.writer && (recorded?.region === target || promotedHere)) || promotionUnderWay;
  let source: { region: string; account: string; identifier: string };
  if (targetDb.replicating) {
    source = targetDb.replicating;
  } else if (promotedHere && promotion) {
    source = { region: promotion.sourceRegion, account: '', identifier: promotion.sourceInstanceIdentifier };
  } else if (recorded && recorded.region !== target) {
    source = { region: recorded.region, account: '', identifier: recorded.instanceIdentifier };
  } else {
    const published = engine === 'rds-postgresql' ? await parameter(deps, target, 'postgres', 'source-arn') : 'none';
    source =
      published === 'none'
        ? fail(ERROR.preflightFailed, `${targetId} is not a replica and no earlier execution promoted it`)
        : parseDatabaseArn(published);
  }
  if (targetDb.writer && !alreadyPromoted) reasons.push(`${targetId} is not a replica any more, but no runbook made it primary`);
  if (targetDb.transition && targetDb.transition.toArn !== targetDb.arn && !alreadyPromoted) {
    reasons.push(`a ${targetDb.transition.status} of ${targetDb.globalClusterId} toward ${targetDb.transition.toArn} is under way`);
  }
  // A backup ends by itself; PromotePostgres waits it out.
  if (targetDb.status !== 'available' && targetDb.status !== 'backing-up' && !alreadyPromoted)
    reasons.push(`${targetId} is ${targetDb.status}, not available`);

  const targetEndpoint = targetDb.readEndpoint;
  // Three tries: one connection that times out must not fail a failover with "lag unknown".
  let onTarget: HeartbeatMark | undefined;
  let heartbeatError: string | undefined;
  for (let attempt = 0; attempt < 3 && !onTarget; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    onTarget = await deps.database.latestHeartbeat(targetEndpoint).catch((error: Error) => {
      heartbeatError = error.message;
      return undefined;
    });
  }
  const now = deps.now();
  // Without the source, the data at risk runs to when it may last have written: until its next lease
  // renewal was due after the last one seen, and at most until the failover began (a re-run, or an
  // operator deciding minutes after the loss, does not add its own delay).
  const [began, renewed] = await Promise.all([failoverBegan(deps, target), lastRenewalOf(deps, source.region)]);
  const aliveUntil = renewed ? Date.parse(renewed) + (WRITE_LEASE.renewalSeconds + WRITE_LEASE.deliverySlackSeconds) * 1000 : Infinity;
  const reference = Math.min(now.getTime(), began ? Date.parse(began) : Infinity, aliveUntil);
  const lagSeconds = onTarget ? Math.max(0, (reference - Date.parse(onTarget.writtenAt)) / 1000) : undefined;

  let sourceReachable = false;
  let sourceEndpoint: DatabaseEndpoint | undefined;
  let onSource: HeartbeatMark | undefined;
  try {
    sourceEndpoint = (
      await describeDatabase(deps, {
        engine,
        region: source.region,
        identifier: source.identifier,
        globalClusterId: targetDb.globalClusterId,
      })
    ).endpoint;
    onSource = await deps.database.latestHeartbeat(sourceEndpoint);
    sourceReachable = true;
  } catch {
    sourceReachable = false;
  }
  const measuredLag =
    onSource && onTarget ? Math.max(0, (Date.parse(onSource.writtenAt) - Date.parse(onTarget.writtenAt)) / 1000) : lagSeconds;

  if (input.mode === 'planned' && !sourceReachable && !alreadyPromoted) {
    reasons.push(`planned mode needs the source ${source.region} to fence and drain it, and it does not answer; use unplanned`);
  }
  if (input.mode === 'unplanned' && measuredLag !== undefined && measuredLag > env.rpoSeconds && !input.override) {
    reasons.push(
      `replication lag ${measuredLag.toFixed(1)} s exceeds the RPO objective of ${env.rpoSeconds} s: start again with an override to accept the loss`,
    );
  }
  if (!onTarget && !alreadyPromoted)
    reasons.push(`no heartbeat could be read on ${targetId}: lag unknown${heartbeatError ? ` (${heartbeatError})` : ''}`);

  const [groupId, globalId] = await Promise.all([
    parameter(deps, target, 'redis', 'replication-group-id'),
    parameter(deps, target, 'redis', 'global-datastore-id'),
  ]);
  // The lag as it stood when the source may last have written: a replica's lag grows while its source is gone.
  const asOf = new Date(reference);
  const [replicaLagSeconds, cacheLagSeconds, kafkaLatencyMs] = await Promise.all([
    engine === 'rds-postgresql'
      ? latestMetric(deps, target, 'AWS/RDS', 'ReplicaLag', { DBInstanceIdentifier: targetId }, asOf)
      : // Milliseconds, published in the secondary's region only (Aurora User Guide, cluster-level metrics).
        latestMetric(deps, target, 'AWS/RDS', 'AuroraGlobalDBRPOLag', { DBClusterIdentifier: targetId }, asOf).then((ms) =>
          ms === undefined ? undefined : ms / 1000,
        ),
    latestMetric(deps, target, 'AWS/ElastiCache', 'GlobalDatastoreReplicationLag', { ReplicationGroupId: groupId }),
    latestMetric(deps, target, 'AWS/Kafka', 'ReplicationLatency', {
      ReplicatorName: `mlp-${env.tier}-${codeOf(source.region)}-to-${codeOf(target)}`,
    }),
  ]);
  // RDS computes ReplicaLag as the time since the last replayed commit (RDS User Guide, PostgreSQL read
  // replicas), so a heartbeat-writing primary keeps it honest; a replica behind by more than the RPO loses more.
  if (input.mode === 'unplanned' && replicaLagSeconds !== undefined && replicaLagSeconds > env.rpoSeconds && !input.override) {
    reasons.push(
      `CloudWatch reports ${engine === 'rds-postgresql' ? 'ReplicaLag' : 'AuroraGlobalDBRPOLag'} ${replicaLagSeconds.toFixed(0)} s on ${targetId}, which exceeds the RPO objective of ${env.rpoSeconds} s: start again with an override to accept the loss`,
    );
  }
  const go = reasons.length === 0 || alreadyPromoted;
  const plan: FailoverPlan = {
    mode: input.mode,
    engine,
    ...(targetDb.globalClusterId ? { globalClusterId: targetDb.globalClusterId } : {}),
    targetRegion: target,
    sourceRegion: source.region,
    target: { ...targetDb.endpoint, arn: targetDb.arn },
    source: { region: source.region, instanceIdentifier: source.identifier, reachable: sourceReachable, endpoint: sourceEndpoint },
    alreadyPromoted,
    cache: { groupId, globalId, isMember: globalId !== 'none' },
    heartbeat: { onTarget, onSource, lagSeconds: measuredLag },
    replicaLagSeconds,
    cacheLagSeconds,
    kafkaLagSeconds: kafkaLatencyMs === undefined ? undefined : kafkaLatencyMs / 1000,
    decidedAt: now.toISOString(),
    go,
    reasons,
  };
  if (!go && input.mode !== 'preflight') fail(ERROR.preflightFailed, reasons.join('; '));
  return plan;
};

/** The newest 1-minute maximum of a metric in the last five minutes, or nothing (no data, or the call failed). */
async function latestMetric(
  deps: RunbookDeps,
  region: string,
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
  end: Date = deps.now(),
): Promise<number | undefined> {
  return aws(region, () =>
    deps.clients.cloudwatch(region).send(
      new GetMetricDataCommand({
        StartTime: new Date(end.getTime() - 300_000),
        EndTime: end,
        MetricDataQueries: [
          {
            Id: 'm',
            MetricStat: {
              Metric: {
                Namespace: namespace,
                MetricName: name,
                Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    ),
  )
    .then((out) => out.MetricDataResults?.[0]?.Values?.[0])
    .catch(() => undefined);
}
