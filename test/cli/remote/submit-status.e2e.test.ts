/**
 * End-to-end: `fanout submit` and `fanout status` (the built CLI) against a deployed stack
 * on moto: found through its CloudFormation outputs, jobs started through the signed API or
 * by upload, and `status --watch` following a job until it ends.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import type { JobView } from '../../../lambda/core/job/job-view.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { DEFAULT_OPTIONS } from '../../../lambda/core/options.js';
import { CLI_PATH } from '../../helpers/cli-harness.js';
import { type RemoteFixture, STACKS, startRemoteFixture } from './remote-fixture.js';

let f: RemoteFixture;
let dir: string;
const LOOPBACK = ['--allow', '127.0.0.1/32'];
const full = ['--stack', STACKS.full];

beforeAll(async () => {
  f = await startRemoteFixture('submit');
  dir = mkdtempSync(join(tmpdir(), 'fanout-remote-'));
}, 120_000);

afterAll(async () => {
  await f?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function list(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const jobIdOf = (stdout: string) => {
  expect(stdout).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*\n$/);
  return stdout.trim();
};

/** Resolves once the child's stderr has printed a line matching `pattern` (bounded). */
function stderrLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no stderr line like ${pattern} in ${timeoutMs} ms: ${seen}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

describe('fanout submit through the API, then status --watch', () => {
  let jobId: string;

  it('uploads the file under the job, POSTs a signed request with only the options given, prints the job id', async () => {
    const urls = Array.from({ length: 300 }, (_, i) =>
      f.target.url(i % 30 === 0 ? `/gone?i=${i}` : `/ok?i=${i}`),
    );
    const path = list('three-hundred.txt', [...urls, 'not a url']);
    const run = await f.fanout([
      'submit',
      path,
      ...full,
      ...LOOPBACK,
      '--chunk-size',
      '50',
      '--retries',
      '0',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    jobId = jobIdOf(run.stdout);

    const post = f.gateway.requests.find((r) => r.method === 'POST');
    expect(post).toMatchObject({ path: '/jobs', signed: true });
    expect(JSON.parse(post?.body ?? '{}')).toEqual({
      source: `s3://${f.bucket}/jobs/${jobId}/input/three-hundred.txt`,
      options: { allow: ['127.0.0.1/32'], chunkSize: 50, retries: 0 },
      jobId,
    });
    const request = JSON.parse(await f.text(jobKeys.request(jobId))) as JobRequest;
    // What was not given comes from the deployment, not from fanout run's defaults.
    expect(request.options).toMatchObject({
      chunkSize: 50,
      retries: 0,
      maxRedirects: 2,
      userAgent: DEFAULT_OPTIONS.userAgent,
    });
  }, 60_000);

  it('--watch shows progress on stderr while the job runs and exits 0 once it has results', async () => {
    let watcher: ChildProcess | undefined;
    const watching = f.fanout(['status', jobId, '--watch', '--interval', '200ms', ...full], {
      timeoutMs: 90_000,
      onSpawn: (child) => {
        watcher = child;
      },
    });
    // The job has not run yet: the watch is seen waiting before the workers start.
    await stderrLine(watcher as ChildProcess, new RegExp(`^${jobId} (dispatching|running) 0/`));
    const [state, watched] = await Promise.all([f.runJob(jobId), watching]);
    expect(state.status).toBe('completed_with_errors');
    expect(watched.timedOut).toBe(false);
    expect(watched.code).toBe(0);
    const lines = watched.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(`^${jobId} completed_with_errors 300/300 URLs \\| \\d+/s \\| 0 errors \\| ETA`),
    );
    expect(watched.stdout).toContain(`job ${jobId}: completed_with_errors`);
    expect(watched.stdout).toContain('300 of 300 URLs done, 0 failed, 1 invalid line');
  }, 120_000);

  it('status without --watch: text, and --json through the API (with result links) or the table', async () => {
    const text = await f.fanout(['status', jobId, ...full]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain(`results   s3://${f.bucket}/jobs/${jobId}/results.jsonl.gz`);

    const viaApi = await f.fanout(['status', jobId, '--json', ...full]);
    const api = JSON.parse(viaApi.stdout) as JobView;
    expect(api).toMatchObject({
      jobId,
      status: 'completed_with_errors',
      progress: { urlsDone: 300, totalChunks: 6, invalid: 1 },
    });
    expect(api.results?.results?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fanout-submit\/jobs\//);

    // No stack named: the flags say where the table is, and no API is used.
    const before = f.gateway.requests.length;
    const viaTable = await f.fanout(['status', jobId, '--json', '--table', f.table, '--bucket', f.bucket]);
    expect(viaTable.code).toBe(0);
    const table = JSON.parse(viaTable.stdout) as JobView;
    const { jobId: id, status, progress, createdAt, cancelRequested } = api;
    expect(table).toMatchObject({ jobId: id, status, progress, createdAt, cancelRequested });
    expect(table.results?.results?.s3).toBe(api.results?.results?.s3);
    expect(table.results?.results?.url).toBeUndefined();
    expect(f.gateway.requests.length).toBe(before);
  }, 60_000);

  it('results on a pipe whose reader stops early (| head): not an error', () => {
    const cli = `node ${CLI_PATH} results ${jobId} --stack ${STACKS.full} --endpoint ${f.moto.endpoint}`;
    // About 120 KB of records, more than a pipe holds: the CLI meets EPIPE after head exits.
    const run = spawnSync('bash', ['-c', `set -o pipefail; ${cli} | head -c 100 >/dev/null`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 30_000);
});

describe('fanout submit by upload (a stack without an API, or --upload)', () => {
  it("uploads to inputs/; the id printed is the one the upload trigger's job gets", async () => {
    const path = list(
      'uploaded.txt',
      Array.from({ length: 120 }, (_, i) => f.target.url(`/ok?u=${i}`)),
    );
    const run = await f.fanout(['submit', path, '--stack', STACKS.noApi]);
    expect(run.code).toBe(0);
    const jobId = jobIdOf(run.stdout);
    expect(jobId).toMatch(/^uploaded-[0-9a-f]{12}$/);
    expect(await f.notifyUploads()).toEqual([jobId]);
    expect((await f.runJob(jobId)).status).toBe('succeeded');
    const status = await f.fanout(['status', jobId, '--stack', STACKS.noApi]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('120 of 120 URLs done, 0 failed');

    // The same list again is the same job; another list under that name is refused, not overwritten.
    const again = await f.fanout(['submit', path, '--upload', ...full]);
    expect(again.stdout.trim()).toBe(jobId);
    expect(await f.notifyUploads()).toEqual([]);
    writeFileSync(path, `${f.target.url('/ok?other')}\n`);
    const other = await f.fanout(['submit', path, '--upload', ...full]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /inputs\/uploaded\.txt already holds a different list; choose another name with --key/,
    );
    const renamed = await f.fanout(['submit', path, '--upload', '--key', 'other.txt', ...full]);
    expect(renamed.code).toBe(0);
    expect(await f.notifyUploads()).toEqual([renamed.stdout.trim()]);
    expect((await f.runJob(renamed.stdout.trim())).status).toBe('succeeded');
  }, 120_000);

  it('refuses flags an upload cannot honour, naming them', async () => {
    const path = list('flags.txt', [f.target.url('/ok')]);
    const run = await f.fanout([
      'submit',
      path,
      '--stack',
      STACKS.noApi,
      '-c',
      '4',
      '--format',
      'text',
      '--job-id',
      'mine',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^fanout: --concurrency, --format, --job-id: an upload to inputs\/ runs with the deployment's defaults/,
    );
    expect(await f.notifyUploads()).toEqual([]);
  }, 30_000);
});

describe('fanout submit s3://…', () => {
  it('submits a list already in S3 to the API, with its format and id', async () => {
    const csv = ['url,id,team', ...[1, 2, 3].map((i) => `${f.target.url(`/ok?c=${i}`)},row-${i},web`)].join(
      '\n',
    );
    await f.clients.s3.send(new PutObjectCommand({ Bucket: f.bucket, Key: 'lists/rows.csv', Body: csv }));
    const source = `s3://${f.bucket}/lists/rows.csv`;
    const run = await f.fanout([
      'submit',
      source,
      '--format',
      'csv',
      '--job-id',
      'from-s3',
      ...LOOPBACK,
      ...full,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('from-s3\n');
    expect(JSON.parse(await f.text(jobKeys.request('from-s3')))).toMatchObject({ source, format: 'csv' });
    expect((await f.runJob('from-s3')).status).toBe('succeeded');
    expect((await f.results('from-s3')).map((r) => [r.id, r.meta])).toEqual(
      [1, 2, 3].map((i) => [`row-${i}`, { team: 'web' }]),
    );
  }, 60_000);

  it('needs the API: without one it says which output or flag is missing', async () => {
    const run = await f.fanout(['submit', `s3://${f.bucket}/lists/rows.csv`, '--stack', STACKS.noApi]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /stack FanoutNoApi has no ApiUrl output; .*the jobs API: pass --api or set FANOUT_API_URL/,
    );
  }, 30_000);
});

describe('fanout submit errors', () => {
  it('a missing file is exit 3; a bad option is exit 2 naming the flag; nothing is uploaded', async () => {
    const missing = await f.fanout(['submit', join(dir, 'nope.txt'), ...full]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read .*nope\.txt: ENOENT/);
    const bad = await f.fanout([
      'submit',
      list('bad.txt', [f.target.url('/ok')]),
      '--concurrency',
      '0',
      ...full,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--concurrency/);
  }, 30_000);

  it("an option over the deployment's maximum: the API's 400 is exit 2, and the uploaded list is removed", async () => {
    const requests = f.gateway.requests.length;
    const run = await f.fanout([
      'submit',
      list('too-many.txt', [f.target.url('/ok')]),
      '-c',
      '300',
      '--job-id',
      'too-many',
      ...full,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the jobs API answered 400: options\.concurrency: .*256/);
    expect(f.gateway.requests.length).toBe(requests + 1);
    expect(await f.deployment.services.store.exists('jobs/too-many/input/too-many.txt')).toBe(false);
  }, 30_000);
});
