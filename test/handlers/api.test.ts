import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRequest } from '../../lambda/core/job/job-request.js';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import type { JobStatus } from '../../lambda/core/ports.js';
import { makeApiHandler } from '../../lambda/handlers/api.js';
import { setLogSink } from '../../lambda/handlers/log.js';
import { type ApiEventOptions, type ApiEventShape, makeApiEvent } from '../helpers/api-events.js';
import { type MemoryServices, memoryServices } from '../helpers/memory-services.js';

/** The handler logs one JSON line per request; keep them for the test and out of the output. */
let lines: string[] = [];
beforeEach(() => {
  lines = [];
  setLogSink((line) => lines.push(line));
});
afterEach(() => {
  setLogSink();
});
const logged = () => lines.join('');

interface Answer {
  status: number;
  headers: Record<string, unknown> | undefined;
  raw: string;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON body, read field by field.
  body: any;
}

async function call(
  s: MemoryServices,
  method: string,
  path: string,
  options: ApiEventOptions = {},
): Promise<Answer> {
  const result = await makeApiHandler(() => s)(makeApiEvent(method, path, options));
  return {
    status: result.statusCode,
    headers: result.headers as Record<string, unknown> | undefined,
    raw: result.body,
    body: JSON.parse(result.body),
  };
}

const submitBody = (jobId: string, urls: unknown[] = ['https://e.com/a', 'https://e.com/b']) =>
  JSON.stringify({ urls, jobId });

/** A job as if it had been submitted and had run to `status`. */
async function jobIn(s: MemoryServices, jobId: string, status: JobStatus) {
  await s.jobs.create(jobId, new Date('2026-01-01T00:00:00Z'));
  if (status !== 'dispatching') await s.jobs.setTotal(jobId, { chunks: 2, accepted: 5, invalid: 1 });
  if (status !== 'dispatching' && status !== 'running') await s.jobs.finish(jobId, status);
}

const RESULT_NAMES = ['results', 'summary', 'failed', 'invalid'] as const;

describe.each<ApiEventShape>(['resource', 'proxy'])('API handler, %s events', (shape) => {
  it('POST /jobs → 202 with the job id; job.json and the input are stored and dispatch started', async () => {
    const s = memoryServices();
    const answer = await call(s, 'POST', '/jobs', { shape, body: submitBody('job-1') });
    expect(answer.status).toBe(202);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(answer.body).toEqual({ jobId: 'job-1', status: '/jobs/job-1' });
    const request = JSON.parse(
      s.store.objects.get(jobKeys.request('job-1'))?.toString() ?? '{}',
    ) as JobRequest;
    expect(request).toMatchObject({
      jobId: 'job-1',
      source: 's3://b/jobs/job-1/input.jsonl.gz',
      format: 'jsonl',
      options: s.config.jobDefaults,
    });
    expect(decodeJsonlGz(s.store.objects.get(jobKeys.inlineInput('job-1')) ?? Buffer.alloc(0))).toEqual([
      { url: 'https://e.com/a' },
      { url: 'https://e.com/b' },
    ]);
    expect(s.dispatches).toEqual([{ jobId: 'job-1' }]);
    expect((await s.jobs.get('job-1'))?.status).toBe('dispatching');
  });

  it('POST /jobs without a jobId gets a fresh one', async () => {
    const s = memoryServices();
    const answer = await call(s, 'POST', '/jobs', {
      shape,
      body: '{"source": "s3://bucket/inputs/list.txt"}',
    });
    expect(answer.status).toBe(202);
    expect(answer.body.jobId).toMatch(/^\d{8}-\d{6}-[a-z0-9]{6}$/);
    expect(s.dispatches).toEqual([{ jobId: answer.body.jobId }]);
  });

  it('a base64-encoded body is decoded', async () => {
    const s = memoryServices();
    const answer = await call(s, 'POST', '/jobs', {
      shape,
      base64: true,
      body: submitBody('job-b64', ['https://e.com/é']),
    });
    expect(answer.status).toBe(202);
    expect(decodeJsonlGz(s.store.objects.get(jobKeys.inlineInput('job-b64')) ?? Buffer.alloc(0))).toEqual([
      { url: 'https://e.com/é' },
    ]);
  });

  it('a refused body → 400 with its code and message; nothing stored, nothing started', async () => {
    const s = memoryServices();
    const answer = await call(s, 'POST', '/jobs', {
      shape,
      body: JSON.stringify({ urls: ['https://e.com/'], options: { retries: 99 } }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: { code: 'BAD_REQUEST', message: 'options.retries: must be an integer from 0 to 10, got 99' },
    });
    expect(s.store.keys()).toEqual([]);
    expect(s.dispatches).toEqual([]);
  });

  it('an empty body → 400', async () => {
    const answer = await call(memoryServices(), 'POST', '/jobs', { shape, body: null });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/request body is empty/);
  });

  it('an oversized body → 413', async () => {
    const answer = await call(memoryServices(), 'POST', '/jobs', {
      shape,
      body: ' '.repeat(5 * 1024 * 1024 + 1),
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('REQUEST_TOO_LARGE');
  });

  it('options within the deployment maxima decide what is refused', async () => {
    const s = memoryServices({
      FANOUT_JOB_DEFAULTS: '{"concurrency": 32}',
      FANOUT_JOB_MAXIMA: '{"concurrency": 64}',
    });
    const refused = await call(s, 'POST', '/jobs', {
      shape,
      body: JSON.stringify({ urls: ['https://e.com/'], options: { concurrency: 65 } }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('options.concurrency: must be an integer from 1 to 64, got 65');
    const ok = await call(s, 'POST', '/jobs', { shape, body: submitBody('j') });
    expect(ok.status).toBe(202);
  });

  it('POSTing the same job again → 202 without a second dispatch; a different one → 409', async () => {
    const s = memoryServices();
    expect((await call(s, 'POST', '/jobs', { shape, body: submitBody('j') })).status).toBe(202);
    const again = await call(s, 'POST', '/jobs', { shape, body: submitBody('j') });
    expect(again.status).toBe(202);
    expect(s.dispatches).toEqual([{ jobId: 'j' }]);
    const other = await call(s, 'POST', '/jobs', { shape, body: submitBody('j', ['https://e.com/z']) });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('JOB_EXISTS');
  });

  it('GET /jobs/{id} → 200 with status, progress and where the results will be', async () => {
    const s = memoryServices();
    await call(s, 'POST', '/jobs', { shape, body: submitBody('job-1') });
    await s.jobs.setTotal('job-1', { chunks: 3, accepted: 7, invalid: 2 });
    await s.jobs.markChunkDone('job-1', '00000000', { urls: 3, failed: 1 });
    const answer = await call(s, 'GET', '/jobs/job-1', { shape });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      jobId: 'job-1',
      status: 'running',
      cancelRequested: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      progress: { chunksDone: 1, totalChunks: 3, accepted: 7, invalid: 2, urlsDone: 3, urlsFailed: 1 },
      results: {
        results: { s3: 's3://b/jobs/job-1/results.jsonl.gz' },
        summary: { s3: 's3://b/jobs/job-1/summary.json' },
        failed: { s3: 's3://b/jobs/job-1/failed.jsonl' },
        invalid: { s3: 's3://b/jobs/job-1/invalid.jsonl.gz' },
      },
    });
  });

  it.each<JobStatus>(['dispatching', 'running', 'finalizing', 'failed'])(
    'GET a %s job: no presigned URLs',
    async (status) => {
      const s = memoryServices();
      await jobIn(s, 'j', status);
      const answer = await call(s, 'GET', '/jobs/j', { shape });
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe(status);
      for (const name of RESULT_NAMES) expect(answer.body.results[name]).toEqual({ s3: expect.any(String) });
      expect(answer.body).not.toHaveProperty('resultUrlsExpireInSeconds');
      expect(answer.raw).not.toContain('memory://');
    },
  );

  it.each<JobStatus>(['succeeded', 'completed_with_errors', 'cancelled'])(
    'GET a %s job: a presigned URL for each result file',
    async (status) => {
      const s = memoryServices({ FANOUT_RESULT_URL_SECONDS: '600' });
      await jobIn(s, 'j', status);
      const answer = await call(s, 'GET', '/jobs/j', { shape });
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe(status);
      expect(answer.body.results).toEqual({
        results: { s3: 's3://b/jobs/j/results.jsonl.gz', url: 'memory://jobs/j/results.jsonl.gz?ttl=600' },
        summary: { s3: 's3://b/jobs/j/summary.json', url: 'memory://jobs/j/summary.json?ttl=600' },
        failed: { s3: 's3://b/jobs/j/failed.jsonl', url: 'memory://jobs/j/failed.jsonl?ttl=600' },
        invalid: { s3: 's3://b/jobs/j/invalid.jsonl.gz', url: 'memory://jobs/j/invalid.jsonl.gz?ttl=600' },
      });
      expect(answer.body.resultUrlsExpireInSeconds).toBe(600);
    },
  );

  it('GET a failed job shows why', async () => {
    const s = memoryServices();
    await s.jobs.create('j', new Date());
    await s.jobs.finish('j', 'failed', 'EMPTY_INPUT: nothing to fetch');
    const answer = await call(s, 'GET', '/jobs/j', { shape });
    expect(answer.body).toMatchObject({ status: 'failed', error: 'EMPTY_INPUT: nothing to fetch' });
  });

  it('DELETE /jobs/{id} → 202 and the job has cancelRequested', async () => {
    const s = memoryServices();
    await jobIn(s, 'j', 'running');
    const answer = await call(s, 'DELETE', '/jobs/j', { shape });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ jobId: 'j', status: 'running', cancelRequested: true });
    expect((await s.jobs.get('j'))?.cancelRequested).toBe(true);
    expect((await call(s, 'GET', '/jobs/j', { shape })).body.cancelRequested).toBe(true);
  });

  it.each<JobStatus>(['succeeded', 'completed_with_errors', 'failed', 'cancelled'])(
    'DELETE a %s job → 409 JOB_FINISHED, and nothing changes',
    async (status) => {
      const s = memoryServices();
      await jobIn(s, 'j', status);
      const answer = await call(s, 'DELETE', '/jobs/j', { shape });
      expect(answer.status).toBe(409);
      expect(answer.body.error).toEqual({
        code: 'JOB_FINISHED',
        message: `job j has already ended (${status})`,
      });
      expect((await s.jobs.get('j'))?.cancelRequested).toBeUndefined();
    },
  );

  it.each([['GET'], ['DELETE']])('%s an unknown job → 404', async (method) => {
    const answer = await call(memoryServices(), method, '/jobs/nope', { shape });
    expect(answer.status).toBe(404);
    expect(answer.body.error).toEqual({ code: 'NOT_FOUND', message: 'no job nope' });
  });

  it.each([['-starts-with-a-dash'], ['a..b'], ['a%20b'], [`x${'y'.repeat(128)}`]])(
    'GET an invalid id (%s) → 400',
    async (id) => {
      const s = memoryServices();
      const answer = await call(s, 'GET', `/jobs/${id}`, { shape });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('BAD_REQUEST');
      expect(answer.body.error.message).toMatch(/is not a valid job id$/);
    },
  );

  it('an id is URL-decoded from the path', async () => {
    const s = memoryServices();
    await jobIn(s, 'job.1', 'running');
    const answer = await call(s, 'GET', '/jobs/job%2E1', { shape });
    expect(answer.status).toBe(200);
    expect(answer.body.jobId).toBe('job.1');
  });

  it.each([
    ['GET', '/jobs'],
    ['PUT', '/jobs/j'],
    ['POST', '/jobs/j'],
    ['GET', '/health'],
  ])('%s %s → 404 naming the routes', async (method, path) => {
    const answer = await call(memoryServices(), method, path, { shape });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
    expect(answer.body.error.message).toContain('use POST /jobs, GET or DELETE /jobs/{id}');
  });

  it('an internal error → 500 with a generic message; the cause is logged, not returned', async () => {
    const s = memoryServices();
    await jobIn(s, 'j', 'running');
    s.jobs.get = async () => {
      throw new Error('connect ECONNREFUSED 10.1.2.3:443 (table fanout-secret-prod)');
    };
    const answer = await call(s, 'GET', '/jobs/j', { shape });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      error: { code: 'INTERNAL', message: 'the request failed; it is safe to retry' },
    });
    expect(answer.raw).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|secret|stack|at /);
    expect(logged()).toContain('ECONNREFUSED');
  });

  it('a dispatch that cannot be started → 500', async () => {
    const s = memoryServices();
    s.startDispatch = async () => {
      throw new Error('Rate exceeded');
    };
    const answer = await call(s, 'POST', '/jobs', { shape, body: submitBody('j') });
    expect(answer.status).toBe(500);
    expect(answer.raw).not.toContain('Rate exceeded');
  });
});

describe('API handler, proxy paths', () => {
  it('a trailing slash is the same route', async () => {
    const s = memoryServices();
    const answer = await call(s, 'POST', '/jobs/', { shape: 'proxy', body: submitBody('j') });
    expect(answer.status).toBe(202);
  });

  it('a deeper path → 404', async () => {
    const answer = await call(memoryServices(), 'GET', '/jobs/j/results', { shape: 'proxy' });
    expect(answer.status).toBe(404);
  });

  it('an id with broken %-encoding → 400, not a crash', async () => {
    const answer = await call(memoryServices(), 'GET', '/jobs/%E0%A4%A', { shape: 'proxy' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('BAD_REQUEST');
  });
});
