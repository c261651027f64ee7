import { defineConfig } from 'vitest/config';
import { HANDLER_ENV } from './lambda/core/contract.js';

/**
 * Which project a test file runs in is decided by its name, so new files land in the
 * right one by convention (README "Development"). `integration`:
 * - `*.moto.test.ts`: needs moto's server (Python, .venv);
 * - `*.chromium.test.ts`: needs headless Chromium;
 * - `*.e2e.test.ts`: runs a command as a user would: the built CLI (dist/cli.js),
 *   another node process, `cdk synth` or cfn-lint, the demo, the build;
 * - everything under `test/infra/`: synthesizes CDK stacks, seconds of CPU per stack
 *   (about 40% of the CPU the unit project would take with them);
 * - `*.scale.test.ts`: in-process, but runs a job at scale (10^5 chunks: tens of seconds).
 * Everything else is `unit`: in-process, with at most HTTP servers on 127.0.0.1; it runs
 * without Python, a browser or a build (`npm run test:unit`). Starting moto or Chromium,
 * or running the built CLI, from a unit file fails with this rule (test/support/test-project.ts).
 * The integration project installs what it needs first (test/support/integration-setup.ts).
 */
const INTEGRATION_FILES = [
  'test/**/*.moto.test.ts',
  'test/**/*.chromium.test.ts',
  'test/**/*.e2e.test.ts',
  'test/infra/**/*.test.ts',
  'test/**/*.scale.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The handlers' JSON log lines would drown the report; tests that read them set a sink.
    env: { [HANDLER_ENV.logLevel]: 'off' },
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: INTEGRATION_FILES,
          provide: { testProject: 'unit', integrationFiles: INTEGRATION_FILES },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION_FILES,
          globalSetup: ['./test/support/integration-setup.ts'],
          provide: { testProject: 'integration', integrationFiles: INTEGRATION_FILES },
        },
      },
    ],
  },
});
