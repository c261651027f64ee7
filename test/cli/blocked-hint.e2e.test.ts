/**
 * Issue 22, item 12, as a user meets it: `fanout run` (the built CLI) on a list whose URLs
 * are all loopback ends with a hint naming --allow 127.0.0.1/32 and --allow-private, and
 * its counts read "1 invalid line".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

let target: TargetServer;
let dir: string;

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fanout-blocked-'));
  target = await startTargetServer({ '/ok': (_req, res) => res.end('ok') });
});

afterAll(async () => {
  await target?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fanout run on loopback URLs without --allow', () => {
  it('says which flag would fetch them; nothing is fetched', async () => {
    const list = join(dir, 'local.txt');
    writeFileSync(list, `${target.url('/ok?a')}\n${target.url('/ok?b')}\nnot a url\n`);
    const run = await runCli(['run', list, '--out', dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('· 1 invalid line\n');
    expect(run.stdout).toMatch(
      /\n {2}hint {6}2 URLs were blocked \(BLOCKED_ADDRESS\): 127\.0\.0\.1 is loopback\. To fetch them, add --allow 127\.0\.0\.1\/32, or --allow-private for every blocked range \(local testing only\)\n$/,
    );
    expect(target.requests).toHaveLength(0);

    const allowed = await runCli(['run', list, '--out', dir, '--allow', '127.0.0.1/32']);
    expect(allowed.stdout).not.toContain('hint');
    expect(target.requests).toHaveLength(2);
  });
});
