/**
 * Issue 22, item 10: README's chain `submit && status --watch && results` reaches
 * `results` when some URLs failed, run as the README writes it (the built CLI for
 * `npx fanout`, the stack and endpoint from the environment); `--exit-status` gives the
 * outcome codes of `fanout run`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { CLI_PATH, parseJsonl, ROOT } from '../../helpers/cli-harness.js';
import { type RemoteFixture, STACKS, startRemoteFixture } from './remote-fixture.js';

let f: RemoteFixture;
let dir: string;

beforeAll(async () => {
  f = await startRemoteFixture('chain');
  dir = mkdtempSync(join(tmpdir(), 'fanout-chain-'));
}, 120_000);

afterAll(async () => {
  await f?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The chain as README.md prints it, with `npx fanout` run from this checkout's build. */
function readmeChain(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const chain = readme.split('\n').find((line) => line.startsWith('id=$(npx fanout submit '));
  expect(chain, 'README.md shows the submit && status --watch && results chain').toBeDefined();
  return (chain as string).replaceAll('npx fanout', `node ${CLI_PATH}`);
}

/** The id of the job the API was last asked to start (the CLI sends the id it chose). */
async function submittedJobId(boundMs = 30_000): Promise<string> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const post = f.gateway.requests.filter((r) => r.method === 'POST').at(-1);
    if (post) return (JSON.parse(post.body) as { jobId: string }).jobId;
    if (Date.now() > deadline) throw new Error('no POST /jobs seen');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("README's chain on a job where some URLs failed", () => {
  let jobId: string;

  it('submit && status --watch && results writes results.jsonl and exits 0', async () => {
    const urls = [
      ...Array.from({ length: 20 }, (_, i) => f.target.url(`/ok?i=${i}`)),
      `http://127.0.0.1:${f.closedPort}/refused`,
    ];
    writeFileSync(join(dir, 'urls.txt'), `${urls.join('\n')}\nnot a url\n`);
    const shell = spawn('bash', ['-c', readmeChain()], {
      cwd: dir,
      env: { ...process.env, FANOUT_STACK: STACKS.full, AWS_ENDPOINT_URL: f.moto.endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    shell.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => shell.on('close', resolve));
    jobId = await submittedJobId();
    // The test process plays Lambda: the job runs while the chain watches it.
    expect((await f.runJob(jobId)).status).toBe('completed_with_errors');
    expect(await exited, stderr).toBe(0);

    const path = join(dir, 'results.jsonl');
    expect(existsSync(path)).toBe(true);
    const records = parseJsonl<ResultRecord>(readFileSync(path, 'utf8'));
    expect(records).toHaveLength(21);
    expect(records.filter((r) => r.error?.code === 'CONNECTION_REFUSED')).toHaveLength(1);
  }, 120_000);

  it('status exits 0 for the finished job; --exit-status gives 1, the code of `fanout run`', async () => {
    const full = ['--stack', STACKS.full];
    const plain = await f.fanout(['status', jobId, ...full]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`job ${jobId}: completed_with_errors`);
    expect((await f.fanout(['status', jobId, '--watch', ...full])).code).toBe(0);
    expect((await f.fanout(['status', jobId, '--exit-status', ...full])).code).toBe(1);
    expect((await f.fanout(['status', jobId, '--watch', '--exit-status', ...full])).code).toBe(1);
  }, 60_000);
});
