/**
 * The unit project's rule (vitest.config.ts): a unit test file that starts moto or
 * Chromium, or runs the built CLI, fails at once, naming the file-name convention that
 * puts it in the integration project.
 */
import { describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from '../helpers/cli-harness.js';
import { launchChromium } from '../support/chromium.js';
import { startLocalStack } from '../support/localstack-server.js';
import { startMoto } from '../support/moto-server.js';

const RULE = /runs only in the integration project: name this test file .*\*\.e2e\.test\.ts/;

describe('the unit project', () => {
  it('refuses to start moto', async () => {
    await expect(startMoto()).rejects.toThrow(RULE);
  });

  it('refuses to start LocalStack', async () => {
    await expect(startLocalStack()).rejects.toThrow(RULE);
  });

  it('refuses to start Chromium', async () => {
    await expect(launchChromium()).rejects.toThrow(RULE);
  });

  it('refuses to build or run the CLI', () => {
    expect(() => ensureCliBuilt()).toThrow(RULE);
    expect(() => runCli(['--version'])).toThrow(RULE);
  });
});
