/**
 * End-to-end: `fanout results` and `fanout retry` (the built CLI) against a deployed stack
 * on moto, on a job whose URLs end in several known ways: ok, a 410 (not an error),
 * HTTP_STATUS (503), CONNECTION_REFUSED, TOO_MANY_REDIRECTS and BLOCKED_ADDRESS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import type { FailedLine, ResultRecord } from '../../../lambda/core/record.js';
import { parseJsonl } from '../../helpers/cli-harness.js';
import { type RemoteFixture, STACKS, startRemoteFixture } from './remote-fixture.js';

let f: RemoteFixture;
let dir: string;
let jobId: string;
const full = ['--stack', STACKS.full];

/** Each input line: where it points and the error code its record must end with (null: none). */
interface Line {
  url: string;
  id: string;
  meta: { kind: string };
  code: string | null;
}
let lines: Line[];

beforeAll(async () => {
  f = await startRemoteFixture('retry');
  dir = mkdtempSync(join(tmpdir(), 'fanout-retry-'));
  const kinds: Array<[string, (i: number) => string, string | null]> = [
    ['ok', (i) => f.target.url(`/ok?k=${i}`), null],
    ['gone', (i) => f.target.url(`/gone?k=${i}`), null],
    ['unavailable', (i) => f.target.url(`/unavailable?k=${i}`), 'HTTP_STATUS'],
    ['refused', (i) => `http://127.0.0.1:${f.closedPort}/r${i}`, 'CONNECTION_REFUSED'],
    ['loop', (i) => f.target.url(`/loop?k=${i}`), 'TOO_MANY_REDIRECTS'],
    ['blocked', (i) => `http://10.255.0.${i + 1}/`, 'BLOCKED_ADDRESS'],
  ];
  // Interleaved, so each kind is spread over the chunks.
  lines = Array.from({ length: 36 }, (_, i) => {
    const [kind, url, code] = kinds[i % kinds.length] as (typeof kinds)[number];
    return { url: url(i), id: `row-${i}`, meta: { kind }, code };
  });
  const path = join(dir, 'mixed.jsonl');
  writeFileSync(
    path,
    `${lines.map(({ url, id, meta }) => JSON.stringify({ url, id, meta })).join('\n')}\nnot json\n`,
  );
  const submit = await f.fanout([
    'submit',
    path,
    '--allow',
    '127.0.0.1/32',
    '--retries',
    '0',
    '--max-redirects',
    '2',
    '--chunk-size',
    '10',
    ...full,
  ]);
  expect(submit.code, submit.stderr).toBe(0);
  jobId = submit.stdout.trim();
  expect((await f.runJob(jobId)).status).toBe('completed_with_errors');
}, 180_000);

afterAll(async () => {
  await f?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const selected = (codes: string[]) => lines.filter((l) => l.code !== null && codes.includes(l.code));
const asInput = (l: Line) => ({ url: l.url, id: l.id, meta: l.meta });

/** In a fixed order: on AWS, results come in input order within each host group, not across them. */
const sorted = <T>(rows: T[]): T[] =>
  rows
    .map((row) => [JSON.stringify(row), row] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row);

describe('fanout results', () => {
  it('streams every record, gunzipped, in input order within each host group; each ended as its URL must', async () => {
    const run = await f.fanout(['results', jobId, ...full]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(gunzipSync(await f.bytes(jobKeys.results(jobId))).toString('utf8'));
    const records = parseJsonl<ResultRecord>(run.stdout).sort((a, b) => a.line - b.line);
    expect(records.map((r) => [r.url, r.id, r.error?.code ?? null])).toEqual(
      lines.map((l) => [l.url, l.id, l.code]),
    );
  }, 30_000);

  it('--out writes the file; --failed streams failed.jsonl; --invalid the rejected lines', async () => {
    const out = join(dir, 'results.jsonl');
    const toFile = await f.fanout(['results', jobId, '--out', out, ...full]);
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(parseJsonl<ResultRecord>(readFileSync(out, 'utf8'))).toHaveLength(36);

    const failed = await f.fanout(['results', jobId, '--failed', '--bucket', f.bucket]);
    expect(failed.code).toBe(0);
    expect(
      sorted(parseJsonl<FailedLine>(failed.stdout).map((l) => [l.url, l.id, l.meta, l.error.code])),
    ).toEqual(sorted(lines.filter((l) => l.code !== null).map((l) => [l.url, l.id, l.meta, l.code])));
    const invalid = await f.fanout(['results', jobId, '--invalid', ...full]);
    expect(parseJsonl<{ line: number; code: string }>(invalid.stdout)).toMatchObject([
      { line: 37, code: 'INVALID_JSON' },
    ]);
  }, 30_000);

  it('a job not finished yet, or no job at all: exit 2 saying so, nothing on stdout', async () => {
    await f.deployment.services.jobs.create('still-dispatching', new Date());
    const early = await f.fanout(['results', 'still-dispatching', ...full]);
    expect(early.code).toBe(2);
    expect(early.stdout).toBe('');
    expect(early.stderr).toMatch(
      /job still-dispatching has not finished \(dispatching: 0 of 0\+ URLs done.*fanout status still-dispatching --watch/,
    );
    const unknown = await f.fanout(['results', 'no-such-job', ...full]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^fanout: no job no-such-job in the jobs API/);
  }, 30_000);
});

describe('fanout retry', () => {
  it('--codes selects exactly the failures with those codes, keeps id and meta, and the job options', async () => {
    const run = await f.fanout(['retry', jobId, '--codes', 'HTTP_STATUS,connection_refused', ...full]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/retrying 12 failed URLs of job .* \(HTTP_STATUS: 6, CONNECTION_REFUSED: 6\)/);
    const retryId = run.stdout.trim();
    const request = JSON.parse(await f.text(jobKeys.request(retryId))) as JobRequest;
    const original = JSON.parse(await f.text(jobKeys.request(jobId))) as JobRequest;
    expect(request.options).toEqual(original.options);
    const input = request.source.replace(`s3://${f.bucket}/`, '');
    expect(sorted(parseJsonl(await f.text(input)))).toEqual(
      sorted(selected(['HTTP_STATUS', 'CONNECTION_REFUSED']).map(asInput)),
    );

    expect((await f.runJob(retryId)).status).toBe('completed_with_errors');
    const retried = await f.results(retryId);
    expect(sorted(retried.map((r) => [r.url, r.id, r.meta, r.error?.code]))).toEqual(
      sorted(selected(['HTTP_STATUS', 'CONNECTION_REFUSED']).map((l) => [l.url, l.id, l.meta, l.code])),
    );
  }, 120_000);

  it('without --codes retries every failure; a flag overrides the original option', async () => {
    const run = await f.fanout(['retry', jobId, '--json', '--max-redirects', '5', ...full]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { jobId: string; via: string; retried: Record<string, number> };
    expect(out).toMatchObject({
      via: 'api',
      retried: { HTTP_STATUS: 6, CONNECTION_REFUSED: 6, TOO_MANY_REDIRECTS: 6, BLOCKED_ADDRESS: 6 },
    });
    const request = JSON.parse(await f.text(jobKeys.request(out.jobId))) as JobRequest;
    expect(request.options).toMatchObject({ maxRedirects: 5, retries: 0, allow: ['127.0.0.1/32'] });
    const input = request.source.replace(`s3://${f.bucket}/`, '');
    expect(sorted(parseJsonl(await f.text(input)))).toEqual(
      sorted(lines.filter((l) => l.code !== null).map(asInput)),
    );
    expect((await f.runJob(out.jobId)).status).toBe('completed_with_errors');
  }, 120_000);

  it('by upload (no API): the selection goes to inputs/ and its job runs', async () => {
    const run = await f.fanout(['retry', jobId, '--codes', 'TOO_MANY_REDIRECTS', '--stack', STACKS.noApi]);
    expect(run.code, run.stderr).toBe(0);
    const retryId = run.stdout.trim();
    expect(retryId).toMatch(new RegExp(`^${jobId}-retry-too_many_redirects-[0-9a-f]{12}$`));
    expect(await f.notifyUploads()).toEqual([retryId]);
    expect((await f.runJob(retryId)).status).toBe('completed_with_errors');
    expect((await f.results(retryId)).map((r) => [r.url, r.id, r.error?.code])).toEqual(
      selected(['TOO_MANY_REDIRECTS']).map((l) => [l.url, l.id, l.code]),
    );
  }, 120_000);

  it('nothing selected: says so, starts no job, exit 0', async () => {
    const dispatches = f.deployment.dispatches.length;
    const posts = f.gateway.requests.filter((r) => r.method === 'POST').length;
    const run = await f.fanout(['retry', jobId, '--codes', 'DNS,TLS', ...full]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/job .* has no failed URLs with code DNS, TLS; no job submitted/);
    expect(f.deployment.dispatches.length).toBe(dispatches);
    expect(f.gateway.requests.filter((r) => r.method === 'POST').length).toBe(posts);
  }, 30_000);

  it('unknown codes are exit 2, each named, before anything is read', async () => {
    const run = await f.fanout(['retry', jobId, '--codes', 'HTTP_STATUS,NOPE,404', ...full]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--codes: unknown error code NOPE, 404; known: BLOCKED_ADDRESS, .*INTERNAL/);
  }, 30_000);
});
