/**
 * Issue 22, item 5, as a user sees it: `fanout run` (the built CLI) on a terminal, via
 * util-linux `script`, shows the URLs of a chunk as they finish, and no 0/0+ or NF.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, ensureCliBuilt } from '../helpers/cli-harness.js';
import {
  type HeldTarget,
  signal,
  startHeldTarget,
  terminalFrames,
  within,
} from '../helpers/progress-fixture.js';

let held: HeldTarget;
let dir: string;

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fanout-progress-'));
  held = await startHeldTarget();
});

afterAll(async () => {
  await held?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fanout run on a terminal', () => {
  it('moves the count URL by URL inside one chunk, and never shows 0/0+ or NF', async () => {
    const list = join(dir, 'urls.txt');
    writeFileSync(list, `${held.urls(12, 3).join('\n')}\n`);
    const command = [process.execPath, CLI_PATH, 'run', list, '--allow', '127.0.0.1/32', '--out', dir];
    // script gives the CLI a terminal on stdin, stdout and stderr, and copies it to our pipe.
    const child = spawn('script', ['-qfec', command.map((a) => `'${a}'`).join(' '), '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COLUMNS: '120' },
    });
    let screen = '';
    const quickShown = signal();
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString('utf8');
      if (terminalFrames(screen).some((frame) => frame.includes('12/15 URLs'))) quickShown.resolve();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Counted per chunk, the line would stay at 0/15 while the held URLs wait.
    await within(quickShown.promise, 15_000);
    const whileHeld = terminalFrames(screen);
    held.release();
    expect(await exited).toBe(0);

    expect(whileHeld.at(-1)).toMatch(/^[█░]+ 12\/15 URLs \| \d+\/s \| 0 errors \| ETA /);
    const frames = terminalFrames(screen);
    expect(frames[0]).toMatch(/ 0\/(\?|\d+\+?) URLs /);
    expect(frames.join('\n')).not.toMatch(/0\/0\+|\bNF\b|NaN|Infinity/);
    expect(screen).toContain('succeeded');
  }, 60_000);
});
