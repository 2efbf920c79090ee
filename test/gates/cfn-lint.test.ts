import { availableParallelism } from 'node:os';
import { expect, inject, test } from 'vitest';
import { LayoutAssembly } from '../support/assembly';
import { type CfnLintMatch, cfnLintSettings, describeMatch, runCfnLintGate, waitForCfnLintRun } from '../support/cfn-lint';

const SETTINGS = cfnLintSettings();

/**
 * Resource types that CloudFormation documents but the installed cfn-lint's resource specifications
 * predate (its E3006 "does not exist in <region>"). Each names where CloudFormation documents it; an
 * entry that no longer fires must be removed, so the list cannot outlive its reason.
 */
const TYPES_NEWER_THAN_CFN_LINT: Readonly<Record<string, string>> = {
  'AWS::RDS::DBClusterEndpoint':
    'CloudFormation Template Reference, AWS::RDS::DBClusterEndpoint (Aurora custom endpoints); its L1 arrived in aws-cdk-lib 2.274.0, after the specs of cfn-lint 1.51',
};
const newerThanCfnLint = (match: CfnLintMatch) =>
  match.Rule.Id === 'E3006' && Object.keys(TYPES_NEWER_THAN_CFN_LINT).find((type) => match.Message.startsWith(`Resource type '${type}'`));

/*
 * The global setup starts cfn-lint as soon as the layouts are synthesized, beside the other test files
 * (test/support/global-setup.ts), and this file runs last (vitest.config.ts): it reads what cfn-lint
 * found instead of holding a test worker while cfn-lint runs. Without that run (a filtered run the
 * setup did not see coming), it lints here.
 */
test('cfn-lint finds no error in any template of the test layouts', {
  timeout: (SETTINGS.allLayouts ? 60 : 15) * 60_000,
}, async (context) => {
  const started = inject('cfnLintRun');
  const run = started
    ? await waitForCfnLintRun(started, context.signal)
    : await runCfnLintGate(SETTINGS, (id) => LayoutAssembly.of(id).directory, availableParallelism(), context.signal);
  if (run.kind === 'missing') {
    const reason = `${run.reason}; install it (pip install 'cfn-lint==1.51.0') to run this gate`;
    if (SETTINGS.required) throw new Error(`MLP_REQUIRE_CFN_LINT=1: ${reason}`);
    console.warn(`cfn-lint gate skipped: ${reason}`);
    context.skip(reason);
  }
  if (run.kind !== 'linted') throw new Error(`cfn-lint could not run:\n${run.kind === 'failed' ? run.error : ''}`);

  const { targets, matches } = run;
  const byFile = new Map(targets.map((t) => [t.file, t]));
  const errors = matches.filter((m) => m.Level === 'Error' && !newerThanCfnLint(m)).map((m) => describeMatch(m, byFile));
  const newerTypesSeen = new Set(matches.map(newerThanCfnLint).filter(Boolean));
  expect(
    Object.keys(TYPES_NEWER_THAN_CFN_LINT).filter((type) => !newerTypesSeen.has(type)),
    'types cfn-lint now knows (or no layout uses): remove them from TYPES_NEWER_THAN_CFN_LINT',
  ).toEqual([]);
  console.info(
    `cfn-lint ${run.version}: ${targets.length} templates (by ${SETTINGS.by}) standing for ${targets.reduce((n, t) => n + t.stacks.length, 0)} stacks of ${SETTINGS.layoutIds.length} layouts` +
      `: ${targets.length - run.recorded} linted in ${run.seconds.toFixed(0)} s${started ? ' (started by the global setup)' : ''}, ` +
      `${run.recorded} as test/gates/cfn-lint-record.json holds them (npm run record:cfn-lint); ${errors.length} errors (warning and informational rules not run)`,
  );
  expect(errors.length, `cfn-lint found ${errors.length} errors:\n${errors.join('\n')}\n`).toBe(0);
});
