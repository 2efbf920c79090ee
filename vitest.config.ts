import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each layout is synthesized once, with every quality gate, before any test file runs.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One module graph per worker instead of per test file: loading aws-cdk-lib again for every
    // file was most of the suite's time. Tests keep no mutable state at module level.
    isolate: false,
  },
});
