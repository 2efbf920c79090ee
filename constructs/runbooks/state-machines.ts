import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ERROR } from '../../runbooks/core/errors';
import { STEP_SPECS } from '../../runbooks/definitions/catalogue';
import type { StepName } from '../../runbooks/steps';

/** The functions of every step, by step name. */
export type StepFunctions = Readonly<Record<StepName, lambda.IFunction>>;

/** Errors retried with backoff on every task: throttling, and Lambda's own transient failures. */
export const TRANSIENT_ERRORS = [
  ERROR.throttled,
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.SdkClientException',
];

/**
 * A Task that runs one step: its input is `{ state: $, execution: { id, startTime } }`, its result
 * lands at `$.<resultKey>`. Throttling is retried with exponential backoff; a step that polls
 * raises `NotReady` and is retried at its interval, so every wait is the state machine's.
 */
function stepTask(scope: Construct, id: string, step: StepName, functions: StepFunctions, resultKey: string): tasks.LambdaInvoke {
  const spec = STEP_SPECS[step];
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: functions[step],
    payloadResponseOnly: true,
    payload: sfn.TaskInput.fromObject({
      'state.$': '$',
      execution: { 'id.$': '$$.Execution.Id', 'startTime.$': '$$.Execution.StartTime' },
    }),
    resultPath: `$.${resultKey}`,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(spec.timeoutSeconds + 5)),
    retryOnServiceExceptions: false,
    comment: spec.summary,
  });
  task.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  });
  if (spec.poll) {
    task.addRetry({
      errors: [ERROR.notReady],
      interval: Duration.seconds(spec.poll.intervalSeconds),
      backoffRate: 1,
      maxAttempts: spec.poll.maxAttempts,
    });
  }
  return task;
}

/** Where a failure is kept, for the report. */
const ERROR_PATH = '$.error';

/** The first state of every runbook: the execution input becomes `$.input`, beside what the steps add. */
function start(scope: Construct): sfn.Pass {
  return new sfn.Pass(scope, 'Start', { parameters: { 'input.$': '$' }, comment: 'Keep the execution input as $.input.' });
}

/**
 * `RegionFailover`, input `{ mode: 'preflight' | 'planned' | 'unplanned', targetRegion, override?, faultDetectedAt? }`:
 * preflight -> lock -> fence the old primary -> (planned: wait until caught up; unplanned: wait out the
 * old primary's write lease when it could not be fenced) -> promote every tier
 * in parallel -> open the target's write gate -> verify a write -> scale -> release -> report.
 * Any failure before the gate opens leaves it closed: release the lock, report, fail.
 */
export function regionFailoverDefinition(scope: Construct, functions: StepFunctions): sfn.IChainable {
  const t = (id: string, step: StepName, resultKey: string) => stepTask(scope, id, step, functions, resultKey);

  const failed = new sfn.Fail(scope, 'FailoverFailed', { error: 'FailoverFailed', causePath: '$.error.Cause' });
  const refused = new sfn.Fail(scope, 'Refused', { error: ERROR.lockHeld, causePath: '$.error.Cause' });
  const reportFailure = t('ReportFailure', 'Report', 'report').next(failed);
  const releaseAfterFailure = t('ReleaseLockAfterFailure', 'ReleaseLock', 'release');
  releaseAfterFailure.addCatch(reportFailure, { resultPath: '$.releaseError' });
  releaseAfterFailure.next(reportFailure);
  const onFailure = (task: sfn.TaskStateBase | sfn.Parallel) => task.addCatch(releaseAfterFailure, { resultPath: ERROR_PATH });

  const preflight = t('Preflight', 'Preflight', 'plan');
  preflight.addCatch(
    t('ReportNoGo', 'Report', 'report').next(new sfn.Fail(scope, 'NoGo', { error: ERROR.preflightFailed, causePath: '$.error.Cause' })),
    {
      resultPath: ERROR_PATH,
    },
  );
  const reportPreflight = t('ReportPreflight', 'Report', 'report').next(new sfn.Succeed(scope, 'PreflightReported'));

  const lock = t('AcquireLock', 'AcquireLock', 'lock');
  // A refused execution gives back whatever table it claimed before it lost the race (tier-lock.ts).
  const reportRefused = t('ReportRefused', 'Report', 'report').next(refused);
  const releaseAfterRefusal = t('ReleaseLockAfterRefusal', 'ReleaseLock', 'release');
  releaseAfterRefusal.addCatch(reportRefused, { resultPath: '$.releaseError' });
  releaseAfterRefusal.next(reportRefused);
  lock.addCatch(releaseAfterRefusal, { errors: [ERROR.lockHeld], resultPath: ERROR_PATH });
  lock.addCatch(reportFailure, { resultPath: ERROR_PATH });

  const fence = onFailure(t('FenceSource', 'FenceSource', 'fence'));
  const caughtUp = onFailure(t('CheckCaughtUp', 'CheckCaughtUp', 'caughtUp'));

  const postgres = t('PromotePostgres', 'PromotePostgres', 'postgres')
    .next(new sfn.Wait(scope, 'WaitForPromotion', { time: sfn.WaitTime.duration(Duration.seconds(30)) }))
    .next(t('CheckPostgresPromoted', 'CheckPostgresPromoted', 'postgresPromoted'));
  const cache = t('PromoteCache', 'PromoteCache', 'cache')
    .next(new sfn.Wait(scope, 'WaitForCache', { time: sfn.WaitTime.duration(Duration.seconds(15)) }))
    .next(t('CheckCachePromoted', 'CheckCachePromoted', 'cachePromoted'));
  const promote = new sfn.Parallel(scope, 'PromoteEveryTier', {
    comment:
      'Postgres and the cache are promoted; Kafka, Batch and the keyspace are switched or verified. All must succeed before the gate opens.',
    resultPath: '$.promotion',
  })
    .branch(postgres)
    .branch(cache)
    .branch(t('CheckKafka', 'CheckKafka', 'kafka'))
    .branch(t('EnableBatchQueues', 'EnableBatchQueues', 'batch'))
    .branch(t('VerifyKeyspace', 'VerifyKeyspace', 'keyspace'));
  onFailure(promote);

  const openGate = onFailure(t('OpenGate', 'OpenGate', 'gate'));
  const verify = onFailure(t('VerifyWrites', 'VerifyWrites', 'verify'));
  const scale = t('ScaleTarget', 'ScaleTarget', 'scale');
  scale.addCatch(t('ReleaseLockAfterScaleFailure', 'ReleaseLock', 'release').next(reportFailure), { resultPath: ERROR_PATH });
  const release = t('ReleaseLock', 'ReleaseLock', 'release');
  const done = t('ReportSuccess', 'Report', 'report').next(new sfn.Succeed(scope, 'FailedOver'));

  // Unplanned: a source that could not be fenced is excluded by time, its write lease waited out.
  const leaseWait = onFailure(t('WaitOutWriteLease', 'WaitOutWriteLease', 'leaseWait'));
  const afterFence = new sfn.Choice(scope, 'PlannedMode?')
    .when(sfn.Condition.stringEquals('$.input.mode', 'planned'), caughtUp.next(promote))
    .otherwise(leaseWait.next(promote));
  promote.next(openGate).next(verify).next(scale).next(release).next(done);

  return start(scope)
    .next(preflight)
    .next(
      new sfn.Choice(scope, 'PreflightOnly?')
        .when(sfn.Condition.stringEquals('$.input.mode', 'preflight'), reportPreflight)
        .otherwise(lock.next(fence).next(afterFence)),
    );
}

/**
 * `Failback`, input `{ formerPrimary }`, started in that region: wait until its rebuilt replica
 * replicates the primary and has caught up, then a planned `RegionFailover` to it.
 */
export function failbackDefinition(scope: Construct, functions: StepFunctions, regionFailover: sfn.IStateMachine): sfn.IChainable {
  const report = stepTask(scope, 'ReportFailback', 'Report', functions, 'report');
  const failed = stepTask(scope, 'ReportFailbackFailure', 'Report', functions, 'report').next(
    new sfn.Fail(scope, 'FailbackFailed', { error: 'FailbackFailed', causePath: '$.error.Cause' }),
  );
  const reprotection = stepTask(scope, 'CheckReprotection', 'CheckReprotection', functions, 'reprotection');
  reprotection.addCatch(failed, { resultPath: ERROR_PATH });
  const switchover = new tasks.StepFunctionsStartExecution(scope, 'SwitchoverHome', {
    stateMachine: regionFailover,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    input: sfn.TaskInput.fromObject({ mode: 'planned', 'targetRegion.$': '$.input.formerPrimary' }),
    resultSelector: { 'executionArn.$': '$.ExecutionArn', 'status.$': '$.Status' },
    resultPath: '$.switchover',
    comment: 'A planned RegionFailover to the former primary, as a child execution of its own.',
  });
  switchover.addCatch(failed, { resultPath: ERROR_PATH });
  return start(scope).next(reprotection).next(switchover).next(report).next(new sfn.Succeed(scope, 'FailedBack'));
}

/**
 * `AzFailover`, input `{ region? }`: Multi-AZ failover of the region's database (reboot with
 * failover), then a test failover of its cache, each waited for and measured.
 */
export function azFailoverDefinition(scope: Construct, functions: StepFunctions): sfn.IChainable {
  const t = (id: string, step: StepName, resultKey: string) => stepTask(scope, id, step, functions, resultKey);
  const failed = t('ReportAzFailure', 'Report', 'report').next(
    new sfn.Fail(scope, 'AzFailoverFailed', { error: 'AzFailoverFailed', causePath: '$.error.Cause' }),
  );
  const steps = [
    t('RebootWithFailover', 'RebootWithFailover', 'database'),
    t('CheckDatabaseAvailable', 'CheckDatabaseAvailable', 'databaseAvailable'),
    t('TestCacheFailover', 'TestCacheFailover', 'cache'),
    t('CheckCacheAvailable', 'CheckCacheAvailable', 'cacheAvailable'),
  ];
  for (const step of steps) step.addCatch(failed, { resultPath: ERROR_PATH });
  const [reboot, checkDatabase, testCache, checkCache] = steps as [
    tasks.LambdaInvoke,
    tasks.LambdaInvoke,
    tasks.LambdaInvoke,
    tasks.LambdaInvoke,
  ];
  return start(scope)
    .next(reboot)
    .next(new sfn.Wait(scope, 'WaitForDatabaseFailover', { time: sfn.WaitTime.duration(Duration.seconds(30)) }))
    .next(checkDatabase)
    .next(testCache)
    .next(new sfn.Wait(scope, 'WaitForCacheFailover', { time: sfn.WaitTime.duration(Duration.seconds(30)) }))
    .next(checkCache)
    .next(t('ReportAzFailover', 'Report', 'report'))
    .next(new sfn.Succeed(scope, 'AzFailedOver'));
}
