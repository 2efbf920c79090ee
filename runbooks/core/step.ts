import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { lambdaDeps, type RunbookDeps } from './env';
import { normaliseAwsError } from './errors';

/** What a Task passes every step: the execution's state so far, and which execution it is. */
export interface StepEvent<S = Record<string, unknown>> {
  readonly state: S;
  readonly execution: { readonly id: string; readonly startTime: string };
}

export type Step<S = Record<string, unknown>, R = unknown> = (event: StepEvent<S>, deps: RunbookDeps) => Promise<R>;

/**
 * The Lambda entry point of one step: real dependencies, created once per container, and AWS
 * errors normalised so the state machine's Retry and Catch rules match them by name.
 */
export function lambdaHandler<S, R>(step: Step<S, R>): (event: StepEvent<S>) => Promise<R> {
  let deps: RunbookDeps | undefined;
  return async (event) => {
    deps ??= lambdaDeps();
    try {
      return await step(event, deps);
    } catch (error) {
      throw normaliseAwsError(error);
    }
  };
}

/** Run an AWS call against `region`, turning throttling and unreachable endpoints into the runbook's errors. */
export async function aws<T>(region: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw normaliseAwsError(error, region);
  }
}

/** One runbook parameter of `region` (`/mlp/<tier>/<component>/<key>`), published by its stacks. */
export async function parameter(deps: RunbookDeps, region: string, component: string, key: string): Promise<string> {
  const name = `/mlp/${deps.env.tier}/${component}/${key}`;
  const out = await aws(region, () => deps.clients.ssm(region).send(new GetParameterCommand({ Name: name })));
  return out.Parameter?.Value ?? '';
}

/** The outcome of one attempt at something that may fail, for the report. */
export interface Attempt {
  readonly what: string;
  readonly region: string;
  readonly ok: boolean;
  readonly detail: string;
}

export async function attempt(what: string, region: string, work: () => Promise<string>): Promise<Attempt> {
  try {
    return { what, region, ok: true, detail: await work() };
  } catch (error) {
    const normalised = normaliseAwsError(error, region) as Error;
    return { what, region, ok: false, detail: `${normalised.name}: ${normalised.message}` };
  }
}
