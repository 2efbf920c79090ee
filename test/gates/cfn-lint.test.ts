import { availableParallelism } from 'node:os';
import { expect, test } from 'vitest';
import { allTestLayouts } from '../support/all-layouts';
import { type CfnLintMatch, cfnLintVersion, describeMatch, lintBatches, lintTargets, runCfnLint } from '../support/cfn-lint';
import { LAYOUTS } from '../support/layouts';

// CI sets this (.ci/run): there a missing cfn-lint fails the gate instead of skipping it.
const REQUIRED = process.env.MLP_REQUIRE_CFN_LINT === '1';

/*
 * The gated layouts by default: every tier preset, both Kafka replication modes, five regions and
 * the three shapes a failover leaves. The change-safety matrix adds 44 layouts of the same
 * constructs in the same shapes, in other regions and failover states: 3 times the distinct
 * templates and the time (about 540 s of CPU against 190 s), too much for every run;
 * MLP_CFN_LINT_ALL_LAYOUTS=1 lints them too.
 */
const ALL_LAYOUTS = process.env.MLP_CFN_LINT_ALL_LAYOUTS === '1';
/*
 * Templates of one region and tier that differ only in values stand for each other (`lintKey`): about
 * a third fewer to lint. MLP_CFN_LINT_EVERY_TEMPLATE=1 lints every distinct template instead.
 */
const BY = process.env.MLP_CFN_LINT_EVERY_TEMPLATE === '1' ? 'content' : 'shape';
const LAYOUT_IDS = (ALL_LAYOUTS ? allTestLayouts() : LAYOUTS).map((layout) => layout.id);

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

test('cfn-lint finds no error in any template of the test layouts', { timeout: (ALL_LAYOUTS ? 60 : 15) * 60_000 }, async (context) => {
  const installed = cfnLintVersion();
  if ('missing' in installed) {
    const reason = `${installed.missing}; install it (pip install 'cfn-lint==1.51.0') to run this gate`;
    if (REQUIRED) throw new Error(`MLP_REQUIRE_CFN_LINT=1: ${reason}`);
    console.warn(`cfn-lint gate skipped: ${reason}`);
    context.skip(reason);
  }

  const targets = lintTargets(LAYOUT_IDS, BY);
  const lanes = availableParallelism();
  const started = performance.now();
  const matches = await runCfnLint(lintBatches(targets, lanes), lanes, context.signal);
  const seconds = (performance.now() - started) / 1000;

  const byFile = new Map(targets.map((t) => [t.file, t]));
  const errors = matches.filter((m) => m.Level === 'Error' && !newerThanCfnLint(m)).map((m) => describeMatch(m, byFile));
  const newerTypesSeen = new Set(matches.map(newerThanCfnLint).filter(Boolean));
  expect(
    Object.keys(TYPES_NEWER_THAN_CFN_LINT).filter((type) => !newerTypesSeen.has(type)),
    'types cfn-lint now knows (or no layout uses): remove them from TYPES_NEWER_THAN_CFN_LINT',
  ).toEqual([]);
  console.info(
    `cfn-lint ${'version' in installed ? installed.version : ''}: ${targets.length} templates (by ${BY}) standing for ${targets.reduce((n, t) => n + t.stacks.length, 0)} stacks of ${LAYOUT_IDS.length} layouts ` +
      `in ${seconds.toFixed(0)} s; ${errors.length} errors (warning and informational rules not run)`,
  );
  expect(errors.length, `cfn-lint found ${errors.length} errors:\n${errors.join('\n')}\n`).toBe(0);
});
