import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The handlers' JSON log lines would drown the report; tests that read them set a sink.
    env: { FANOUT_LOG_LEVEL: 'off' },
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
