import type { StepName } from '../steps';
import { KEEP_ACTIVE_EVENT, STEP_SPECS, WRITE_LEASE } from './catalogue';

/** The steps of each runbook in the order they run; a test holds this to the synthesized definitions. */
export const RUNBOOK_OUTLINES: Readonly<
  Record<'region-failover' | 'failback' | 'az-failover', { title: string; input: string; steps: readonly StepName[] }>
> = {
  'region-failover': {
    title: 'RegionFailover',
    input:
      '`{ "mode": "preflight" | "planned" | "unplanned", "targetRegion": "<region>", "override"?: { "reason": "..." }, "faultDetectedAt"?: "<ISO time>" }`, started in the target region',
    steps: [
      'Preflight',
      'AcquireLock',
      'FenceSource',
      'CheckCaughtUp',
      'WaitOutWriteLease',
      'PromotePostgres',
      'CheckPostgresPromoted',
      'PromoteCache',
      'CheckCachePromoted',
      'CheckKafka',
      'EnableBatchQueues',
      'VerifyKeyspace',
      'OpenGate',
      'VerifyWrites',
      'ScaleTarget',
      'ReleaseLock',
      'Report',
    ],
  },
  failback: {
    title: 'Failback',
    input: '`{ "formerPrimary": "<region>" }`, started in that region once `cdk deploy -c rebuiltReplicas=...` re-protected it',
    steps: ['CheckReprotection', 'Report'],
  },
  'az-failover': {
    title: 'AzFailover',
    input: '`{}` (or `{ "region": "<the region it runs in>" }`)',
    steps: ['RebootWithFailover', 'CheckDatabaseAvailable', 'TestCacheFailover', 'CheckCacheAvailable', 'Report'],
  },
};

/** Every step of the seeds' manual region runbooks, and what replaces it. */
export const SEED_STEP_MAPPING: readonly { seed: string; manual: string; automated: string }[] = [
  {
    seed: '000',
    manual: 'DNS health check detects primary failure',
    automated: 'Route 53 health checks (global stack); the decision to fail over is the operator starting RegionFailover (or a drill)',
  },
  {
    seed: '000',
    manual: 'Route 53 updates to point to secondary',
    automated: 'OpenGate: the write gate opens in the target region; Route 53 health checks follow it, no record changes',
  },
  { seed: '000', manual: 'Secondary API servers begin receiving traffic', automated: 'OpenGate, then ScaleTarget (+50 %, seed 001)' },
  { seed: '000', manual: 'PostgreSQL replica promoted to primary', automated: 'PromotePostgres, CheckPostgresPromoted' },
  {
    seed: '000',
    manual: 'Verify secondary is receiving traffic',
    automated: 'VerifyWrites (a heartbeat written and read back through the new primary)',
  },
  {
    seed: '000',
    manual: 'Check database promotion successful',
    automated: 'CheckPostgresPromoted, and OpenGate refuses while the instance still replicates',
  },
  {
    seed: '000',
    manual: 'Validate artifact storage accessible',
    automated: 'None: S3 replication is two-way and always on; its lag is a CloudWatch metric (see the note below)',
  },
  { seed: '000', manual: 'Run smoke tests', automated: 'VerifyWrites; application smoke tests stay with the service owners' },
  {
    seed: '000',
    manual: 'Update monitoring dashboards, notify stakeholders',
    automated: 'Report (JSON and Markdown in the artifact bucket, announced on the runbook topic)',
  },
  {
    seed: '000',
    manual: 'Begin root cause analysis, plan failback',
    automated: 'None: human work; Report gives the timeline and the next cdk deploy, Failback automates the return',
  },
  {
    seed: '002',
    manual: 'Detection (alarms, extended outage)',
    automated: 'Route 53 health alarms notify on-call; Preflight reports readiness at any time',
  },
  {
    seed: '002',
    manual: 'Decision (RTO against remaining outage)',
    automated: 'None: the operator decides; Preflight refuses unplanned mode beyond the RPO without an override',
  },
  {
    seed: '002',
    manual: 'Promote PostgreSQL read replica (console, < 10 min)',
    automated: 'PromotePostgres, CheckPostgresPromoted (15-minute budget, then abort with the gate closed)',
  },
  { seed: '002', manual: 'Update DNS to the DR region (TTL 60 s)', automated: 'OpenGate (data plane); records keep their TTL of 60 s' },
  {
    seed: '002',
    manual: 'Verify S3 replication caught up',
    automated: 'None yet: replication latency is read from CloudWatch by the operator (see the note below)',
  },
  {
    seed: '002',
    manual: 'Start the metadata service in the DR region',
    automated: 'Nothing to start: every region runs the services; ScaleTarget grows the target',
  },
  { seed: '002', manual: 'Notify users', automated: 'Report, on the runbook topic' },
  {
    seed: '003',
    manual: 'Confirm primary region is truly down',
    automated: 'Preflight (source reachable or not decides planned or unplanned)',
  },
  { seed: '003', manual: 'Update DNS to point to DR region', automated: 'OpenGate' },
  { seed: '003', manual: 'Promote DR database replica to primary', automated: 'PromotePostgres, CheckPostgresPromoted' },
  {
    seed: '003',
    manual: 'Activate DR scheduler cluster',
    automated: 'EnableBatchQueues; the scheduler runs in every region and takes its leader lease where writes go',
  },
  { seed: '003', manual: 'Verify job processing resumes', automated: 'VerifyWrites' },
  {
    seed: '003',
    manual: 'Monitor for duplicate executions',
    automated:
      'FenceSource (the old primary’s application roles NOLOGIN, their sessions ended, its Batch queues disabled); idempotent jobs cover the rest',
  },
  {
    seed: '003',
    manual: 'Verify no split brain (old primary fenced)',
    automated: 'FenceSource, and the write gates: Route 53 sends writes nowhere while two gates are open',
  },
  { seed: '003', manual: 'Confirm replication caught up', automated: 'CheckCaughtUp (planned mode, by heartbeat)' },
  { seed: '003', manual: 'Test write operations', automated: 'VerifyWrites' },
  {
    seed: '004',
    manual: 'Verify secondary health (Kafka, ClickHouse, app tier, lag)',
    automated: 'Preflight, CheckKafka; ClickHouse is fed from the regional topics and needs no promotion',
  },
  {
    seed: '004',
    manual: 'Stop writes to primary (stop MirrorMaker, drain, read-only)',
    automated: 'FenceSource, CheckCaughtUp; MSK Replicator flows stay (no record returns to its origin)',
  },
  {
    seed: '004',
    manual: 'Promote secondary (Kafka, ClickHouse, app configs)',
    automated: 'CheckKafka (clients use their region’s cluster); nothing to promote in ClickHouse',
  },
  { seed: '004', manual: 'Update DNS, wait for propagation, verify traffic', automated: 'OpenGate; VerifyWrites' },
  {
    seed: '004',
    manual: 'Validate (ingestion, query latency, dashboards), notify',
    automated: 'VerifyWrites, Report; service dashboards stay with their owners',
  },
];

/** What the tier's lock, the write lease and self-fencing guarantee, and what they do not (runbooks/core/tier-lock.ts). */
const SAFETY_SECTION: readonly string[] = [
  '## The lock, the write lease and self-fencing',
  '',
  '**One lock for the tier.** AcquireLock claims the lock item of every reachable region’s state table,',
  'one after the other in home order, each with a conditional write, under an epoch above every epoch',
  'any reachable table records (lock, epoch counter, gate, lease, primary). It holds the lock in a quorum',
  'of tables: a majority from three regions on (two of three, three of five), so it still works with a',
  'minority of regions lost, and any two holders would share a table, which only one can claim. Two',
  'executions racing meet first on the same table: the loser is refused with `LockHeld` naming the owner,',
  'and the state machine releases what it took. A lock whose owner still runs (DescribeExecution, asked',
  'in the owner’s own region) refuses; one whose owner Step Functions does not know or has ended is taken',
  'over. When the owner’s region does not answer, the lock is held until Step Functions has certainly',
  'ended the owner: its state machine’s timeout (1 h for RegionFailover, 3 h for Failback) plus Lambda’s',
  '15-minute maximum, from its newest claim; the refusal names the owner and that time, and a later',
  'execution takes the lock over. That is the longest a lost region can hold the tier’s runbooks up.',
  'Any other answer (throttling, a denial) leaves the lock held. Every later step checks it still holds',
  'the lock in a quorum under its epoch, or stops with `StaleEpoch`.',
  '',
  '**Two regions and the witness.** A majority of two is both tables, which a region loss would make',
  'impossible. A two-region deployment therefore has a witness (`-c witnessRegion`, us-east-2 by default):',
  'a third region with a state table and its key and nothing else (the `witness` stack), so the lock and',
  'the lease are majorities of three tables, as with three regions. With `-c witnessRegion=none` the',
  'tables are two: planned mode takes both (it needs both regions anyway), unplanned mode the target’s',
  'own table (and the other when it answers), and the lease is held in the primary’s own table. Then',
  'neither is guaranteed: an operator who starts a failover in a primary region cut off from the other,',
  'and a primary cut off from the other, which keeps its lease (it cannot tell a partition from the',
  'other’s loss).',
  '',
  `**The write lease.** The region whose gate is open renews a lease every ${WRITE_LEASE.renewalSeconds} s (RefreshGate: EventBridge`,
  `Scheduler invokes it every minute, and each invocation runs ${WRITE_LEASE.passesPerInvocation} passes ${WRITE_LEASE.renewalSeconds} s apart) under its`,
  'gate’s epoch in every table that answers. It keeps its gate only while the lease was renewed in a',
  `quorum (a majority of the state tables; its own table when there are two) within ${WRITE_LEASE.renewalDeadlineSeconds} s and no table holds a newer epoch.`,
  'Otherwise it closes its own gate and fences its own database at that pass. An unplanned failover',
  'revokes the lease under its new epoch in every table that answers; when it could not fence the old',
  `primary itself, WaitOutWriteLease waits until ${WRITE_LEASE.boundSeconds} s have passed since the old primary's last renewal that`,
  'reached a quorum: each revocation keeps the lease it replaced, and when the revoked tables meet every',
  'quorum the old primary could renew in (three tables or more: a majority of them), the newest renewal they',
  'held is that time; otherwise (two tables, no witness) the bound runs from the revocation.',
  `${WRITE_LEASE.reason}`,
  `The modelled RTO of such a failover counts the ${WRITE_LEASE.boundSeconds} s.`,
  '',
  '**What the lease does not cover.** It bounds writes through the platform’s own gate keeper: if the',
  'old primary region’s scheduler or Lambda service is down while its database and clients still run,',
  'nothing fences that database (the gate alarm still treats the missing datapoints as closed after two',
  'minutes, so DNS stops sending writes there). Without a witness, a two-region primary cut off from the',
  'other keeps its lease (above). Writes the old primary',
  'acknowledged after its last replicated one and before it fenced itself are lost; the drill’s',
  '`partition` scenario reports them. A former primary that comes back after a region loss answers as',
  'it was, writable for a client pinned to it, until its gate keeper’s next run finds the newer gate and',
  'fences it: within the same bound from its return (the drill’s `failback` scenario shows it, and its',
  'sampler excuses a second writable database only inside that window).',
  '',
];

/** The Markdown document of every runbook, generated from the outlines and the step catalogue. */
export function renderRunbookDocument(): string {
  const lines: string[] = [
    '<!-- Generated by `npm run docs:runbooks` from runbooks/definitions; do not edit by hand. -->',
    '',
    '# Disaster-recovery runbooks',
    '',
    'Step Functions state machines in every region’s resilience stack, a Lambda function per step.',
    'Every step reads the current state first and does nothing when its work is done, so an execution',
    'that died anywhere can be started again and converges. Throttled AWS calls are retried with',
    'backoff (2 s, doubling, 6 attempts); a step that waits raises `NotReady` and the state machine',
    'retries it at its interval, so every wait is the state machine’s, never a sleep in a function.',
    '',
  ];
  for (const [runbook, outline] of Object.entries(RUNBOOK_OUTLINES)) {
    lines.push(
      `## ${outline.title} (\`mlp-<tier>-${runbook}\`)`,
      '',
      `Input: ${outline.input}.`,
      '',
      '| step | what it does | timeout | waits | on failure |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const name of outline.steps) {
      const spec = STEP_SPECS[name];
      const waits = spec.poll ? `every ${spec.poll.intervalSeconds} s, ${spec.poll.maxAttempts} times` : '-';
      lines.push(`| ${name} | ${spec.summary} | ${spec.timeoutSeconds} s | ${waits} | ${spec.onFailure} |`);
    }
    lines.push('');
  }
  lines.push(
    '## Scheduled in every region',
    '',
    '| function | what it does |',
    '| --- | --- |',
    `| RefreshGate | ${STEP_SPECS.RefreshGate.summary} |`,
    `| WriteHeartbeats | ${STEP_SPECS.WriteHeartbeats.summary} |`,
    `| ${Object.values(STEP_SPECS)
      .filter((spec) => spec.inVpc && spec.name !== 'RefreshGate' && spec.name !== 'WriteHeartbeats')
      .map((spec) => spec.name)
      .join(
        ', ',
      )}, and the database agent | Invoked once a day with a no-op event (${JSON.stringify(KEEP_ACTIVE_EVENT)}) that the handler answers without doing anything: Lambda reclaims the network interface of a VPC function left idle, and its next invocation fails while it reattaches (Lambda Developer Guide, "Lambda function states"); only a failover would call these otherwise. |`,
    '',
    ...SAFETY_SECTION,
    '## The seeds’ manual runbooks, step by step',
    '',
    'Seeds 000, 002, 003 (15-30 minutes by hand) and 004 (23 minutes by hand).',
    '',
    '| seed | manual step | automated by |',
    '| --- | --- | --- |',
    ...SEED_STEP_MAPPING.map((row) => `| ${row.seed} | ${row.manual} | ${row.automated} |`),
    '',
    'Note: S3 replication is not checked by a step yet: its lag (`ReplicationLatency`) is a metric of the',
    'source bucket, in the region that failed; a step reading it would call that region.',
    '',
  );
  return lines.join('\n');
}
