import * as batch from 'aws-cdk-lib/aws-batch';

/** AWS Batch's bounds on `retryStrategy.attempts`. */
export const MIN_JOB_ATTEMPTS = 1;
export const MAX_JOB_ATTEMPTS = 10;

/**
 * Attempt budgets by failure class, as in seed 002's "Retry Configuration by Error Type" table (the
 * platform config's `BatchSizing['retries']`). Each budget is a total number of attempts; 0 or 1
 * means no retry.
 */
export interface JobRetryBudgets {
  /** S3 and metadata API calls, image pulls and task start-up that fail on the network. */
  readonly transientNetwork: number;
  /** Throttled API calls. */
  readonly rateLimited: number;
  /** The instance running the job went away (Spot reclaim, host terminated). */
  readonly resourceUnavailable: number;
  /** The container was killed for exceeding its memory. */
  readonly outOfMemory: number;
  /** User code failures: the flow's `@retry(times=...)`. */
  readonly userStepDefault: number;
  /** The flow's `@retry(minutes_between_retries=...)`. */
  readonly minutesBetweenUserRetries: number;
}

/** What AWS Batch is told to do with a failed attempt, derived from the budgets. */
export interface JobRetryPlan {
  /** `retryStrategy.attempts`: the largest budget among the classes Batch retries. */
  readonly attempts: number;
  /** `retryStrategy.evaluateOnExit`, first match wins. */
  readonly strategies: batch.RetryStrategy[];
  /** Whether Batch retries out-of-memory kills (see `jobRetryPlan`). */
  readonly retriesOutOfMemory: boolean;
}

/** `statusReason` of a job whose instance went away: Spot reclaim, host terminated or failed. */
export const HOST_TERMINATED = batch.Reason.SPOT_INSTANCE_RECLAIMED;
/** Container `reason` when the image could not be pulled (registry unreachable or throttled). */
export const IMAGE_PULL_FAILED = batch.Reason.CANNOT_PULL_CONTAINER;
/** Container `reason` when the task could not be set up (secrets, registry auth, log driver). */
export const TASK_INITIALIZATION_FAILED = batch.Reason.custom({ onReason: 'ResourceInitializationError*' });
/** Container `reason` when ECS killed the container for exceeding its memory (exit code 137). */
export const OUT_OF_MEMORY = batch.Reason.custom({ onReason: 'OutOfMemoryError*' });
/** Any exit code: the container ran and exited non-zero. */
export const CONTAINER_EXITED = batch.Reason.NON_ZERO_EXIT_CODE;

/**
 * Maps the seed's per-class budgets onto AWS Batch's retry strategy, which has ONE attempt counter
 * for the whole job (1-10) and up to 5 `evaluateOnExit` rules matching an exit code, the job's
 * status reason or the container's reason by prefix (RETRY or EXIT, first match wins; a failure no
 * rule matches is retried).
 *
 * | Seed class | Where it is applied | Batch rule |
 * |---|---|---|
 * | resourceUnavailable | Batch | `statusReason` `Host EC2*` (Spot reclaim, host terminated) → RETRY |
 * | transientNetwork | Batch, for failures before the container runs | `reason` `CannotPullContainerError:*` and `ResourceInitializationError*` → RETRY |
 * | transientNetwork | in process, for S3 and metadata API calls the step makes | none: the clients retry with exponential backoff (Metaflow's metadata client: `METAFLOW_SERVICE_RETRY_COUNT`, 5 attempts by default); if they give up, the step exits non-zero |
 * | rateLimited | in process | none: the step's AWS SDK clients retry throttling with jittered backoff (their `AWS_RETRY_MODE` and `AWS_MAX_ATTEMPTS`, which this construct does not set); a registry throttling image pulls surfaces as `CannotPullContainerError` and shares the transientNetwork rule |
 * | outOfMemory | Batch only if expressible, else the flow's `@retry` | `reason` `OutOfMemoryError*` → RETRY or EXIT, see below |
 * | userStepDefault, minutesBetweenUserRetries | the flow's `@retry` (Metaflow resubmits the step after the wait) | any exit code → EXIT, so Batch does not retry user code on top of `@retry` |
 * | validation error (0) | nowhere | exits non-zero → EXIT |
 *
 * What Batch cannot express, and the choice made:
 * - Per-class budgets. `attempts` is the largest budget among the classes Batch retries, so an
 *   infrastructure class with a smaller budget (resourceUnavailable 3 when transientNetwork is 5)
 *   may get up to `attempts`. Accepted: these failures happen before or outside the job's code, so
 *   another attempt does not repeat the job's own fault.
 * - OOM within its own budget. An OOM kill repeats on the same memory, so retrying it past its budget
 *   only burns instance hours (the seed's remedy is a larger instance). Batch retries OOM only when
 *   its budget is at least `attempts` (then the shared counter cannot exceed it); otherwise OOM
 *   exits, and the flow's `@retry` decides.
 * - A 137 exit without ECS's OOM reason (a child process killed by the kernel, or SIGKILL after a
 *   SIGTERM grace period) is indistinguishable from a user error and exits.
 * - Backoff. Batch re-queues a retried job at once; the seed's linear 5 min and exponential backoffs
 *   only exist in the in-process clients and in `@retry`'s `minutes_between_retries`.
 * - Timeouts. A job attempt killed by its timeout is never retried by Batch.
 * - Capacity shortage. A job waiting for capacity stays RUNNABLE and uses no attempt.
 * - Failures with no exit code and a reason no rule names (`CannotStartContainerError`,
 *   `DockerTimeoutError`, `Task failed to start`) match nothing and are retried: they are host-side.
 */
export function jobRetryPlan(budgets: JobRetryBudgets): JobRetryPlan {
  const retries = (budget: number) => budget > 1;
  const action = (budget: number) => (retries(budget) ? batch.Action.RETRY : batch.Action.EXIT);
  const infrastructure = Math.max(
    retries(budgets.resourceUnavailable) ? budgets.resourceUnavailable : MIN_JOB_ATTEMPTS,
    retries(budgets.transientNetwork) ? budgets.transientNetwork : MIN_JOB_ATTEMPTS,
  );
  const retriesOutOfMemory = retries(budgets.outOfMemory) && budgets.outOfMemory >= infrastructure;
  const attempts = Math.max(infrastructure, retriesOutOfMemory ? budgets.outOfMemory : MIN_JOB_ATTEMPTS);
  return {
    attempts,
    retriesOutOfMemory,
    strategies: [
      batch.RetryStrategy.of(action(budgets.resourceUnavailable), HOST_TERMINATED),
      batch.RetryStrategy.of(action(budgets.transientNetwork), IMAGE_PULL_FAILED),
      batch.RetryStrategy.of(action(budgets.transientNetwork), TASK_INITIALIZATION_FAILED),
      batch.RetryStrategy.of(retriesOutOfMemory ? batch.Action.RETRY : batch.Action.EXIT, OUT_OF_MEMORY),
      batch.RetryStrategy.of(batch.Action.EXIT, CONTAINER_EXITED),
    ],
  };
}

/**
 * Why the budgets cannot be applied, or undefined when they can: every budget a non-negative
 * integer, and the attempt count Batch would get within 1-10.
 */
export function retryBudgetProblem(budgets: JobRetryBudgets): string | undefined {
  for (const [name, value] of Object.entries(budgets) as [keyof JobRetryBudgets, number][]) {
    if (!Number.isInteger(value) || value < 0) return `retries.${name} must be a non-negative integer, got ${value}`;
  }
  const { attempts } = jobRetryPlan(budgets);
  if (attempts > MAX_JOB_ATTEMPTS) {
    const classes = ['transientNetwork', 'resourceUnavailable', 'outOfMemory'] as const;
    const setBy = classes.find((name) => budgets[name] === attempts);
    return `retries.${setBy} sets AWS Batch's attempts, which must be ${MIN_JOB_ATTEMPTS} to ${MAX_JOB_ATTEMPTS}, got ${attempts}`;
  }
  return undefined;
}
