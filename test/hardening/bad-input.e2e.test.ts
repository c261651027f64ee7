/**
 * Issue 5, bad input: every malformed list, request or option gets a clear error and
 * costs nothing else (no fetch, no job written, no dispatch, bounded memory).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../lambda/cli/exit-codes.js';
import { INPUT_LIMITS } from '../../lambda/core/defaults.js';
import type { InputEvent } from '../../lambda/core/input/input-event.js';
import { API_LIMITS } from '../../lambda/core/job/submit.js';
import { OPTION_LIMITS } from '../../lambda/core/options.js';
import { makeApiHandler } from '../../lambda/handlers/api.js';
import { setLogSink } from '../../lambda/handlers/log.js';
import { garbage, inputEvents } from '../core/input/helpers.js';
import { makeApiEvent } from '../helpers/api-events.js';
import { ensureCliBuilt, jobPaths, readJob, runCli } from '../helpers/cli-harness.js';
import { type MemoryServices, memoryServices } from '../helpers/memory-services.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { heldBytes, MiB, settledBytes } from './fixtures/memory.js';

let tmp: string;
let server: TargetServer;

beforeAll(async () => {
  ensureCliBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fanout-bad-input-'));
  server = await startTargetServer({}, { fallback: (_req, res) => res.end('ok') });
});
afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const TEN_MB = 10 * 1000 * 1000;
/** The start of a PNG: its signature, then the IHDR chunk, whose length field holds NUL bytes. */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
  Buffer.from('IHDR'),
  garbage(4096, 11),
]);
let runs = 0;

/** Writes `content` as an input file and runs the built CLI on it; returns the run and its job's paths. */
async function runOn(name: string, content: string | Buffer, flags: string[] = []) {
  runs += 1;
  const jobId = `bad-${runs}`;
  const input = join(tmp, name);
  writeFileSync(input, content);
  const out = join(tmp, `out-${runs}`);
  const hitsBefore = server.requests.length;
  const run = await runCli(
    ['run', input, '--out', out, '--job-id', jobId, '-q', '--allow', '127.0.0.1/32', ...flags],
    { timeoutMs: 60_000 },
  );
  expect(run.timedOut).toBe(false);
  return { run, out, jobId, paths: jobPaths(out, jobId), fetched: () => server.requests.length - hitsBefore };
}

describe('input files the CLI cannot use at all: exit 3, a message, nothing written or fetched', () => {
  it('an empty file', async () => {
    const { run, out, fetched } = await runOn('empty.txt', '');
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toMatch(/the input holds no URLs/);
    expect(run.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(fetched()).toBe(0);
  });

  it('a file of blank lines and comments only', async () => {
    const { run, out } = await runOn('blank.txt', '\n\n# nothing here\n   \n\r\n');
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toMatch(/the input holds no URLs/);
    expect(existsSync(out)).toBe(false);
  });

  it('a CSV without a url column names the columns it found', async () => {
    const csv = `link,name\n${server.url('/a')},a\n${server.url('/b')},b\n`;
    const { run, out, fetched } = await runOn('no-url-column.csv', csv);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toContain('CSV header on line 1 has no url column; found: "link", "name"');
    expect(existsSync(out)).toBe(false);
    expect(fetched()).toBe(0);
  });

  it.each<[string, Buffer, string[]]>([
    ['image.png', PNG, []],
    ['random.bin', garbage(256 * 1024, 42), []],
    ['random.txt', garbage(4096, 5), ['--format', 'text']],
    ['random.csv.gz', gzipSync(garbage(64 * 1024, 6)), []],
  ])(
    'a binary file (%s) is not a URL list: one line naming it, nothing written',
    async (name, bytes, flags) => {
      const { run, out, fetched } = await runOn(name, bytes, flags);
      expect(run.code).toBe(EXIT.INPUT);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^fanout: .+ is not a URL list: it looks binary \(.+\); fanout reads UTF-8 text/,
      );
      expect(lines[0]).toContain(join(tmp, name));
      expect(run.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
      expect(fetched()).toBe(0);
    },
  );

  it('binary bytes on stdin: exit 3, the same line naming stdin', async () => {
    const out = join(tmp, 'out-stdin-binary');
    const run = await runCli(['run', '-', '--out', out, '-q'], { stdin: PNG, timeoutMs: 60_000 });
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr.trim()).toMatch(
      /^fanout: stdin is not a URL list: it looks binary \(a NUL byte at byte 8\)/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('binary garbage that starts like gzip is unreadable', async () => {
    const bytes = Buffer.concat([Buffer.from([0x1f, 0x8b]), garbage(64 * 1024, 7)]);
    const { run, out } = await runOn('fake.gz', bytes);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toMatch(/input starts like gzip but cannot be decompressed/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('bad lines are rejected one by one; the good ones still run', () => {
  it('binary garbage after a text start: every garbage line is rejected with its reason', async () => {
    const start = '# a list whose end got overwritten\n'.repeat(300); // past the 8 KiB the binary check reads
    const bytes = Buffer.concat([Buffer.from(start), garbage(256 * 1024, 42)]);
    const { run, out, jobId, fetched } = await runOn('garbage.txt', bytes);
    expect(run.code).toBe(EXIT.COMPLETED_WITH_ERRORS);
    const job = readJob(out, jobId);
    expect(job.results).toEqual([]);
    expect(job.invalid.length).toBeGreaterThan(100);
    expect(job.manifest).toMatchObject({ accepted: 0, invalid: job.invalid.length });
    for (const line of job.invalid) {
      expect(['INVALID_ENCODING', 'INVALID_URL', 'UNSUPPORTED_SCHEME']).toContain(line.code);
      expect(line.raw.length).toBeLessThanOrEqual(200);
    }
    expect(fetched()).toBe(0);
  });

  it('a 10 MB single line is LINE_TOO_LONG, reported by its start only; the next line is fetched', async () => {
    const long = `${server.url('/')}${'a'.repeat(TEN_MB)}`;
    const { run, out, jobId, fetched } = await runOn('long-line.txt', `${long}\n${server.url('/after')}\n`);
    expect(run.code).toBe(EXIT.COMPLETED_WITH_ERRORS);
    const job = readJob(out, jobId);
    expect(job.invalid).toHaveLength(1);
    expect(job.invalid[0]).toMatchObject({ line: 1, code: 'LINE_TOO_LONG' });
    expect(job.invalid[0]?.raw.length).toBeLessThanOrEqual(200);
    expect(job.results).toMatchObject([{ line: 2, status: 200, error: null }]);
    expect(fetched()).toBe(1);
  });

  it('invalid UTF-8 lines are INVALID_ENCODING; the valid lines around them are fetched', async () => {
    const lines = [
      Buffer.from(`${server.url('/one')}\n`),
      Buffer.concat([Buffer.from(server.url('/bad-')), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]),
      Buffer.concat([Buffer.from(server.url('/overlong-')), Buffer.from([0xc0, 0xaf]), Buffer.from('\n')]),
      Buffer.concat([
        Buffer.from(server.url('/surrogate-')),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('\n'),
      ]),
      Buffer.concat([Buffer.from(server.url('/cut-')), Buffer.from([0xe2, 0x82]), Buffer.from('\n')]),
      Buffer.from(`${server.url('/two')}\n`),
    ];
    const { run, out, jobId, fetched } = await runOn('bad-utf8.txt', Buffer.concat(lines));
    expect(run.code).toBe(EXIT.COMPLETED_WITH_ERRORS);
    const job = readJob(out, jobId);
    expect(job.invalid.map((l) => [l.line, l.code])).toEqual([
      [2, 'INVALID_ENCODING'],
      [3, 'INVALID_ENCODING'],
      [4, 'INVALID_ENCODING'],
      [5, 'INVALID_ENCODING'],
    ]);
    expect(job.results.map((r) => [r.line, r.status])).toEqual([
      [1, 200],
      [6, 200],
    ]);
    expect(fetched()).toBe(2);
  });

  it('JSONL with wrong types: each line rejected with its reason, the valid line fetched with its id', async () => {
    const ok = server.url('/jsonl-ok');
    const jsonl = [
      JSON.stringify({ url: 42 }),
      JSON.stringify({ url: ok, id: true }),
      JSON.stringify({ url: ok, meta: 'x' }),
      JSON.stringify([ok]),
      '{"url": "unterminated',
      JSON.stringify({ url: ok, id: 7, meta: { team: 'web' } }),
    ].join('\n');
    const { run, out, jobId, fetched } = await runOn('wrong-types.jsonl', `${jsonl}\n`);
    expect(run.code).toBe(EXIT.COMPLETED_WITH_ERRORS);
    const job = readJob(out, jobId);
    expect(job.invalid.map((l) => [l.line, l.code])).toEqual([
      [1, 'INVALID_FIELD'],
      [2, 'INVALID_FIELD'],
      [3, 'INVALID_FIELD'],
      [4, 'MISSING_URL'],
      [5, 'INVALID_JSON'],
    ]);
    expect(job.results).toMatchObject([{ line: 6, id: '7', meta: { team: 'web' }, status: 200 }]);
    expect(fetched()).toBe(1);
  });
});

/** Parses `data` (given in one chunk) as `format` and returns the events. */
async function parseAll(data: string, format: 'jsonl' | 'text' | 'csv'): Promise<InputEvent[]> {
  const events: InputEvent[] = [];
  const source = (async function* () {
    yield Buffer.from(data);
  })();
  for await (const event of inputEvents(source, { format })) events.push(event);
  return events;
}

describe('JSONL fields of the wrong type, line by line', () => {
  const OK = 'https://example.com/';
  it.each<[string, string, RegExp]>([
    [JSON.stringify({ url: 42 }), 'INVALID_FIELD', /url must be a string/],
    [JSON.stringify({ url: null }), 'INVALID_FIELD', /url must be a string/],
    [JSON.stringify({ url: true }), 'INVALID_FIELD', /url must be a string/],
    [JSON.stringify({ url: [OK] }), 'INVALID_FIELD', /url must be a string/],
    [JSON.stringify({ url: { href: OK } }), 'INVALID_FIELD', /url must be a string/],
    [JSON.stringify({ url: OK, id: true }), 'INVALID_FIELD', /id must be a string or a number/],
    [JSON.stringify({ url: OK, id: null }), 'INVALID_FIELD', /id must be a string or a number/],
    [JSON.stringify({ url: OK, id: { n: 1 } }), 'INVALID_FIELD', /id must be a string or a number/],
    [`{"url": "${OK}", "id": 1e400}`, 'INVALID_FIELD', /id must be a string or a number/],
    [JSON.stringify({ url: OK, meta: 'team=web' }), 'INVALID_FIELD', /meta must be an object/],
    [JSON.stringify({ url: OK, meta: ['web'] }), 'INVALID_FIELD', /meta must be an object/],
    [JSON.stringify({ url: OK, meta: 3 }), 'INVALID_FIELD', /meta must be an object/],
    [JSON.stringify([OK]), 'MISSING_URL', /not a JSON object/],
    [JSON.stringify(OK), 'MISSING_URL', /not a JSON object/],
    ['null', 'MISSING_URL', /not a JSON object/],
    [JSON.stringify({ URL: OK }), 'MISSING_URL', /no url/],
    [JSON.stringify({ url: '   ' }), 'MISSING_URL', /url is empty/],
    ['{"url": "https://example.com/"', 'INVALID_JSON', /not valid JSON/],
    ["{'url': 'https://example.com/'}", 'INVALID_JSON', /not valid JSON/],
    [JSON.stringify({ url: 'ftp://example.com/' }), 'UNSUPPORTED_SCHEME', /scheme ftp/],
  ])('%s → %s', async (line, code, message) => {
    const events = await parseAll(`${line}\n`, 'jsonl');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'invalid', invalid: { line: 1, code } });
    expect(events[0]?.kind === 'invalid' && events[0].invalid.message).toMatch(message);
  });
});

describe('a 10 MB line costs its first 64 KiB, not 10 MB', () => {
  it('streamed in 64 KiB pieces, it is one LINE_TOO_LONG and the parser holds little while reading it', async () => {
    const piece = Buffer.alloc(64 * 1024, 'a');
    let peak = 0;
    const source = (async function* () {
      yield Buffer.from('https://example.com/');
      for (let sent = 0; sent < TEN_MB; sent += piece.length) {
        yield piece;
        peak = Math.max(peak, heldBytes());
      }
      yield Buffer.from('\nhttps://example.com/next\n');
    })();
    const before = await settledBytes();
    const events: InputEvent[] = [];
    for await (const event of inputEvents(source, { format: 'text' })) events.push(event);
    expect(events.map((e) => (e.kind === 'url' ? e.item.url : e.invalid.code))).toEqual([
      'LINE_TOO_LONG',
      'https://example.com/next',
    ]);
    expect(events[0]?.kind === 'invalid' && events[0].invalid.message).toContain(
      String(INPUT_LIMITS.maxLineBytes),
    );
    // Holding the line would take 10 MB (20 MB as a string); allow garbage, not the line.
    expect(peak - before).toBeLessThan(8 * MiB);
  });
});

describe('the jobs API: a body over the limit, and options out of range', () => {
  let services: MemoryServices;
  beforeEach(() => {
    services = memoryServices();
    setLogSink(() => {});
    return () => setLogSink();
  });

  async function post(body: string, base64 = false) {
    const result = await makeApiHandler(() => services)(makeApiEvent('POST', '/jobs', { body, base64 }));
    return {
      status: result.statusCode,
      body: JSON.parse(result.body) as { error?: { code: string; message: string } },
    };
  }

  /** Nothing was stored, no job item made, no dispatch started. */
  async function expectNothingDone(jobId: string) {
    expect(services.store.objects.size).toBe(0);
    expect(await services.jobs.get(jobId)).toBeFalsy();
    expect(services.dispatches).toEqual([]);
    expect(services.sent).toEqual([]);
  }

  it.each([
    ['as text', false],
    ['base64-encoded', true],
  ])('a body over %s bytes (%s) → 413 REQUEST_TOO_LARGE, nothing done', async (_how, base64) => {
    const urls = Array.from({ length: 9000 }, (_, i) => `https://example.com/${i}/${'p'.repeat(600)}`);
    const body = JSON.stringify({ urls, jobId: 'too-big' });
    expect(Buffer.byteLength(body)).toBeGreaterThan(API_LIMITS.maxRequestBytes);
    const answer = await post(body, base64);
    expect(answer.status).toBe(413);
    expect(answer.body.error?.code).toBe('REQUEST_TOO_LARGE');
    expect(answer.body.error?.message).toContain(`the limit is ${API_LIMITS.maxRequestBytes}`);
    await expectNothingDone('too-big');
  });

  const range = (name: keyof typeof OPTION_LIMITS) =>
    `from ${OPTION_LIMITS[name].min} to ${OPTION_LIMITS[name].max}`;

  it.each<[keyof typeof OPTION_LIMITS, unknown]>([
    ['concurrency', 0],
    ['concurrency', 5000],
    ['perHost', 0],
    ['timeoutMs', 50],
    ['timeoutMs', 1_000_000_000],
    ['connectTimeoutMs', 99],
    ['headersTimeoutMs', 300_001],
    ['bodyTimeoutMs', -1],
    ['retries', 11],
    ['retries', -1],
    ['retries', 1.5],
    ['retries', '3'],
    ['retries', null],
    ['backoffBaseMs', -5],
    ['maxRetryAfterMs', 600_001],
    ['maxRedirects', 31],
    ['maxBodyBytes', 2 * 1024 * 1024 * 1024],
    ['inlineMaxBytes', 300_000],
    ['chunkSize', 0],
    ['chunkSize', 10_001],
  ])('options.%s = %j → 400 naming the option and its range', async (name, value) => {
    const answer = await post(
      JSON.stringify({ urls: ['https://example.com/'], jobId: 'j', options: { [name]: value } }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('BAD_REQUEST');
    expect(answer.body.error?.message).toMatch(
      new RegExp(`^options\\.${name}: must be an integer ${range(name)}`),
    );
    await expectNothingDone('j');
  });

  it.each<[string, unknown, string]>([
    ['body', 'everything', 'options.body: must be one of none, hash, inline, store, warc'],
    ['method', 'POST', 'options.method: must be one of GET, HEAD'],
    ['userAgent', '', 'options.userAgent: must be a non-empty string'],
    ['dedupe', 'yes', 'options.dedupe: must be true or false'],
    ['turbo', true, 'options.turbo: unknown option'],
  ])('options.%s = %j → 400: %s', async (name, value, message) => {
    const answer = await post(
      JSON.stringify({ urls: ['https://example.com/'], jobId: 'j', options: { [name]: value } }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain(message);
    await expectNothingDone('j');
  });

  it('perHost above concurrency → 400 naming both', async () => {
    const answer = await post(
      JSON.stringify({
        urls: ['https://example.com/'],
        jobId: 'j',
        options: { concurrency: 10, perHost: 20 },
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toBe('options.perHost: must not exceed concurrency (10), got 20');
    await expectNothingDone('j');
  });

  it('several bad options → one 400 naming every one', async () => {
    const answer = await post(
      JSON.stringify({
        urls: ['https://example.com/'],
        jobId: 'j',
        options: { retries: 99, maxRedirects: -1 },
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain(
      `options.retries: must be an integer ${range('retries')}, got 99`,
    );
    expect(answer.body.error?.message).toContain(
      `options.maxRedirects: must be an integer ${range('maxRedirects')}, got -1`,
    );
    await expectNothingDone('j');
  });

  it.each([['"options"'], ['[1, 2]'], ['null'], ['{"urls": "https://example.com/"}'], ['{"urls": []}']])(
    'a malformed body %s → 400, nothing done',
    async (body) => {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('BAD_REQUEST');
      expect(services.store.objects.size).toBe(0);
      expect(services.dispatches).toEqual([]);
    },
  );
});

describe('CLI flags out of range: exit 2 naming the flag and its range, nothing done', () => {
  it.each([
    [['--concurrency', '0'], '--concurrency: must be an integer from 1 to 900, got 0'],
    [['--retries', '11'], '--retries: must be an integer from 0 to 10, got 11'],
    [['--max-redirects', '31'], '--max-redirects: must be an integer from 0 to 30, got 31'],
    [['--timeout', '50ms'], '--timeout: must be an integer from 100 to 900000 ms, got 50'],
    [['--per-host', '20', '-c', '10'], '--per-host: must not exceed concurrency (10), got 20'],
  ])('%j', async (flags, message) => {
    const { run, out, fetched } = await runOn('valid.txt', `${server.url('/never-fetched')}\n`, flags);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toContain(message);
    expect(existsSync(out)).toBe(false);
    expect(fetched()).toBe(0);
  });
});
