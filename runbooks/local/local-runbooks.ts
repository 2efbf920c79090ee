import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { RunbookDeps } from '../core/env';
import type { StepEvent } from '../core/step';
import { STEPS, type StepName } from '../steps';

// aws-local-stepfunctions needs Promise.withResolvers, which Node 20 lacks.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  (Promise as unknown as { withResolvers: () => unknown }).withResolvers = () => {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

type Json = Record<string, unknown>;
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Json;
}
interface CfnTemplateLike {
  readonly Resources: Record<string, CfnResource>;
}

/** A state machine of a synthesized resilience stack, ready to run locally. */
export interface LocalStateMachine {
  readonly name: string;
  readonly definition: Json;
  /** Task state name -> the step its function runs, or the child state machine it starts. */
  readonly tasks: Readonly<Record<string, { readonly step?: StepName; readonly startsExecutionOf?: string }>>;
}

const FAKE_FUNCTION_ARN = (logicalId: string) => `arn:aws:lambda:local:000000000000:function:${logicalId}`;

/** Resolve the `Fn::Join` a synthesized definition is: function ARNs become fake ARNs naming the function's logical id. */
function resolveDefinition(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Json;
  if (Array.isArray(object['Fn::Join'])) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveDefinition).join(separator);
  }
  if (Array.isArray(object['Fn::GetAtt'])) return FAKE_FUNCTION_ARN(String((object['Fn::GetAtt'] as string[])[0]));
  if (object.Ref === 'AWS::Partition') return 'aws';
  if (object.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (typeof object.Ref === 'string') return `local-${object.Ref}`;
  throw new Error(`cannot resolve ${JSON.stringify(value)} in a state machine definition`);
}

function* statesOf(definition: Json): Generator<[string, Json]> {
  for (const [name, state] of Object.entries((definition.States ?? {}) as Record<string, Json>)) {
    yield [name, state];
    for (const branch of (state.Branches ?? []) as Json[]) yield* statesOf(branch);
  }
}

/**
 * The state machines of a synthesized resilience stack, with every Task mapped to what it runs.
 * Fails closed: a definition in JSONata, or a Task whose function runs no known step, is an error.
 */
export function stateMachinesOf(template: CfnTemplateLike): Record<string, LocalStateMachine> {
  const machines: Record<string, LocalStateMachine> = {};
  const stepOfFunction = new Map<string, StepName>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const step = ((resource.Properties?.Environment as Json | undefined)?.Variables as Json | undefined)?.MLP_STEP;
    if (typeof step === 'string' && step in STEPS) stepOfFunction.set(FAKE_FUNCTION_ARN(logicalId), step as StepName);
  }
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const name = String(resource.Properties?.StateMachineName);
    const definition = JSON.parse(resolveDefinition(resource.Properties?.DefinitionString)) as Json;
    if (definition.QueryLanguage === 'JSONata') throw new Error(`${name} uses JSONata, which the local runner does not run`);
    const tasks: Record<string, { step?: StepName; startsExecutionOf?: string }> = {};
    for (const [stateName, state] of statesOf(definition)) {
      if (state.QueryLanguage === 'JSONata') throw new Error(`${name}: state ${stateName} uses JSONata`);
      if (state.Type !== 'Task') continue;
      const resourceArn = String(state.Resource);
      const step = stepOfFunction.get(resourceArn);
      if (step) tasks[stateName] = { step };
      else if (resourceArn.startsWith('arn:') && resourceArn.includes(':states:startExecution')) {
        tasks[stateName] = {
          startsExecutionOf: String((state.Parameters as Json | undefined)?.StateMachineArn)
            .split(':')
            .pop() as string,
        };
      } else throw new Error(`${name}: task ${stateName} runs ${resourceArn}, which has no local handler`);
    }
    machines[name] = { name, definition, tasks };
  }
  return machines;
}

/**
 * Virtual time for executions whose branches run concurrently: a task that must wait (a retry
 * interval, a Wait state) sleeps until a virtual instant, and time only moves on once every other
 * task is asleep or done, to the earliest instant asked for. Parallel branches then advance side by
 * side as they would in AWS, whatever the wall time each step's code takes here.
 */
export class VirtualScheduler {
  private running = 0;
  private readonly sleepers: {
    readonly at: number;
    readonly wake: () => void;
    readonly cancel?: () => void;
    readonly cancelled?: () => boolean;
  }[] = [];
  private pending = false;

  constructor(
    private readonly clock: () => Date,
    private readonly advance: (seconds: number) => void = () => undefined,
  ) {}

  /** A task starts doing work. */
  enter(): void {
    this.running++;
  }

  /** A task stops doing work (done, or about to sleep or wait on something else). */
  leave(): void {
    this.running--;
    this.wakeWhenIdle();
  }

  /** Sleep until the virtual instant `at` (ms); the caller must have left. It is running again on waking. */
  sleepUntil(at: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ at, wake });
      this.sleepers.sort((a, b) => a.at - b.at);
      this.wakeWhenIdle();
    });
  }

  /**
   * Sleep as `sleepUntil` does, unless `cancelled()` is true by the time this sleeper is next: then
   * it resolves `false` at once, without advancing the clock (a background schedule that ends with
   * the work it ran beside). Resolves `true` when it woke at `at`, running again.
   */
  sleepUntilUnless(at: number, cancelled: () => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const sleeper = {
        at,
        wake: () => resolve(true),
        cancel: () => resolve(false),
        cancelled,
      };
      this.sleepers.push(sleeper);
      this.sleepers.sort((a, b) => a.at - b.at);
      this.wakeWhenIdle();
    });
  }

  /** Look again for a sleeper to wake (after a background sleeper was cancelled). */
  poke(): void {
    this.wakeWhenIdle();
  }

  private wakeWhenIdle(): void {
    if (this.pending) return;
    this.pending = true;
    // Idle for a moment, not just this tick: the interpreter takes a few turns between one task and the next.
    setTimeout(() => {
      this.pending = false;
      // Cancelled background sleepers leave without waking (and without moving the clock).
      for (let i = this.sleepers.length - 1; i >= 0; i--) {
        const sleeper = this.sleepers[i];
        if (sleeper?.cancelled?.()) {
          this.sleepers.splice(i, 1);
          sleeper.cancel?.();
        }
      }
      if (this.running > 0 || this.sleepers.length === 0) return;
      const next = this.sleepers.shift() as { at: number; wake: () => void };
      const behind = (next.at - this.clock().getTime()) / 1000;
      if (behind > 0) this.advance(behind);
      this.running++;
      next.wake();
    }, 2);
  }
}

export interface LocalRunOptions {
  /** What each step's function has: its environment, and clients acting as its own role. */
  readonly deps: (step: StepName) => RunbookDeps;
  /** The clock of the run (virtual in tests, the wall clock plus modelled time in the drill). */
  readonly clock: () => Date;
  /** Every state machine of the stack, for tasks that start another one. */
  readonly machines: Readonly<Record<string, LocalStateMachine>>;
  /** Advances virtual time; called with the seconds a Wait state or a retry interval would take in AWS. */
  readonly advance?: (seconds: number) => void;
  /** Shared by executions that run at the same time on one clock. @default one for this execution */
  readonly scheduler?: VirtualScheduler;
  /**
   * Called before each task runs. Returning `'crash'` kills the execution there, as a lost Lambda
   * or an operator's StopExecution would: nothing after it runs, not even the failure path. A
   * returned promise holds the task until it settles (to line up concurrent executions).
   */
  readonly beforeTask?: (stateName: string, step: StepName | undefined) => 'crash' | undefined | Promise<void>;
  /** The execution's ARN, as `$$.Execution.Id`. */
  readonly executionArn?: string;
  /**
   * What execution ARNs start with when not given: `arn:aws:states:<region>:<account>:execution`,
   * so a step that reads its own execution (the report, the lock) names it as AWS would.
   */
  readonly executionArnPrefix?: string;
  /**
   * Wall time before each retry of a task, so real servers under the steps (the drill's) can move
   * on while the state machine waits in virtual time.
   * @default 0
   */
  readonly retryDelayMs?: number;
  /** Called after every task with its virtual start and end (the clock of `deps.now()`) and outcome. */
  readonly onTask?: (record: TaskRecord) => void;
  /** Lambda's answer before a Task's function runs: throws the invocation's error (an Inactive function, for one). */
  readonly beforeInvoke?: (step: StepName) => number | undefined;
  /**
   * Execution histories by execution ARN, as Step Functions keeps them for `GetExecutionHistory`:
   * each Task's entry, every failed attempt, its success and its exit, at virtual times.
   */
  readonly history?: Map<string, HistoryEvent[]>;
}

export interface TaskRecord {
  readonly state: string;
  readonly step?: StepName;
  readonly start: Date;
  readonly end: Date;
  readonly outcome: 'succeeded' | 'failed';
  readonly error?: string;
}

export interface LocalRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

let executions = 0;

/**
 * Run a state machine definition with `aws-local-stepfunctions`: every Task runs its real step
 * in-process with the given dependencies; Wait states and retry intervals take no wall time but
 * advance the virtual clock by what they would take in AWS.
 */
export async function runLocally(machine: LocalStateMachine, input: unknown, options: LocalRunOptions): Promise<LocalRunResult> {
  const executionArn =
    options.executionArn ??
    `${options.executionArnPrefix ?? 'arn:aws:states:local:000000000000:execution'}:${machine.name}:local-${++executions}`;
  const waits: Record<string, number> = {};
  const retryIntervals: Record<string, number> = {};
  const notReadyInterval: Record<string, number> = {};
  const followsWait: Record<string, number> = {};
  for (const [stateName, state] of statesOf(machine.definition)) {
    if (state.Type === 'Wait') {
      waits[stateName] = 0;
      if (typeof state.Next === 'string') followsWait[state.Next] = Number(state.Seconds ?? 0);
    }
    const retries = (state.Retry ?? []) as { ErrorEquals: string[]; IntervalSeconds?: number }[];
    if (retries.length > 0) retryIntervals[stateName] = 0;
    const notReady = retries.find((r) => r.ErrorEquals.includes('NotReady'));
    if (notReady) notReadyInterval[stateName] = notReady.IntervalSeconds ?? 1;
  }
  const attempts = new Map<string, number>();
  const events = options.history ? (options.history.get(executionArn) ?? []) : [];
  options.history?.set(executionArn, events);
  const openStates = new Set<string>();
  let eventId = 0;
  /** The last event of each state: Step Functions links an event to the one before it in its branch (`previousEventId`). */
  const lastEventOf = new Map<string, number>();
  const record = (stateName: string, type: string, details: Partial<HistoryEvent> = {}) => {
    const id = ++eventId;
    events.push({
      id,
      previousEventId: lastEventOf.get(stateName) ?? 0,
      type: type as HistoryEvent['type'],
      timestamp: options.clock(),
      ...details,
    });
    lastEventOf.set(stateName, id);
  };
  /** Virtual ms at which each task last started: a retry waits its interval from there. */
  const lastStart = new Map<string, number>();
  const scheduler = options.scheduler ?? new VirtualScheduler(options.clock, options.advance);
  const sleepUntil = async (ms: number) => {
    scheduler.leave();
    await scheduler.sleepUntil(ms);
  };
  let abort: () => void = () => undefined;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, task] of Object.entries(machine.tasks)) {
    const run = async (taskInput: unknown): Promise<unknown> => {
      const attempt = (attempts.get(stateName) ?? 0) + 1;
      attempts.set(stateName, attempt);
      if (attempt > 1) {
        await sleepUntil((lastStart.get(stateName) ?? options.clock().getTime()) + (notReadyInterval[stateName] ?? 2) * 1000);
        if (options.retryDelayMs) await new Promise((r) => setTimeout(r, options.retryDelayMs));
      } else if (followsWait[stateName]) {
        await sleepUntil(options.clock().getTime() + (followsWait[stateName] as number) * 1000);
      }
      lastStart.set(stateName, options.clock().getTime());
      const verdict = options.beforeTask?.(stateName, task.step);
      if (verdict === 'crash') {
        abort();
        scheduler.leave();
        return new Promise(() => undefined);
      }
      if (verdict) {
        scheduler.leave();
        await verdict;
        scheduler.enter();
      }
      if (!openStates.has(stateName)) {
        openStates.add(stateName);
        record(stateName, 'TaskStateEntered', { stateEnteredEventDetails: { name: stateName } });
      }
      if (task.step) {
        const event = taskInput as StepEvent;
        const start = options.clock();
        try {
          // Seconds before the handler runs (a cold start), slept on the scheduler: parallel branches start theirs together.
          const startup = options.beforeInvoke?.(task.step);
          if (startup) {
            await sleepUntil(options.clock().getTime() + startup * 1000);
          }
          const result = await (STEPS[task.step] as (e: StepEvent, d: RunbookDeps) => Promise<unknown>)(
            { ...event, execution: { ...event.execution, id: executionArn } },
            options.deps(task.step),
          );
          record(stateName, 'LambdaFunctionSucceeded');
          openStates.delete(stateName);
          record(stateName, 'TaskStateExited', { stateExitedEventDetails: { name: stateName } });
          options.onTask?.({ state: stateName, step: task.step, start, end: options.clock(), outcome: 'succeeded' });
          return result;
        } catch (error) {
          record(stateName, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: (error as Error).name } });
          options.onTask?.({
            state: stateName,
            step: task.step,
            start,
            end: options.clock(),
            outcome: 'failed',
            error: (error as Error).name,
          });
          throw error;
        }
      }
      const child = options.machines[task.startsExecutionOf as string];
      if (!child) throw new Error(`no local state machine ${task.startsExecutionOf}`);
      const childInput = (taskInput as Json).Input;
      // The parent waits on the child: its own tasks do the work meanwhile.
      scheduler.leave();
      const result = await runLocally(child, typeof childInput === 'string' ? JSON.parse(childInput) : childInput, {
        ...options,
        scheduler,
        executionArn: undefined,
      }).finally(() => scheduler.enter());
      if (result.status !== 'SUCCEEDED')
        throw Object.assign(new Error(result.cause ?? 'child execution failed'), { name: 'States.TaskFailed' });
      return { ExecutionArn: `${executionArn}:child`, Status: result.status, Output: JSON.stringify(result.output) };
    };
    handlers[stateName] = async (taskInput: unknown) => {
      scheduler.enter();
      try {
        return await run(taskInput);
      } finally {
        scheduler.leave();
      }
    };
  }
  const stateMachine = new StateMachine(machine.definition as never, { validationOptions: { checkPaths: true } });
  const execution = stateMachine.run(
    input as never,
    {
      overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retryIntervals },
      context: {
        Execution: { Id: executionArn, StartTime: new Date(options.clock()).toISOString(), Name: executionArn.split(':').pop() },
      },
    } as never,
  );
  abort = () => execution.abort();
  record(EXECUTION, 'ExecutionStarted');
  const result = await settle(execution.result);
  record(EXECUTION, TERMINAL_EVENT[result.status]);
  return result;
}

/** The name under which the execution's own events are chained in its history. */
const EXECUTION = '$execution';
const TERMINAL_EVENT = { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', ABORTED: 'ExecutionAborted' } as const;

async function settle(result: Promise<unknown>): Promise<LocalRunResult> {
  try {
    return { status: 'SUCCEEDED', output: await result };
  } catch (error) {
    if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
    if (error instanceof ExecutionError) {
      const cause = (error as { cause?: { name?: string; message?: string } }).cause;
      return { status: 'FAILED', error: cause?.name ?? error.name, cause: cause?.message ?? error.message };
    }
    throw error;
  }
}
