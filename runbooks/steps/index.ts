import type { Step } from '../core/step';
import { checkCacheAvailable, checkDatabaseAvailable, rebootWithFailover, testCacheFailover } from './az-failover';
import { checkReprotection } from './failback';
import { heartbeatWriter } from './heartbeat';
import {
  acquireLock,
  checkCachePromoted,
  checkCaughtUp,
  checkKafka,
  checkPostgresPromoted,
  enableBatchQueues,
  fenceSource,
  gateKeeperInvocation,
  openGate,
  preflight,
  promoteCache,
  promotePostgres,
  refreshGate,
  releaseRunbookLock,
  scaleTarget,
  verifyKeyspace,
  verifyWrites,
  waitOutWriteLease,
} from './region-failover';
import { report } from './report';
import { watchdogInvocation, watchPrimary } from './watchdog';
import { serveWriteGate } from './write-gate';

/**
 * Every step, by the name its Task state and its function carry. One job each; every one reads the
 * current state first and returns without acting when its work is already done.
 */
export const STEPS = {
  Preflight: preflight,
  AcquireLock: acquireLock,
  FenceSource: fenceSource,
  CheckCaughtUp: checkCaughtUp,
  WaitOutWriteLease: waitOutWriteLease,
  PromotePostgres: promotePostgres,
  CheckPostgresPromoted: checkPostgresPromoted,
  PromoteCache: promoteCache,
  CheckCachePromoted: checkCachePromoted,
  CheckKafka: checkKafka,
  EnableBatchQueues: enableBatchQueues,
  VerifyKeyspace: verifyKeyspace,
  OpenGate: openGate,
  VerifyWrites: verifyWrites,
  ScaleTarget: scaleTarget,
  ReleaseLock: releaseRunbookLock,
  Report: report,
  CheckReprotection: checkReprotection,
  RebootWithFailover: rebootWithFailover,
  CheckDatabaseAvailable: checkDatabaseAvailable,
  TestCacheFailover: testCacheFailover,
  CheckCacheAvailable: checkCacheAvailable,
  RefreshGate: refreshGate,
  WriteHeartbeats: heartbeatWriter(),
  ServeWriteGate: serveWriteGate,
  WatchPrimary: watchPrimary,
} as const satisfies Record<string, Step<never, unknown>>;

export type StepName = keyof typeof STEPS;

/**
 * What a scheduled function runs per invocation where that is more than one call of its step:
 * EventBridge Scheduler invokes RefreshGate once a minute, and the invocation renews the write lease
 * three times, 20 s apart (`WRITE_LEASE`).
 */
export const SCHEDULED_INVOCATIONS: Partial<Record<StepName, Step<never, unknown>>> = {
  RefreshGate: gateKeeperInvocation(),
  WatchPrimary: watchdogInvocation(),
};
