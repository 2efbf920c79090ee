import { directDatabasePlane, iamClientConfig, runAgentOperation } from './core/database';
import { envFromProcess } from './core/env';
import { ERROR, RunbookError } from './core/errors';
import { lambdaHandler, type StepEvent } from './core/step';
import { KEEP_ACTIVE_EVENT } from './definitions/catalogue';
import { SCHEDULED_INVOCATIONS, STEPS, type StepName } from './steps';

/**
 * The one bundle every runbook function deploys; `MLP_STEP` says which step a function is (its IAM
 * role allows that step's calls only). `DatabaseAgent` is the function other regions invoke to act
 * on this region's databases.
 */
const name = process.env.MLP_STEP as StepName | 'DatabaseAgent' | undefined;

function stepHandler(): (event: never) => Promise<unknown> {
  if (name === 'DatabaseAgent') {
    const env = envFromProcess();
    const local = directDatabasePlane(iamClientConfig(env.databaseUser, env.databaseName));
    return (event: never) => runAgentOperation(local, env.region, event);
  }
  const step = name ? (SCHEDULED_INVOCATIONS[name] ?? STEPS[name]) : undefined;
  if (!step) throw new RunbookError(ERROR.invalidInput, `MLP_STEP must name a runbook step, got ${JSON.stringify(name)}`);
  return lambdaHandler(step as never) as (event: never) => Promise<unknown>;
}

let resolved: ((event: never) => Promise<unknown>) | undefined;

export const handler = async (event: StepEvent | Record<string, unknown>): Promise<unknown> => {
  // The daily invocation that keeps a VPC function Active: nothing to do, nothing touched.
  if ((event as Record<string, unknown>).mlpKeepActive === KEEP_ACTIVE_EVENT.mlpKeepActive) return { keptActive: name };
  resolved ??= stepHandler();
  return resolved(event as never);
};
