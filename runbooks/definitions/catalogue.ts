import type { StepName } from '../steps';
import type { Access } from './access';

/** One step as the state machines, the IAM and the generated runbook documents see it. */
export interface StepSpec {
  readonly name: StepName;
  /** What it does, one sentence, for the runbook document. */
  readonly summary: string;
  /** Lambda and Task timeout. */
  readonly timeoutSeconds: number;
  /** A check the state machine repeats while it raises `NotReady`: seconds between tries and how many. */
  readonly poll?: { readonly intervalSeconds: number; readonly maxAttempts: number };
  /** What happens when it fails for good. */
  readonly onFailure: string;
  /** Runs inside the region's VPC, because it reaches a database. */
  readonly inVpc: boolean;
  /** The AWS calls it makes, by access group (`declaredCalls` in access.ts): its role allows these and nothing else. */
  readonly access: readonly Access[];
}

const spec = (s: StepSpec) => s;

/**
 * The write lease of the primary region (runbooks/core/tier-lock.ts). RefreshGate renews it every
 * `renewalSeconds` in every state table that answers; a primary that cannot renew it in a quorum of
 * the tier's tables within `renewalDeadlineSeconds`, or finds a newer epoch in any, closes its gate
 * and fences its own database at that pass. An unplanned failover that could not fence the old
 * primary revokes the lease in the tables it holds the lock in, then waits `boundSeconds` before
 * promoting.
 *
 * EventBridge Scheduler invokes at most once a minute, so one invocation runs `passesPerInvocation`
 * passes `renewalSeconds` apart.
 */
const LEASE_TIMING = {
  renewalSeconds: 20,
  passesPerInvocation: 3,
  /** A renewal not answered by then counts as lost: a region that hangs cannot stretch the bound. */
  renewalDeadlineSeconds: 5,
  /** The gap between one invocation's last pass and the next invocation's first beyond `renewalSeconds`: Scheduler's delivery and Lambda's start. */
  deliverySlackSeconds: 10,
  /** Closing the gate in its own table and fencing its database: the database plane's 5 s connect and 10 s statement timeouts, and local calls. */
  fenceSeconds: 20,
  /** The clocks of the failover's region and the old primary's, which the bound compares. */
  clockSkewSeconds: 5,
} as const;

export const WRITE_LEASE = {
  ...LEASE_TIMING,
  /**
   * How long an open gate is served as open after the pass that renewed its lease in a quorum began:
   * until the next renewal is due (a renewal period, the delivery slack, the renewal deadline). A
   * primary that stops renewing (cut off, or its gate keeper failing) stops answering its write-gate
   * endpoint as open by then, on its own; well inside `boundSeconds`, so its gate has closed before
   * any failover that waited out the bound opens another.
   */
  gateValiditySeconds: LEASE_TIMING.renewalSeconds + LEASE_TIMING.deliverySlackSeconds + LEASE_TIMING.renewalDeadlineSeconds,
  boundSeconds:
    LEASE_TIMING.renewalSeconds +
    LEASE_TIMING.deliverySlackSeconds +
    LEASE_TIMING.renewalDeadlineSeconds +
    LEASE_TIMING.fenceSeconds +
    LEASE_TIMING.clockSkewSeconds,
  reason: `The old primary's last successful renewal reached a quorum, so it reached a table the revocation reached, before the revocation: it happened before the failover's wait began. Its next pass starts at most ${LEASE_TIMING.renewalSeconds} s later (${LEASE_TIMING.deliverySlackSeconds} s more across two scheduled invocations, for Scheduler's delivery and Lambda's start), decides within its ${LEASE_TIMING.renewalDeadlineSeconds} s renewal deadline that the lease is lost, and fences within ${LEASE_TIMING.fenceSeconds} s (the database plane's 5 s connect and 10 s statement timeouts, and local calls); ${LEASE_TIMING.clockSkewSeconds} s more for the two regions' clocks.`,
} as const;

/** Heartbeat rows WriteHeartbeats writes per run, one a second; the schedule starts a run every minute. */
export const HEARTBEATS_PER_RUN = 55;

/**
 * The watchdog of the primary (WatchPrimary), in every region: every `intervalSeconds` it reads the
 * write lease in every state table and, in the primary's successor, asks the primary's write-gate
 * endpoint. The lease is stale in a table after `staleLeaseSeconds` without a renewal there: two
 * renewal periods, so one late renewal (a Scheduler delivery, a slow pass) never counts. EventBridge
 * Scheduler invokes once a minute, so one invocation runs `passesPerInvocation` passes.
 */
export const PRIMARY_WATCH = {
  intervalSeconds: 10,
  passesPerInvocation: 6,
  staleLeaseSeconds: 2 * LEASE_TIMING.renewalSeconds,
  /** A state table that has not answered within this counts as not answering: a pass stays inside its 10 s. */
  readDeadlineSeconds: 2,
  /** How long the successor waits for the primary's write-gate endpoint (Route 53's own limit: 4 s to connect, 2 s to answer). */
  probeTimeoutSeconds: 4,
  /** The metrics it publishes in MLP/DR (dimensions Tier, Region), 1 or 0 each pass. */
  metrics: { leaseStale: 'PrimaryLeaseStale', gateUnreachable: 'PrimaryGateUnreachable' },
  /**
   * What its once-a-minute survey publishes in MLP/DR (dimensions Tier, Region = the region that looked):
   * how many regions' write-gate endpoints answer open to it (exactly one should), and how many of its
   * own region's Batch job queues are not enabled.
   */
  survey: { openWriteGates: 'OpenWriteGates', batchQueuesDisabled: 'BatchQueuesDisabled' },
} as const;

/**
 * What the daily keep-active schedule sends a runbook function in a VPC: the handler answers it
 * without doing anything. Lambda reclaims the network interface of a VPC function that stays idle,
 * and the function's next invocation fails while it reattaches (Lambda Developer Guide, "Lambda
 * function states": Inactive, then Pending); a function only a failover invokes would be idle for
 * months, and fail the failover's first call to it.
 */
export const KEEP_ACTIVE_EVENT = { mlpKeepActive: true } as const;

/**
 * Every step of the runbooks. Polls are Step Functions retries of a `NotReady` check (the wait is
 * the state machine's, never a sleep in a Lambda); their budgets come from the facts behind the
 * modelled timings: RDS promotion "several minutes" (budget 15 min), a global datastore failover
 * about 1 min (budget 10 min), a Multi-AZ failover 60-120 s (budget 8 min).
 */
export const STEP_SPECS: Readonly<Record<StepName, StepSpec>> = {
  Preflight: spec({
    name: 'Preflight',
    summary:
      "Read-only readiness: the target's database replicates the primary (or an earlier execution promoted it), its lag by heartbeat and by the lag RDS publishes (ReplicaLag, or AuroraGlobalDBRPOLag for an Aurora secondary) against the RPO, the source reachable, the cache's membership. Decides go or no-go.",
    timeoutSeconds: 60,
    onFailure: 'No-go: nothing has changed; the report gives the reasons. Unplanned mode with lag beyond the RPO needs an override.',
    inVpc: true,
    access: ['read-parameters', 'describe-databases', 'database-connect', 'database-agents', 'read-metrics', 'state-read'],
  }),
  AcquireLock: spec({
    name: 'AcquireLock',
    summary:
      "Takes the tier's runbook lock with a new epoch in a quorum of the regions' state tables (a majority from three regions; with two, both in planned mode, the target's in unplanned mode), claiming them in home order with conditional writes; refuses, naming it, while another execution runs (asked in its own region), takes over from one that ended.",
    timeoutSeconds: 30,
    onFailure:
      'LockHeld: the execution is refused, releases whatever table it claimed, and changes nothing. Fewer tables answering than the quorum: it fails and changes nothing.',
    inVpc: false,
    access: ['state-read', 'state-count', 'state-write', 'describe-executions'],
  }),
  FenceSource: spec({
    name: 'FenceSource',
    summary:
      "Fences the old primary before anything is promoted: closes its write gate, fences its database (every application role NOLOGIN, their sessions ended in every database; the master user and the runbook role are not fenced), through that region's database agent, disables its Batch queues; in unplanned mode also fences its cache (ModifyUser: the application user can neither log in nor run a command) when that region's control plane answers. Unplanned mode first revokes the old primary's write lease in every table that answers; a source it could not fence is then excluded by time (WaitOutWriteLease).",
    timeoutSeconds: 60,
    onFailure: 'Planned mode: abort before any promotion. Unplanned: what could not be reached is recorded and the runbook goes on.',
    inVpc: false,
    access: ['state-read', 'state-write', 'publish-dr-metrics', 'database-agents', 'read-parameters', 'batch-queues', 'cache-fence-source'],
  }),
  CheckCaughtUp: spec({
    name: 'CheckCaughtUp',
    summary: 'Planned mode: waits until the target holds the last heartbeat the fenced source acknowledged (lag 0 by heartbeat).',
    timeoutSeconds: 30,
    poll: { intervalSeconds: 5, maxAttempts: 24 },
    onFailure: 'Not caught up within 2 minutes: abort with the gate closed; nothing was promoted.',
    inVpc: true,
    access: ['database-connect'],
  }),
  WaitOutWriteLease: spec({
    name: 'WaitOutWriteLease',
    summary:
      'Unplanned mode, when the old primary could not be fenced: waits until its revoked write lease has run out (WRITE_LEASE.boundSeconds), by when its own gate keeper has closed its gate and fenced its database.',
    timeoutSeconds: 10,
    poll: { intervalSeconds: 10, maxAttempts: WRITE_LEASE.boundSeconds / 10 + 3 },
    onFailure: 'Cannot fail but by timing out its budget (the bound and 30 s): the gate stays closed, the report alerts.',
    inVpc: false,
    access: [],
  }),
  PromotePostgres: spec({
    name: 'PromotePostgres',
    summary:
      "Promotes the target's database: RDS, its cross-region replica with PromoteReadReplica, keeping 35 days of backups (waiting out a backup first: RDS refuses to promote a replica that is backing-up); Aurora, the global database's writer moves to the target cluster with SwitchoverGlobalCluster (planned) or FailoverGlobalCluster with AllowDataLoss (unplanned). Nothing if it already writes or its promotion is under way.",
    timeoutSeconds: 60,
    poll: { intervalSeconds: 30, maxAttempts: 20 },
    onFailure:
      'Not promotable within 10 minutes, or the call failed: the promotion branch fails, the gate stays closed, the report alerts.',
    inVpc: false,
    access: ['describe-databases', 'promote-database', 'state-read', 'state-write'],
  }),
  CheckPostgresPromoted: spec({
    name: 'CheckPostgresPromoted',
    summary:
      'Waits until the target takes writes: the instance available and replicating nothing, or the cluster the global database’s writer with no operation under way.',
    timeoutSeconds: 30,
    // Every 10 s: the promotion is the failover's longest step, and a 30 s poll added up to 20 s to it.
    poll: { intervalSeconds: 10, maxAttempts: 90 },
    onFailure: 'Budget of 15 minutes exhausted: abort to a safe state (gate closed) and alert.',
    inVpc: false,
    access: ['describe-databases'],
  }),
  PromoteCache: spec({
    name: 'PromoteCache',
    summary:
      "Makes the target's cache writable: planned, FailoverGlobalReplicationGroup; unplanned, DisassociateGlobalReplicationGroup; a regional cache is warmed, not promoted.",
    timeoutSeconds: 60,
    onFailure: 'The promotion branch fails: the gate stays closed, the report alerts.',
    inVpc: false,
    access: ['cache-promote'],
  }),
  CheckCachePromoted: spec({
    name: 'CheckCachePromoted',
    summary: "Waits until the target's group is the datastore's primary (or standalone) and available.",
    timeoutSeconds: 30,
    poll: { intervalSeconds: 15, maxAttempts: 40 },
    onFailure: 'Budget of 10 minutes exhausted: abort with the gate closed and alert.',
    inVpc: false,
    access: ['cache-describe'],
  }),
  CheckKafka: spec({
    name: 'CheckKafka',
    summary:
      "Checks the target's MSK cluster serves clients (ACTIVE, or HEALING, MAINTENANCE, REBOOTING_BROKER, UPDATING, in which MSK still takes produce and consume): producers and consumers move to it with topics and offsets already replicated.",
    timeoutSeconds: 30,
    poll: { intervalSeconds: 15, maxAttempts: 8 },
    onFailure: 'The promotion branch fails: the gate stays closed.',
    inVpc: false,
    access: ['read-parameters', 'kafka-describe'],
  }),
  EnableBatchQueues: spec({
    name: 'EnableBatchQueues',
    summary: "Enables the target's AWS Batch job queues.",
    timeoutSeconds: 60,
    onFailure: 'The promotion branch fails: the gate stays closed.',
    inVpc: false,
    access: ['read-parameters', 'batch-queues'],
  }),
  VerifyKeyspace: spec({
    name: 'VerifyKeyspace',
    summary: 'Verifies the feature keyspace is active in the target (Keyspaces is active-active: nothing to promote).',
    timeoutSeconds: 30,
    onFailure: 'The promotion branch fails: the gate stays closed.',
    inVpc: false,
    access: ['read-parameters', 'keyspace-describe'],
  }),
  OpenGate: spec({
    name: 'OpenGate',
    summary:
      "Opens the target's write gate under this execution's epoch (state table, then PutMetricData in the target region), only once the database replicates nothing; first lifts the fence the promoted replica inherited from a planned switchover, and gives the region's cache user its access back.",
    timeoutSeconds: 30,
    onFailure: 'StaleEpoch or a replica still replicating: the gate stays closed.',
    inVpc: true,
    access: [
      'state-read',
      'state-write',
      'describe-databases',
      'publish-dr-metrics',
      'database-connect',
      'read-parameters',
      'cache-fence-own',
    ],
  }),
  VerifyWrites: spec({
    name: 'VerifyWrites',
    summary: 'Writes a heartbeat through the new primary and reads it back; measures the data lost by heartbeat.',
    timeoutSeconds: 60,
    onFailure: 'The runbook fails after the gate opened: the report says the new primary did not take a write.',
    inVpc: true,
    access: ['database-connect'],
  }),
  ScaleTarget: spec({
    name: 'ScaleTarget',
    summary: "Grows the target cluster's node groups by half (seed 001), once per epoch.",
    timeoutSeconds: 60,
    onFailure: 'Reported; the failover itself has completed.',
    inVpc: false,
    access: ['read-parameters', 'scale-nodes', 'state-read', 'state-write'],
  }),
  ReleaseLock: spec({
    name: 'ReleaseLock',
    summary: "Releases the runbook lock in every region's state table where this execution still holds it.",
    timeoutSeconds: 30,
    onFailure: 'The next execution takes the lock over once this one has ended.',
    inVpc: false,
    access: ['lock-release'],
  }),
  Report: spec({
    name: 'Report',
    summary:
      'Writes the report (per-step times from the execution history, RTO, RPO by heartbeat, what was fenced, the next cdk deploy) as JSON and Markdown to the artifact bucket and announces it on the runbook topic.',
    timeoutSeconds: 60,
    onFailure: 'The execution ends as it would have; the report is missing.',
    inVpc: false,
    access: ['read-execution-history', 'read-parameters', 'write-report', 'publish-dr-metrics'],
  }),
  CheckReprotection: spec({
    name: 'CheckReprotection',
    summary:
      "Failback: waits until this region's database replicates the primary (RDS: the rebuilt replica; Aurora: the former primary Aurora rejoined, once its volume is rebuilt) and its heartbeat is within the RPO.",
    timeoutSeconds: 60,
    poll: { intervalSeconds: 60, maxAttempts: 60 },
    onFailure: 'Not re-protected or not caught up within an hour: no switchover is started.',
    inVpc: true,
    access: ['read-parameters', 'describe-databases', 'database-connect', 'state-read'],
  }),
  RebootWithFailover: spec({
    name: 'RebootWithFailover',
    summary:
      "AZ failover: the standby in another zone takes over the region's database (RDS: a reboot of the Multi-AZ instance with ForceFailover; Aurora: FailoverDBCluster to the other instance of the writer pair).",
    timeoutSeconds: 60,
    onFailure: 'Reported; nothing else is attempted.',
    inVpc: false,
    access: ['read-parameters', 'describe-databases', 'reboot-database'],
  }),
  CheckDatabaseAvailable: spec({
    name: 'CheckDatabaseAvailable',
    summary: 'Waits until the database is available again (RDS documents 60-120 s).',
    timeoutSeconds: 30,
    poll: { intervalSeconds: 15, maxAttempts: 32 },
    onFailure: 'Budget of 8 minutes exhausted: reported.',
    inVpc: false,
    access: ['describe-databases'],
  }),
  TestCacheFailover: spec({
    name: 'TestCacheFailover',
    summary: "AZ failover: ElastiCache TestFailover of the cache's first shard.",
    timeoutSeconds: 60,
    onFailure: 'Reported.',
    inVpc: false,
    access: ['read-parameters', 'cache-test-failover'],
  }),
  CheckCacheAvailable: spec({
    name: 'CheckCacheAvailable',
    summary: 'Waits until the cache is available again.',
    timeoutSeconds: 30,
    poll: { intervalSeconds: 15, maxAttempts: 32 },
    onFailure: 'Budget of 8 minutes exhausted: reported.',
    inVpc: false,
    access: ['cache-check'],
  }),
  RefreshGate: spec({
    name: 'RefreshGate',
    summary:
      "Every 20 seconds (three passes an invocation, invoked every minute), republishes the region's recorded gate and renews its write lease in every region's state table; when another region's gate opened later, the lease cannot be renewed in a quorum of the tables within 5 seconds, or a newer epoch revoked it, closes the gate and fences the region's own database and its cache.",
    timeoutSeconds: 90,
    onFailure:
      "The lease is not renewed: the region's write-gate endpoint answers closed 35 s after the last renewal, and Route 53 takes it out of the write records; an owed fence is retried at the next pass.",
    inVpc: true,
    access: [
      'state-read',
      'state-write',
      'state-delete',
      'publish-dr-metrics',
      'read-parameters',
      'describe-databases',
      'database-connect',
      'cache-fence-own',
    ],
  }),
  ServeWriteGate: spec({
    name: 'ServeWriteGate',
    summary:
      "The region's write-gate endpoint (https://api.<code>.<domain>/write-gate, behind its load balancer): 200 while the region's gate is open and its lease renewed within the last 35 seconds, 503 otherwise; Route 53 probes it every 10 seconds.",
    timeoutSeconds: 5,
    onFailure: 'The load balancer answers 502 and Route 53 counts the region closed for writes: a gate fails closed.',
    inVpc: false,
    access: ['gate-read'],
  }),
  WatchPrimary: spec({
    name: 'WatchPrimary',
    summary:
      "Every 10 seconds (six passes an invocation, invoked every minute), reads the write lease in every state table and publishes whether the primary's lease is stale in a majority of them (no renewal for 40 seconds); in the primary's successor, also whether the primary's write-gate endpoint answers open. Their composite alarm starts an automatic failover where the tier allows it. Once an invocation, beside the first pass, it also asks every region's write-gate endpoint and its own region's Batch queues, and publishes how many gates answer open and how many queues are disabled.",
    timeoutSeconds: 70,
    onFailure:
      'The metrics go missing: the alarms treat missing data as not breaching, so no automatic start follows; the operator path remains.',
    inVpc: false,
    access: ['state-read', 'publish-dr-metrics', 'read-parameters', 'describe-batch-queues'],
  }),
  WriteHeartbeats: spec({
    name: 'WriteHeartbeats',
    summary:
      'Every minute, while the region holds the primary, writes a heartbeat row a second for 55 seconds, then publishes how many were acknowledged.',
    timeoutSeconds: 70,
    onFailure: 'Heartbeats pause for a minute; RPO measurements widen by as much.',
    inVpc: true,
    access: ['state-read', 'read-parameters', 'describe-databases', 'database-connect', 'publish-dr-metrics'],
  }),
};
