/**
 * Issue 22, item 8: an --out that cannot be written is one line on stderr and exit 4, at
 * once, before the input is read or anything fetched (the built CLI).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, type CliRun, ensureCliBuilt, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

let target: TargetServer;
let dir: string;
let list: string;

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fanout-out-dir-'));
  chmodSync(dir, 0o755);
  target = await startTargetServer({ '/ok': (_req, res) => res.end('ok') });
  list = join(dir, 'urls.txt');
  writeFileSync(list, `${target.url('/ok')}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'a-file'), 'not a folder');
  symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
  mkdirSync(join(dir, 'read-only'), { mode: 0o555 });
  chmodSync(join(dir, 'read-only'), 0o555);
  mkdirSync(join(dir, 'unsearchable', 'inner'), { recursive: true });
  chmodSync(join(dir, 'unsearchable'), 0o000);
});

afterAll(async () => {
  await target?.close();
  if (dir) chmodSync(join(dir, 'unsearchable'), 0o755);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Bounded well below the test's own timeout: `--out /proc/nope` used to spin for minutes. */
const run = (out: string, input = list) =>
  runCli(['run', input, '--out', out, '--allow', '127.0.0.1/32'], { timeoutMs: 20_000 });

function expectOneLine(result: CliRun, pattern: RegExp): void {
  expect(result.timedOut).toBe(false);
  expect(result.code).toBe(4);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('fanout run --out that cannot be written', () => {
  it('under a file (ENOTDIR): names --out and the file; nothing fetched', async () => {
    const out = join(dir, 'a-file', 'out');
    expectOneLine(
      await run(out),
      new RegExp(`^fanout: cannot write the job to --out ${out}: ${dir}/a-file is a file, not a folder\\n$`),
    );
    expect(target.requests).toHaveLength(0);
  });

  it('/proc/nope: at once, instead of spinning in mkdir', async () => {
    expectOneLine(
      await run('/proc/nope'),
      /^fanout: cannot write the job to --out \/proc\/nope: \/proc does not accept new folders \(ENOENT\)\n$/,
    );
  });

  it('a dangling symbolic link', async () => {
    const out = join(dir, 'dangling');
    expectOneLine(await run(out), new RegExp(`--out ${out}: ${out} is a symbolic link to nothing\\n$`));
  });

  it('is checked before the input is read: a missing input with a bad --out is exit 4, not 3', async () => {
    expectOneLine(await run('/proc/nope', join(dir, 'no-such-list.txt')), /--out \/proc\/nope: /);
  });

  it.each([
    ['without write permission', 'read-only/out', 'read-only'],
    ['below a folder that cannot be searched', 'unsearchable/inner/out', 'unsearchable'],
  ])('a folder %s (EACCES)', async (_name, outPath, named) => {
    const out = join(dir, outPath);
    // root writes anywhere: run the CLI as nobody then.
    const asRoot = process.getuid?.() === 0;
    const child = spawn(process.execPath, [CLI_PATH, 'run', list, '--out', out, '--allow', '127.0.0.1/32'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot && { uid: 65534, gid: 65534 }),
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe(
      `fanout: cannot write the job to --out ${out}: permission denied in ${dir}/${named} (EACCES)\n`,
    );
    expect(code).toBe(4);
    expect(target.requests).toHaveLength(0);
  });
});
