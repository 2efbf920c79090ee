import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest's order (failed first, then the longest), with the cfn-lint gate's file last: the global setup
 * starts cfn-lint beside the test files, and the gate's test only reads what it found, so by the time
 * it runs there is nothing left to wait for and no worker is held waiting.
 */
class CfnLintGateLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const gate = (file: TestSpecification) => file.moduleId.endsWith('/test/gates/cfn-lint.test.ts');
    return [...sorted.filter((file) => !gate(file)), ...sorted.filter(gate)];
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each layout is synthesized once, with every quality gate, before any test file runs; cfn-lint then
    // runs beside the test files.
    globalSetup: ['test/support/global-setup.ts'],
    sequence: { sequencer: CfnLintGateLast },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One worker more than the cores: the drill's files mostly wait on real servers and timers,
    // and the other files fill the time they leave. On 2 cores: 157 s with 3 workers, 175 s with 2,
    // 180 s with 4, 258 s with vitest's default of 1 (before the drill files and the cfn-lint gate grew).
    maxWorkers: availableParallelism() + 1,
    // One module graph per worker instead of per test file: loading aws-cdk-lib again for every
    // file was most of the suite's time. Tests keep no mutable state at module level.
    isolate: false,
    // The SDK warns that its releases after January 2027 need Node 22; the versions here are pinned,
    // and the warning (once per worker) buries the test output. The drill and the model say the same.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
