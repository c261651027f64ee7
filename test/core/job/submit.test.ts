import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import {
  API_LIMITS,
  parseSubmission,
  RequestError,
  type SubmitPolicy,
  submitJob,
} from '../../../lambda/core/job/submit.js';
import { limitsWithin, OPTION_LIMITS, resolveOptions } from '../../../lambda/core/options.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');

const policy = (overrides: Partial<SubmitPolicy> = {}): SubmitPolicy => ({
  bucket: 'b',
  defaults: resolveOptions(),
  limits: OPTION_LIMITS,
  allowPrivate: false,
  ...overrides,
});

const submission = (body: unknown, p: SubmitPolicy = policy(), now = NOW) =>
  parseSubmission(typeof body === 'string' ? body : JSON.stringify(body), p, now);

/** The RequestError parseSubmission throws for a body; fails the test when it accepts it. */
function refusal(body: string | null, p: SubmitPolicy = policy()): RequestError {
  try {
    parseSubmission(body, p, NOW);
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error(`accepted ${body?.slice(0, 80)}`);
}

const refusalOf = (body: unknown, p?: SubmitPolicy) => refusal(JSON.stringify(body), p);

describe('parseSubmission: refused bodies', () => {
  it.each([
    ['null', null, /request body is empty/],
    ['empty', '', /request body is empty/],
    ['whitespace', '  \n\t ', /request body is empty/],
    ['invalid JSON', '{"urls": [', /request body is not valid JSON/],
    ['a JSON list', '["https://e.com/"]', /must be a JSON object/],
    ['a JSON string', '"https://e.com/"', /must be a JSON object/],
    ['JSON null', 'null', /must be a JSON object/],
    ['a number', '42', /must be a JSON object/],
  ])('%s → 400 BAD_REQUEST', (_name, body, message) => {
    const error = refusal(body);
    expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST', name: 'RequestError' });
    expect(error.message).toMatch(message);
  });

  it('an unknown field is named, with the allowed ones', () => {
    const error = refusalOf({ urls: ['https://e.com/'], callback: 'x', priority: 1 });
    expect(error.status).toBe(400);
    expect(error.message).toContain('unknown field callback, priority');
    expect(error.message).toContain('allowed: urls, source, format, options, jobId');
  });

  it.each([
    ['neither', { options: {} }],
    ['both', { urls: ['https://e.com/'], source: 's3://bucket/key.txt' }],
  ])('%s of urls and source → 400', (_name, body) => {
    const error = refusalOf(body);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/exactly one of "urls".*and "source"/);
  });

  it.each([
    ['empty', ''],
    ['a number', 7],
    ['starting with a symbol', '-job'],
    ['with a slash', 'a/b'],
    ['with a space', 'a b'],
    ['with ..', 'a..b'],
    ['too long', 'a'.repeat(129)],
  ])('jobId %s → 400', (_name, jobId) => {
    const error = refusalOf({ urls: ['https://e.com/'], jobId });
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^jobId: /);
  });

  it('a jobId of 128 characters is accepted', () => {
    const jobId = `a${'b'.repeat(127)}`;
    expect(submission({ urls: ['https://e.com/'], jobId }).request.jobId).toBe(jobId);
  });

  it.each([
    ['a string', 'https://e.com/'],
    ['an object', { url: 'https://e.com/' }],
    ['empty', []],
    ['null', null],
  ])('urls %s → 400 "must be a non-empty list"', (_name, urls) => {
    const error = refusalOf({ urls });
    expect(error.status).toBe(400);
    expect(error.message).toBe('urls: must be a non-empty list');
  });

  it(`more than ${API_LIMITS.maxInlineUrls} urls → 400 naming the count and the limit`, () => {
    const urls = Array.from({ length: API_LIMITS.maxInlineUrls + 1 }, (_, i) => `https://e.com/${i}`);
    const error = refusalOf({ urls });
    expect(error.status).toBe(400);
    expect(error.message).toContain(
      `${API_LIMITS.maxInlineUrls + 1} URLs; at most ${API_LIMITS.maxInlineUrls}`,
    );
    expect(error.message).toContain('"source"');
  });

  it(`exactly ${API_LIMITS.maxInlineUrls} urls are accepted`, () => {
    const urls = Array.from({ length: API_LIMITS.maxInlineUrls }, (_, i) => `https://e.com/${i}`);
    const { inline } = submission({ urls });
    expect(decodeJsonlGz(inline ?? Buffer.alloc(0))).toHaveLength(API_LIMITS.maxInlineUrls);
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['a list', ['https://e.com/']],
    ['an object without url', { id: 'x' }],
    ['a url that is not a string', { url: 5 }],
    ['an id that is an object', { url: 'https://e.com/', id: { a: 1 } }],
    ['an id that is a boolean', { url: 'https://e.com/', id: true }],
    ['meta that is a string', { url: 'https://e.com/', meta: 'm' }],
    ['meta that is a list', { url: 'https://e.com/', meta: [1] }],
    ['meta that is null', { url: 'https://e.com/', meta: null }],
  ])('a bad entry (%s) is named by its index', (_name, entry) => {
    const error = refusalOf({ urls: ['https://e.com/0', 'https://e.com/1', entry, 'https://e.com/3'] });
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^urls\[2\]: must be a URL string or \{"url": string/);
  });

  it('format with inline urls → 400', () => {
    const error = refusalOf({ urls: ['https://e.com/'], format: 'jsonl' });
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^format: only with "source"/);
  });

  it.each([['xml'], [''], [3], ['TEXT']])('format %j with a source → 400 naming the formats', (format) => {
    const error = refusalOf({ source: 's3://bucket/list.txt', format });
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      `format: must be one of auto, text, csv, jsonl, got ${JSON.stringify(format)}`,
    );
  });

  it.each([
    ['an https URL', 'https://bucket.s3.amazonaws.com/key'],
    ['a bucket without a key', 's3://bucket/'],
    ['a bucket name too short', 's3://ab/key'],
    ['an upper-case bucket', 's3://Bucket/key'],
    ['a number', 12],
    ['null', null],
  ])('source %s → 400', (_name, source) => {
    const error = refusalOf({ source });
    expect(error.status).toBe(400);
    expect(error.message).toBe(`source: must be an s3://bucket/key URL, got ${JSON.stringify(source)}`);
  });
});

describe('parseSubmission: body size', () => {
  it(`a body over ${API_LIMITS.maxRequestBytes} bytes → 413 REQUEST_TOO_LARGE`, () => {
    const error = refusal(' '.repeat(API_LIMITS.maxRequestBytes + 1));
    expect(error).toMatchObject({ status: 413, code: 'REQUEST_TOO_LARGE' });
    expect(error.message).toContain(`${API_LIMITS.maxRequestBytes + 1} bytes`);
    expect(error.message).toContain('s3://bucket/key');
  });

  it('the limit counts bytes, not characters', () => {
    // 3 Mi two-byte characters: 6 MiB.
    const body = JSON.stringify({ urls: [`https://e.com/${'é'.repeat(3 * 1024 * 1024)}`] });
    expect(body.length).toBeLessThan(API_LIMITS.maxRequestBytes);
    expect(refusal(body).status).toBe(413);
  });

  it('a body of exactly the limit is read (and refused only for what it says)', () => {
    const body = `${' '.repeat(API_LIMITS.maxRequestBytes - 2)}{}`;
    const error = refusal(body);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/exactly one of/);
  });
});

describe('parseSubmission: options', () => {
  it('a request without options gets the deployment defaults', () => {
    const defaults = resolveOptions({ retries: 1, chunkSize: 50 });
    const { request } = submission({ urls: ['https://e.com/'] }, policy({ defaults }));
    expect(request.options).toEqual(defaults);
  });

  it("the caller's options override the deployment defaults", () => {
    const defaults = resolveOptions({ retries: 1, chunkSize: 50 });
    const { request } = submission(
      { urls: ['https://e.com/'], options: { retries: 4, method: 'HEAD' } },
      policy({ defaults }),
    );
    expect(request.options).toMatchObject({ retries: 4, method: 'HEAD', chunkSize: 50 });
  });

  it.each([
    ['a list', [1]],
    ['a string', 'fast'],
    ['null', null],
    ['a number', 3],
  ])('options that are %s → 400', (_name, options) => {
    const error = refusalOf({ urls: ['https://e.com/'], options });
    expect(error.status).toBe(400);
    expect(error.message).toBe('options: must be a JSON object');
  });

  it.each([
    [{ concurrency: 0 }, 'options.concurrency: must be an integer from 1 to 900, got 0'],
    [{ retries: 11 }, 'options.retries: must be an integer from 0 to 10, got 11'],
    [{ timeoutMs: 50 }, 'options.timeoutMs: must be an integer from 100 to 900000 ms, got 50'],
    [{ maxBodyBytes: -1 }, 'options.maxBodyBytes: must be an integer from 0 to 1073741824 bytes, got -1'],
    [{ chunkSize: 1.5 }, 'options.chunkSize: must be an integer from 1 to 10000, got 1.5'],
    [{ body: 'all' }, 'options.body: must be one of none, hash, inline, store, warc, got "all"'],
    [{ turbo: true }, 'options.turbo: unknown option'],
  ])('%j → 400 naming the option and what is allowed', (options, message) => {
    const error = refusalOf({ urls: ['https://e.com/'], options });
    expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(error.message).toBe(message);
  });

  it('several bad options are reported at once, each with its range', () => {
    const error = refusalOf({ urls: ['https://e.com/'], options: { concurrency: 0, retries: 11 } });
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^options/);
    expect(error.message).toContain('2 problems');
    expect(error.message).toContain('concurrency: must be an integer from 1 to 900, got 0');
    expect(error.message).toContain('retries: must be an integer from 0 to 10, got 11');
    // The problems are the caller's options, not an option called "options".
    expect(error.message).not.toContain('options.options');
  });

  it.each([
    ['allowPrivate: true', { allowPrivate: true }],
    ['a non-empty allow list', { allow: ['10.0.0.0/8'] }],
  ])('%s is refused when the deployment does not allow private addresses', (_name, options) => {
    const error = refusalOf({ urls: ['https://e.com/'], options });
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^options\.allowPrivate\/allow: this deployment does not let/);
  });

  it('allowPrivate: false and an empty allow list are fine without the policy', () => {
    const { request } = submission({ urls: ['https://e.com/'], options: { allowPrivate: false, allow: [] } });
    expect(request.options).toMatchObject({ allowPrivate: false, allow: [] });
  });

  it('a deployment that allows private addresses passes allowPrivate and allow through', () => {
    const p = policy({ allowPrivate: true });
    expect(
      submission({ urls: ['https://e.com/'], options: { allowPrivate: true } }, p).request.options,
    ).toMatchObject({ allowPrivate: true });
    expect(
      submission({ urls: ['https://e.com/'], options: { allow: ['10.0.0.0/8'] } }, p).request.options,
    ).toMatchObject({ allow: ['10.0.0.0/8'] });
  });

  it('a concurrency below the per-host default, without perHost, lowers perHost with it', () => {
    const { request } = submission({ urls: ['https://e.com/'], options: { concurrency: 3 } });
    expect(request.options).toMatchObject({ concurrency: 3, perHost: 3 });
  });

  it("the lowered perHost follows the deployment's perHost default, not fanout's", () => {
    const defaults = resolveOptions({ perHost: 4 });
    const p = policy({ defaults });
    expect(
      submission({ urls: ['https://e.com/'], options: { concurrency: 6 } }, p).request.options,
    ).toMatchObject({ concurrency: 6, perHost: 4 });
    expect(
      submission({ urls: ['https://e.com/'], options: { concurrency: 2 } }, p).request.options,
    ).toMatchObject({ concurrency: 2, perHost: 2 });
  });

  it('a given perHost is kept as given, and checked against concurrency', () => {
    expect(
      submission({ urls: ['https://e.com/'], options: { concurrency: 6, perHost: 2 } }).request.options,
    ).toMatchObject({ concurrency: 6, perHost: 2 });
    const error = refusalOf({ urls: ['https://e.com/'], options: { concurrency: 3, perHost: 5 } });
    expect(error.message).toBe('options.perHost: must not exceed concurrency (3), got 5');
  });

  it('deployment maxima tighten the ranges the message names', () => {
    const defaults = resolveOptions({ concurrency: 16, retries: 2 });
    const p = policy({ defaults, limits: limitsWithin({ concurrency: 16, retries: 2 }) });
    expect(submission({ urls: ['https://e.com/'] }, p).request.options).toEqual(defaults);
    expect(
      submission({ urls: ['https://e.com/'], options: { concurrency: 16, retries: 2 } }, p).request.options,
    ).toMatchObject({ concurrency: 16, retries: 2 });
    expect(refusalOf({ urls: ['https://e.com/'], options: { concurrency: 17 } }, p).message).toBe(
      'options.concurrency: must be an integer from 1 to 16, got 17',
    );
    expect(refusalOf({ urls: ['https://e.com/'], options: { retries: 3 } }, p).message).toBe(
      'options.retries: must be an integer from 0 to 2, got 3',
    );
  });
});

describe('parseSubmission: accepted requests', () => {
  it('inline urls become a gzipped JSONL list in the bucket, with its sha256 as inputDigest', () => {
    const urls = [
      'https://e.com/a',
      { url: 'https://e.com/b', id: 'b-1' },
      { url: 'https://e.com/c', id: 7, meta: { team: 'x', n: 1 } },
      { url: 'not a url' },
    ];
    const { request, inline } = submission({ urls, jobId: 'job-1' });
    expect(inline).not.toBeNull();
    const text = gunzipSync(inline ?? Buffer.alloc(0)).toString('utf8');
    expect(text).toBe(
      [
        '{"url":"https://e.com/a"}',
        '{"url":"https://e.com/b","id":"b-1"}',
        '{"url":"https://e.com/c","id":7,"meta":{"team":"x","n":1}}',
        '{"url":"not a url"}',
        '',
      ].join('\n'),
    );
    expect(request).toEqual({
      jobId: 'job-1',
      source: 's3://b/jobs/job-1/input.jsonl.gz',
      format: 'jsonl',
      options: resolveOptions(),
      submittedAt: NOW.toISOString(),
      inputDigest: createHash('sha256').update(text).digest('hex'),
    } satisfies JobRequest);
  });

  it('a different inline list gives a different inputDigest; the same list the same', () => {
    const a = submission({ urls: ['https://e.com/a'], jobId: 'j' }).request.inputDigest;
    const again = submission({ urls: ['https://e.com/a'], jobId: 'j' }, policy(), new Date()).request
      .inputDigest;
    const b = submission({ urls: ['https://e.com/b'], jobId: 'j' }).request.inputDigest;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toBe(a);
    expect(b).not.toBe(a);
  });

  it('a source request names the object, format auto by default, and stores nothing inline', () => {
    const { request, inline } = submission({ source: 's3://my-bucket/lists/urls.csv.gz', jobId: 'j2' });
    expect(inline).toBeNull();
    expect(request).toEqual({
      jobId: 'j2',
      source: 's3://my-bucket/lists/urls.csv.gz',
      format: 'auto',
      options: resolveOptions(),
      submittedAt: NOW.toISOString(),
    });
  });

  it.each([['text'], ['csv'], ['jsonl'], ['auto']])('a source with format %s keeps it', (format) => {
    expect(submission({ source: 's3://bucket/k', format }).request.format).toBe(format);
  });

  it('without a jobId, one is made from the submission time', () => {
    const { request } = submission({ urls: ['https://e.com/'] });
    expect(request.jobId).toMatch(/^20260102-030405-[a-z0-9]{6}$/);
  });
});

function deps() {
  const store = new MemoryObjectStore();
  const jobs = new MemoryJobStore();
  const dispatched: string[] = [];
  const startDispatch = async (jobId: string) => {
    dispatched.push(jobId);
  };
  return { store, jobs, dispatched, startDispatch };
}

const storedRequest = (store: MemoryObjectStore, jobId: string) =>
  JSON.parse(store.objects.get(jobKeys.request(jobId))?.toString('utf8') ?? 'null') as JobRequest | null;

describe('submitJob', () => {
  it('claims job.json, writes the inline list, creates the job and starts its dispatch', async () => {
    const d = deps();
    const sub = submission({ urls: ['https://e.com/a', 'https://e.com/b'], jobId: 'j' });
    expect(await submitJob(d, sub)).toEqual({ created: true });
    expect(storedRequest(d.store, 'j')).toEqual(sub.request);
    expect(d.store.objects.get(jobKeys.inlineInput('j'))).toEqual(sub.inline);
    expect(decodeJsonlGz(d.store.objects.get(jobKeys.inlineInput('j')) ?? Buffer.alloc(0))).toEqual([
      { url: 'https://e.com/a' },
      { url: 'https://e.com/b' },
    ]);
    expect(await d.jobs.get('j')).toMatchObject({ status: 'dispatching', createdAt: NOW.toISOString() });
    expect(d.dispatched).toEqual(['j']);
  });

  it('a source submission writes no input object', async () => {
    const d = deps();
    await submitJob(d, submission({ source: 's3://bucket/list.txt', jobId: 'j' }));
    expect(d.store.keys()).toEqual([jobKeys.request('j')]);
    expect(d.dispatched).toEqual(['j']);
  });

  it('the same request again does not start a second dispatch', async () => {
    const d = deps();
    const body = { urls: ['https://e.com/a'], jobId: 'j' };
    await submitJob(d, submission(body));
    // A client retry a second later: same list, options and id, another submission time.
    const again = await submitJob(d, submission(body, policy(), new Date(NOW.getTime() + 1000)));
    expect(again).toEqual({ created: false });
    expect(d.dispatched).toEqual(['j']);
    expect(storedRequest(d.store, 'j')?.submittedAt).toBe(NOW.toISOString());
  });

  it('the same request again, once the job runs, changes nothing', async () => {
    const d = deps();
    const body = { source: 's3://bucket/list.txt', jobId: 'j' };
    await submitJob(d, submission(body));
    await d.jobs.setTotal('j', { chunks: 2, accepted: 10, invalid: 0 });
    expect(await submitJob(d, submission(body))).toEqual({ created: false });
    expect(d.dispatched).toEqual(['j']);
    expect((await d.jobs.get('j'))?.status).toBe('running');
  });

  it('claimed but never created (crash between claim and start): the same request starts it', async () => {
    const d = deps();
    const sub = submission({ urls: ['https://e.com/a'], jobId: 'j' });
    // The first attempt wrote job.json and died.
    await d.store.putIfAbsent(jobKeys.request('j'), Buffer.from(JSON.stringify(sub.request)));
    expect(await submitJob(d, sub)).toEqual({ created: false });
    expect(d.dispatched).toEqual(['j']);
    expect(d.store.objects.get(jobKeys.inlineInput('j'))).toEqual(sub.inline);
    expect((await d.jobs.get('j'))?.status).toBe('dispatching');
  });

  it('a start that failed (the API answered 500, "safe to retry") is started by the retry', async () => {
    const d = deps();
    const sub = submission({ urls: ['https://e.com/a'], jobId: 'j' });
    const failing = {
      ...d,
      startDispatch: async () => {
        throw new Error('Rate exceeded');
      },
    };
    await expect(submitJob(failing, sub)).rejects.toThrow('Rate exceeded');
    await submitJob(d, sub);
    expect(d.dispatched).toEqual(['j']);
  });

  it.each([
    ['another list', { urls: ['https://e.com/other'] }],
    ['other options', { urls: ['https://e.com/a'], options: { retries: 0 } }],
    ['a source instead', { source: 's3://bucket/list.txt' }],
  ])('%s under the same jobId → 409 JOB_EXISTS, and the stored input is kept', async (_name, body) => {
    const d = deps();
    const first = submission({ urls: ['https://e.com/a'], jobId: 'j' });
    await submitJob(d, first);
    const before = new Map(d.store.objects);

    const error = await submitJob(d, submission({ ...body, jobId: 'j' })).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ status: 409, code: 'JOB_EXISTS' });
    expect((error as Error).message).toContain('job j already exists');
    expect(d.store.objects).toEqual(before);
    expect(decodeJsonlGz(d.store.objects.get(jobKeys.inlineInput('j')) ?? Buffer.alloc(0))).toEqual([
      { url: 'https://e.com/a' },
    ]);
    expect(d.dispatched).toEqual(['j']);
  });
});
