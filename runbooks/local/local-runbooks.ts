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

export interface LocalRunOptions {
  readonly deps: RunbookDeps;
  /** Every state machine of the stack, for tasks that start another one. */
  readonly machines: Readonly<Record<string, LocalStateMachine>>;
  /** Advances virtual time; called with the seconds a Wait state or a retry interval would take in AWS. */
  readonly advance?: (seconds: number) => void;
  /**
   * Called before each task runs. Returning `'crash'` kills the execution there, as a lost Lambda
   * or an operator's StopExecution would: nothing after it runs, not even the failure path. A
   * returned promise holds the task until it settles (to line up concurrent executions).
   */
  readonly beforeTask?: (stateName: string, step: StepName | undefined) => 'crash' | undefined | Promise<void>;
  /** The execution's ARN, as `$$.Execution.Id`. */
  readonly executionArn?: string;
  /**
   * Wall time before each retry of a task, so real servers under the steps (the drill's) can move
   * on while the state machine waits in virtual time.
   * @default 0
   */
  readonly retryDelayMs?: number;
  /** Called after every task with its virtual start and end (the clock of `deps.now()`) and outcome. */
  readonly onTask?: (record: TaskRecord) => void;
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
  const executionArn = options.executionArn ?? `arn:aws:states:local:000000000000:execution:${machine.name}:local-${++executions}`;
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
  const record = (type: string, details: Partial<HistoryEvent> = {}) =>
    events.push({ id: ++eventId, type: type as HistoryEvent['type'], timestamp: options.deps.now(), ...details });
  /** Virtual ms at which each task last started: parallel branches wait side by side, not one after the other. */
  const lastStart = new Map<string, number>();
  const advanceTo = (ms: number) => {
    const behind = (ms - options.deps.now().getTime()) / 1000;
    if (behind > 0) options.advance?.(behind);
  };
  let abort: () => void = () => undefined;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, task] of Object.entries(machine.tasks)) {
    handlers[stateName] = async (taskInput: unknown) => {
      const attempt = (attempts.get(stateName) ?? 0) + 1;
      attempts.set(stateName, attempt);
      if (attempt > 1) {
        advanceTo((lastStart.get(stateName) ?? options.deps.now().getTime()) + (notReadyInterval[stateName] ?? 2) * 1000);
        if (options.retryDelayMs) await new Promise((r) => setTimeout(r, options.retryDelayMs));
      } else if (followsWait[stateName]) options.advance?.(followsWait[stateName] as number);
      lastStart.set(stateName, options.deps.now().getTime());
      const verdict = options.beforeTask?.(stateName, task.step);
      if (verdict === 'crash') {
        abort();
        return new Promise(() => undefined);
      }
      if (verdict) await verdict;
      if (!openStates.has(stateName)) {
        openStates.add(stateName);
        record('TaskStateEntered', { stateEnteredEventDetails: { name: stateName } });
      }
      if (task.step) {
        const event = taskInput as StepEvent;
        const start = options.deps.now();
        try {
          const result = await (STEPS[task.step] as (e: StepEvent, d: RunbookDeps) => Promise<unknown>)(
            { ...event, execution: { ...event.execution, id: executionArn } },
            options.deps,
          );
          record('LambdaFunctionSucceeded');
          openStates.delete(stateName);
          record('TaskStateExited', { stateExitedEventDetails: { name: stateName } });
          options.onTask?.({ state: stateName, step: task.step, start, end: options.deps.now(), outcome: 'succeeded' });
          return result;
        } catch (error) {
          record('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: (error as Error).name } });
          options.onTask?.({
            state: stateName,
            step: task.step,
            start,
            end: options.deps.now(),
            outcome: 'failed',
            error: (error as Error).name,
          });
          throw error;
        }
      }
      const child = options.machines[task.startsExecutionOf as string];
      if (!child) throw new Error(`no local state machine ${task.startsExecutionOf}`);
      const childInput = (taskInput as Json).Input;
      const result = await runLocally(child, typeof childInput === 'string' ? JSON.parse(childInput) : childInput, {
        ...options,
        executionArn: undefined,
      });
      if (result.status !== 'SUCCEEDED')
        throw Object.assign(new Error(result.cause ?? 'child execution failed'), { name: 'States.TaskFailed' });
      return { ExecutionArn: `${executionArn}:child`, Status: result.status, Output: JSON.stringify(result.output) };
    };
  }
  const stateMachine = new StateMachine(machine.definition as never, { validationOptions: { checkPaths: true } });
  const execution = stateMachine.run(
    input as never,
    {
      overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retryIntervals },
      context: {
        Execution: { Id: executionArn, StartTime: new Date(options.deps.now()).toISOString(), Name: executionArn.split(':').pop() },
      },
    } as never,
  );
  abort = () => execution.abort();
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', output };
  } catch (error) {
    if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
    if (error instanceof ExecutionError) {
      const cause = (error as { cause?: { name?: string; message?: string } }).cause;
      return { status: 'FAILED', error: cause?.name ?? error.name, cause: cause?.message ?? error.message };
    }
    throw error;
  }
}
