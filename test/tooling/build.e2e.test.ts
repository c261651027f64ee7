/**
 * scripts/build.mjs leaves dist/cli.js executable, so `npx fanout` (which executes the
 * file itself) keeps working after any rebuild. The build goes to a folder of its own:
 * other test files run dist/cli.js meanwhile.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TEST_CACHE } from '../helpers/cli-harness.js';
import { requireIntegrationProject } from '../support/test-project.js';

const run = promisify(execFile);
let outdir: string;

beforeAll(async () => {
  requireIntegrationProject('The build');
  mkdirSync(TEST_CACHE, { recursive: true });
  outdir = mkdtempSync(join(TEST_CACHE, 'build-'));
  await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outdir', outdir], { cwd: ROOT });
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('scripts/build.mjs', () => {
  it('writes cli.js executable by everyone who can read it', () => {
    expect(statSync(join(outdir, 'cli.js')).mode & 0o777).toBe(0o755);
  });

  it('leaves a cli.js that runs as a command, as npx runs it', async () => {
    // `npx fanout` runs the file; its #!/usr/bin/env node finds the project's Node first on PATH.
    const PATH = [dirname(process.execPath), process.env.PATH].join(delimiter);
    const { stdout } = await run(join(outdir, 'cli.js'), ['--version'], { env: { ...process.env, PATH } });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
