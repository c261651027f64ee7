/**
 * `npm run demo` (examples/demo.mjs) as a newcomer runs it: again and again in the same
 * folder, and interrupted. Each run replaces the demo's previous job, and its temporary
 * list folder is gone however the run ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, jobPaths, ROOT } from '../helpers/cli-harness.js';

const DEMO = join(ROOT, 'examples/demo.mjs');

interface DemoRun {
  code: number | null;
  stderr: string;
}

let work: string;
/** The demo's TMPDIR: whatever it leaves there is left for good. */
let temp: string;

beforeAll(() => {
  ensureCliBuilt();
  work = mkdtempSync(join(tmpdir(), 'fanout-demo-test-'));
  temp = join(work, 'tmp');
  mkdirSync(temp);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs the demo in `cwd`, in a process group of its own (as a terminal runs it); `onStderr` sees its output. */
function runDemo(
  cwd: string,
  args: string[] = [],
  onStderr?: (text: string, child: ChildProcess) => void,
): Promise<DemoRun> {
  const child = spawn(process.execPath, [DEMO, '-q', ...args], {
    cwd,
    env: { ...process.env, TMPDIR: temp, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    onStderr?.(stderr, child);
  });
  child.stdout.resume();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** What the demo left in its TMPDIR (Node's compile cache aside). */
const leftInTemp = () => readdirSync(temp).filter((name) => name.startsWith('fanout-demo-'));

describe('npm run demo', () => {
  it('runs again in the same folder, replacing its previous job, and leaves no temporary folder', async () => {
    const cwd = join(work, 'again');
    mkdirSync(cwd);
    const first = await runDemo(cwd);
    expect(first.stderr).not.toContain('replacing');
    expect(first.code).toBe(0);
    expect(leftInTemp()).toEqual([]);
    const job = jobPaths(join(cwd, 'fanout-out'), 'demo');
    const firstRequest = readFileSync(job.request, 'utf8');

    const second = await runDemo(cwd);
    expect(second.stderr).toContain('replacing the previous demo job in fanout-out/jobs/demo/');
    expect(second.stderr).not.toContain('JOB_EXISTS');
    expect(second.code).toBe(0);
    expect(existsSync(job.success)).toBe(true);
    // A new job from the new list, not the first one kept.
    expect(readFileSync(job.request, 'utf8')).not.toBe(firstRequest);
    expect(leftInTemp()).toEqual([]);
    // Two whole demo runs: about 9 s alone, past 30 s beside the rest of the integration project.
  }, 120_000);

  it('removes its temporary folder when the run fails', async () => {
    const cwd = join(work, 'failing');
    mkdirSync(cwd);
    const run = await runDemo(cwd, ['--concurrency', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--concurrency');
    expect(leftInTemp()).toEqual([]);
  });

  it('removes its temporary folder on Ctrl-C, and exits 130', async () => {
    const cwd = join(work, 'interrupted');
    mkdirSync(cwd);
    let sent = false;
    const run = await runDemo(cwd, [], (text, child) => {
      // Ctrl-C goes to the whole foreground process group: the demo and the CLI it started.
      if (!sent && text.includes('$ fanout ') && child.pid !== undefined) {
        sent = true;
        process.kill(-child.pid, 'SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(130);
    expect(leftInTemp()).toEqual([]);
  });

  it('leaves alone a job under its id that it did not write, and says so', async () => {
    const cwd = join(work, 'foreign');
    const job = jobPaths(join(cwd, 'fanout-out'), 'demo');
    mkdirSync(job.dir, { recursive: true });
    const request = JSON.stringify({ jobId: 'demo', source: '/home/someone/urls.txt' });
    writeFileSync(job.request, request);
    const run = await runDemo(cwd);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('fanout-out/jobs/demo/ holds a job the demo did not write');
    expect(readFileSync(job.request, 'utf8')).toBe(request);
    expect(leftInTemp()).toEqual([]);
  });
});
