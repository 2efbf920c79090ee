/** The region failover's input, the plan preflight makes, and what its steps share. */
import { findSupportedRegion } from '../../../lib/config/regions';
import type { DatabaseEngine } from '../../../lib/config/types';
import type { DatabaseEndpoint, HeartbeatMark } from '../../core/database';
import type { RunbookDeps } from '../../core/env';
import { ERROR, fail } from '../../core/errors';
import { publishCounts } from '../../core/metrics';
import type { Attempt } from '../../core/step';

export const FAILOVER_MODES = ['preflight', 'planned', 'unplanned'] as const;
export type FailoverMode = (typeof FAILOVER_MODES)[number];

/** Input of `RegionFailover`. */
export interface FailoverInput {
  readonly mode: FailoverMode;
  /** The region that becomes the primary; the runbook must be started there. */
  readonly targetRegion: string;
  /** Proceed although measured lag exceeds the RPO objective (unplanned), accepting the loss it reports. */
  readonly override?: { readonly reason: string };
  /**
   * Who started it: an operator (the default), or the primary-lost alarm's EventBridge rule, which
   * Preflight lets through only when the evidence still holds (`automaticStartRefusal`).
   */
  readonly startedBy?: 'operator' | 'automatic';
}

export interface InstanceRef extends DatabaseEndpoint {
  readonly arn: string;
}

/** What preflight found and decided; every later step reads it. */
export interface FailoverPlan {
  readonly mode: FailoverMode;
  /** What serves PostgreSQL: how the target is promoted. */
  readonly engine: DatabaseEngine;
  /** Aurora: the global database whose writer moves to the target. */
  readonly globalClusterId?: string;
  readonly targetRegion: string;
  readonly sourceRegion: string;
  readonly target: InstanceRef;
  readonly source: {
    readonly region: string;
    readonly instanceIdentifier: string;
    readonly reachable: boolean;
    readonly endpoint?: DatabaseEndpoint;
  };
  /** The target is already the writable primary (an earlier execution promoted it). */
  readonly alreadyPromoted: boolean;
  readonly cache: { readonly groupId: string; readonly globalId: string; readonly isMember: boolean };
  readonly heartbeat: { readonly onTarget?: HeartbeatMark; readonly onSource?: HeartbeatMark; readonly lagSeconds?: number };
  /**
   * Replication lag as the services publish it, for the tiers measured by lag rather than by
   * heartbeat: RDS `ReplicaLag` (next to the heartbeat, which it can mislead on an idle primary),
   * the cache's `GlobalDatastoreReplicationLag` and MSK Replicator's `ReplicationLatency` into the
   * target (milliseconds, reported in seconds).
   */
  readonly replicaLagSeconds?: number;
  readonly cacheLagSeconds?: number;
  readonly kafkaLagSeconds?: number;
  readonly decidedAt: string;
  readonly go: boolean;
  readonly reasons: readonly string[];
}

export interface FailoverState {
  readonly input: FailoverInput;
  readonly plan?: FailoverPlan;
  readonly lock?: { readonly epoch: number; readonly owner: string; readonly regions?: readonly string[] };
  readonly fence?: {
    readonly attempts: readonly Attempt[];
    readonly fenced: boolean;
    readonly sourceLast?: HeartbeatMark;
    /** Unplanned: the regions whose tables the old primary's write lease was revoked in. */
    readonly leaseRevokedIn?: readonly string[];
    /**
     * Seconds the state machine waits before promoting when the source could not be fenced: until the
     * lease bound has passed since its last renewal that reached a quorum (or since the revocation).
     */
    readonly leaseWaitSeconds?: number;
    readonly leaseExpiresAt?: string;
    /** What the bound is counted from, for the report. */
    readonly leaseBoundFrom?: string;
  };
}

export function validateFailoverInput(input: unknown, regions: readonly string[], runningIn: string): FailoverInput {
  const value = (input ?? {}) as Record<string, unknown>;
  if (!FAILOVER_MODES.includes(value.mode as FailoverMode)) {
    fail(ERROR.invalidInput, `mode must be one of ${FAILOVER_MODES.join(', ')}, got ${JSON.stringify(value.mode)}`);
  }
  if (typeof value.targetRegion !== 'string' || !regions.includes(value.targetRegion)) {
    fail(ERROR.invalidInput, `targetRegion must be one of ${regions.join(', ')}, got ${JSON.stringify(value.targetRegion)}`);
  }
  if (value.targetRegion !== runningIn) {
    fail(
      ERROR.invalidInput,
      `start the runbook in the region that becomes the primary (${String(value.targetRegion)}), not in ${runningIn}`,
    );
  }
  if (value.startedBy !== undefined && value.startedBy !== 'operator' && value.startedBy !== 'automatic') {
    fail(ERROR.invalidInput, `startedBy must be operator or automatic, got ${JSON.stringify(value.startedBy)}`);
  }
  if (value.startedBy === 'automatic' && (value.mode !== 'unplanned' || value.override !== undefined)) {
    fail(
      ERROR.invalidInput,
      'an automatic start is an unplanned failover without an override: only an operator accepts data loss or plans a switchover',
    );
  }
  const override = value.override as { reason?: unknown } | undefined;
  if (override !== undefined && (typeof override.reason !== 'string' || override.reason.trim().length < 10)) {
    fail(ERROR.invalidInput, 'override must be { "reason": "<why the data loss is accepted, 10 characters or more>" }');
  }
  return value as unknown as FailoverInput;
}

/** The region's short code, as the stacks name replicators. */
export const codeOf = (region: string) => findSupportedRegion(region)?.code ?? region;

/** The plan's target as `describeDatabase` names it. */
export const targetOf = (plan: FailoverPlan) => ({
  engine: plan.engine,
  region: plan.targetRegion,
  identifier: plan.target.instanceIdentifier,
  globalClusterId: plan.globalClusterId,
});

export const planOf = (state: FailoverState): FailoverPlan =>
  state.plan ?? fail(ERROR.invalidInput, 'the state has no plan: preflight did not run');
export const lockOf = (state: FailoverState) => state.lock ?? fail(ERROR.invalidInput, 'the state has no lock: acquireLock did not run');
/** The lock's quorum rule follows the mode (tier-lock.ts `lockQuorum`). */
export const lockModeOf = (state: FailoverState): 'planned' | 'unplanned' => (state.input.mode === 'planned' ? 'planned' : 'unplanned');

export async function publishGate(deps: RunbookDeps, region: string, open: boolean): Promise<void> {
  await publishCounts(deps, region, 'MLP/DR', [{ name: 'WriteGateOpen', value: open ? 1 : 0 }]);
}

/** The statuses an instance passes through while RDS promotes it: it reboots before it is available (RDS User Guide). */
export const PROMOTING: ReadonlySet<string> = new Set(['modifying', 'rebooting']);
