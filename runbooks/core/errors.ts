/**
 * Errors a runbook step raises. Each has a fixed `name`: Step Functions matches `Retry` and `Catch`
 * on it (Lambda reports it as the error type), so failures are task errors, never flags in a Choice.
 */
export class RunbookError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Names the state machines retry or catch on. */
export const ERROR = {
  /** An AWS API throttled the call; retried with backoff. */
  throttled: 'AwsThrottled',
  /** A region's endpoints did not answer (region loss or partition). */
  unreachable: 'RegionUnreachable',
  /** The work a step waits on is not done yet; its check is retried at an interval. */
  notReady: 'NotReady',
  /** Another execution holds the runbook lock. */
  lockHeld: 'LockHeld',
  /** A newer execution took the lock: this one must not change anything any more. */
  staleEpoch: 'StaleEpoch',
  /** Preflight found the target unfit, or replication lag beyond the RPO without an override. */
  preflightFailed: 'PreflightFailed',
  /** A verification after the promotion failed. */
  verificationFailed: 'VerificationFailed',
  /** Bad runbook input; nothing was changed. */
  invalidInput: 'InvalidInput',
} as const;

export type RunbookErrorName = (typeof ERROR)[keyof typeof ERROR];

export const fail = (name: RunbookErrorName, message: string): never => {
  throw new RunbookError(name, message);
};

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'TimeoutError', 'NetworkingError']);

/**
 * The same error as one of the runbook's names when it is throttling or an unreachable endpoint,
 * so one `Retry` rule covers every service; anything else unchanged.
 */
export function normaliseAwsError(error: unknown, region?: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: string }).code;
  const throttling = (error as { $retryable?: { throttling?: boolean } }).$retryable?.throttling;
  if (THROTTLING.has(error.name) || throttling) return new RunbookError(ERROR.throttled, `${error.name}: ${error.message}`);
  if (UNREACHABLE.has(error.name) || (code !== undefined && UNREACHABLE.has(code))) {
    return new RunbookError(ERROR.unreachable, `${region ?? 'a region'} did not answer: ${error.message}`);
  }
  return error;
}
