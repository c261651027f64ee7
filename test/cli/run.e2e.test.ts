/**
 * End-to-end: the built `fanout run` against a real HTTP server on 127.0.0.1, checking
 * the job directory it leaves against what the generated input says it must hold.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../lambda/core/options.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { toFailedLine } from '../../lambda/core/record.js';
import {
  type CliRun,
  ensureCliBuilt,
  type JobOutput,
  jobPaths,
  readJob,
  runCli,
} from '../helpers/cli-harness.js';
import { mulberry32 } from '../helpers/prng.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

const LINES = 10_000;
const RUN_TIMEOUT_MS = 120_000;

/** What one generated input line must turn into. */
type Expected =
  | { kind: 'url'; url: string; route: Route }
  | { kind: 'invalid'; code: string }
  | { kind: 'skip' };

type Route = 'ok' | 'missing' | 'redirect' | 'slow' | 'error' | 'destroy' | 'refused';

const pageBody = (key: string) => `page ${key}\n`;

function handle(hits: Map<string, number>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const { pathname } = new URL(req.url ?? '/', 'http://target');
    const [, route = '', key = ''] = pathname.split('/');
    hits.set(route, (hits.get(route) ?? 0) + 1);
    const text = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    switch (route) {
      case 'ok':
        return text(200, pageBody(decodeURIComponent(key)));
      case 'missing':
        return text(404, 'not found\n');
      case 'error':
        return text(500, 'always broken\n');
      case 'redirect':
        res.writeHead(302, { location: `/ok/${key}` });
        return res.end();
      case 'slow': {
        const timer = setTimeout(() => text(200, pageBody(`slow ${key}`)), 20);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'destroy':
        return req.socket.destroy();
      default:
        return text(404, 'no such route\n');
    }
  };
}

/** Generates a mixed input; returns its bytes and, per physical line, what it must become. */
function generateInput(origin: string, lines: number, seed: number) {
  const rand = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const expected: Expected[] = [];
  const chunks: Buffer[] = [];
  const validSoFar: { raw: string; url: string; route: Route }[] = [];
  const hot = `${origin}/ok/hot`;

  const urlFor = (route: Route, key: number): string => {
    switch (route) {
      case 'refused':
        return `http://127.0.0.1:1/refused/${key}`;
      case 'error':
        return `${origin}/error/${key}`;
      default:
        return `${origin}/${route}/${key}`;
    }
  };
  const invalidLines: [string, string][] = [
    ['not-a-url', 'INVALID_URL'],
    ['not a url', 'INVALID_URL'],
    ['http://', 'INVALID_URL'],
    [`${origin}/ok/with space`, 'INVALID_URL'],
    [`${origin}/ok/with\ttab`, 'INVALID_URL'],
    ['ftp://example.com/file.txt', 'UNSUPPORTED_SCHEME'],
    ['javascript:alert(1)', 'UNSUPPORTED_SCHEME'],
    ['mailto:someone@example.com', 'UNSUPPORTED_SCHEME'],
    ['data:text/plain,hello', 'UNSUPPORTED_SCHEME'],
    [`${origin}/ok/${'a'.repeat(9000)}`, 'URL_TOO_LONG'],
  ];

  for (let n = 1; n <= lines; n += 1) {
    const r = rand();
    let raw: string | Buffer;
    let exp: Expected;
    if (n === lines) {
      // A content line last, so manifest.lines is the physical line count either way.
      raw = hot;
      exp = { kind: 'url', url: hot, route: 'ok' };
    } else if (n === 4242) {
      raw = `${origin}/ok/${'x'.repeat(70_000)}`;
      exp = { kind: 'invalid', code: 'LINE_TOO_LONG' };
    } else if (n === 777) {
      raw = Buffer.from([0x68, 0x74, 0x74, 0x70, 0xff, 0xfe, 0x2f]);
      exp = { kind: 'invalid', code: 'INVALID_ENCODING' };
    } else if (r < 0.4) {
      const route = pick(['ok', 'ok', 'ok', 'missing', 'redirect', 'slow'] as const);
      raw = urlFor(route, Math.floor(rand() * 5000));
      exp = { kind: 'url', url: raw, route };
    } else if (r < 0.45) {
      // Padded with whitespace: accepted, trimmed.
      const url = urlFor('ok', Math.floor(rand() * 5000));
      raw = `  ${url}\t `;
      exp = { kind: 'url', url, route: 'ok' };
    } else if (r < 0.47) {
      const url = `${origin}/ok/caf\u00e9-${n}#section`;
      raw = url;
      exp = { kind: 'url', url, route: 'ok' };
    } else if (r < 0.5) {
      const route = pick(['error', 'destroy', 'refused'] as const);
      raw = urlFor(route, n);
      exp = { kind: 'url', url: raw, route };
    } else if (r < 0.58) {
      raw = hot;
      exp = { kind: 'url', url: hot, route: 'ok' };
    } else if (r < 0.7 && validSoFar.length > 0) {
      const earlier = pick(validSoFar);
      raw = earlier.raw;
      exp = { kind: 'url', url: earlier.url, route: earlier.route };
    } else if (r < 0.8) {
      const [text, code] = pick(invalidLines);
      raw = text;
      exp = { kind: 'invalid', code };
    } else if (r < 0.9) {
      raw = pick(['', '   ', '\t', ' \t ']);
      exp = { kind: 'skip' };
    } else {
      raw = pick([`# comment ${n}`, `   # indented comment ${n}`, '#', `#${origin}/ok/commented-out`]);
      exp = { kind: 'skip' };
    }
    if (exp.kind === 'url' && typeof raw === 'string')
      validSoFar.push({ raw, url: exp.url, route: exp.route });
    expected.push(exp);
    chunks.push(typeof raw === 'string' ? Buffer.from(raw) : raw);
    chunks.push(Buffer.from(rand() < 0.05 ? '\r\n' : '\n'));
  }
  return { bytes: Buffer.concat(chunks), expected };
}

/** Counts of `key` over `items`, as a plain object with sorted keys. */
function histogram<T>(items: readonly T[], key: (item: T) => string | null): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== null) counts[k] = (counts[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** `[line, url]` pairs, sorted by line: a multiset that compares with toEqual. */
const linesAndUrls = (items: readonly { line: number; url: string }[]) =>
  items.map((i) => [i.line, i.url] as const).sort((a, b) => a[0] - b[0]);

function expectCliOk(run: CliRun, code: number): void {
  expect(run.timedOut, 'the CLI did not finish in time').toBe(false);
  expect(run.code, `exit code; stderr:\n${run.stderr}`).toBe(code);
}

let server: TargetServer;
const hits = new Map<string, number>();
let tmp: string;

beforeAll(async () => {
  ensureCliBuilt();
  server = await startTargetServer({}, { fallback: handle(hits), keepAliveTimeoutMs: 60_000 });
  tmp = mkdtempSync(join(tmpdir(), 'fanout-e2e-'));
});

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('fanout run on a 10,000-line mixed input', () => {
  let generated: ReturnType<typeof generateInput>;
  let run: CliRun;
  let job: JobOutput;
  const out = () => join(tmp, 'out-big');

  beforeAll(async () => {
    generated = generateInput(server.origin, LINES, 20_251_125);
    const input = join(tmp, 'mixed.txt');
    writeFileSync(input, generated.bytes);
    hits.clear();
    run = await runCli(
      [
        'run',
        input,
        '--allow',
        '127.0.0.1/32',
        '--out',
        out(),
        '--job-id',
        'e2e',
        // Each route's own outcome: a refused host would otherwise end as ROBOTS_DISALLOWED.
        '--robots',
        'ignore',
        '--retries',
        '1',
        '--concurrency',
        '64',
        '--per-host',
        '64',
        '--json',
      ],
      { timeoutMs: RUN_TIMEOUT_MS },
    );
    expectCliOk(run, 1);
    job = readJob(out(), 'e2e');
  }, RUN_TIMEOUT_MS + 10_000);

  const expectedUrls = () =>
    generated.expected.flatMap((e, i) =>
      e.kind === 'url' ? [{ line: i + 1, url: e.url, route: e.route }] : [],
    );
  const expectedInvalid = () =>
    generated.expected.flatMap((e, i) => (e.kind === 'invalid' ? [{ line: i + 1, code: e.code }] : []));

  it('generated a mix worth testing', () => {
    const routes = histogram(expectedUrls(), (e) => e.route);
    for (const route of ['ok', 'missing', 'redirect', 'slow', 'error', 'destroy', 'refused']) {
      expect(routes[route], route).toBeGreaterThan(10);
    }
    expect(expectedInvalid().length).toBeGreaterThan(500);
    expect(generated.expected.filter((e) => e.kind === 'skip').length).toBeGreaterThan(500);
    const hot = expectedUrls().filter((e) => e.url.endsWith('/ok/hot'));
    expect(hot.length).toBeGreaterThan(100);
  });

  it('exits 1 and prints summary.json with --json', () => {
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual(job.summary);
    expect(job.summary.status).toBe('completed_with_errors');
  });

  it('holds every accepted line exactly once in results.jsonl.gz, duplicates included', () => {
    expect(linesAndUrls(job.results)).toEqual(linesAndUrls(expectedUrls()));
    expect(new Set(job.results.map((r) => r.line)).size).toBe(job.results.length);
  });

  it('writes results in input order', () => {
    const lines = job.results.map((r) => r.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('reports every invalid line with its code, and nothing else', () => {
    const invalid = job.invalid.map((i) => ({ line: i.line, code: i.code })).sort((a, b) => a.line - b.line);
    expect(invalid).toEqual(expectedInvalid());
    for (const i of job.invalid) {
      expect(i.message.length).toBeGreaterThan(0);
      expect(i.raw.length).toBeLessThanOrEqual(200);
    }
  });

  it('leaves blank and comment lines out of both results and invalid lines', () => {
    const skipped = new Set(generated.expected.flatMap((e, i) => (e.kind === 'skip' ? [i + 1] : [])));
    expect(job.results.filter((r) => skipped.has(r.line))).toEqual([]);
    expect(job.invalid.filter((i) => skipped.has(i.line))).toEqual([]);
  });

  it('gives each route its outcome', () => {
    const byLine = new Map(expectedUrls().map((e) => [e.line, e]));
    const problems: string[] = [];
    const want = (ok: boolean, record: ResultRecord, what: string) => {
      if (!ok && problems.length < 20) problems.push(`line ${record.line} ${record.url}: ${what}`);
    };
    for (const record of job.results) {
      const route = byLine.get(record.line)?.route;
      const { error, status } = record;
      switch (route) {
        case 'ok':
        case 'slow':
          want(error === null && status === 200, record, `want 200, got ${status} ${error?.code}`);
          want(record.attempts === 1 && record.redirects === 0, record, 'one attempt, no redirect');
          want(/^[0-9a-f]{64}$/.test(record.sha256 ?? ''), record, 'sha256 of the body');
          want(record.contentType === 'text/plain; charset=utf-8', record, 'content type');
          break;
        case 'missing':
          want(error === null && status === 404 && record.attempts === 1, record, '404 without retry');
          break;
        case 'redirect':
          want(error === null && status === 200 && record.redirects === 1, record, 'followed one redirect');
          want(record.finalUrl === record.url.replace('/redirect/', '/ok/'), record, 'final url');
          break;
        case 'error':
          want(
            error?.code === 'HTTP_STATUS' && status === 500,
            record,
            `HTTP_STATUS 500, got ${error?.code}`,
          );
          want(record.attempts === 2, record, `2 attempts, got ${record.attempts}`);
          break;
        case 'destroy':
          want(error?.code === 'CONNECTION_RESET' && status === null, record, `reset, got ${error?.code}`);
          want(record.attempts === 2, record, `2 attempts, got ${record.attempts}`);
          break;
        case 'refused':
          want(error?.code === 'CONNECTION_REFUSED', record, `refused, got ${error?.code}`);
          want(record.attempts === 2, record, `2 attempts, got ${record.attempts}`);
          break;
        default:
          want(false, record, 'not an expected url line');
      }
    }
    expect(problems).toEqual([]);
  });

  it('hit the always-failing routes exactly once per attempt (no hidden retries)', () => {
    const routes = histogram(expectedUrls(), (e) => e.route);
    expect(hits.get('error')).toBe(2 * (routes.error ?? 0));
    expect(hits.get('destroy')).toBe(2 * (routes.destroy ?? 0));
  });

  it('keeps summary.json consistent with the records', () => {
    const r = job.results;
    const { summary } = job;
    expect(summary.jobId).toBe('e2e');
    expect(summary.urls).toEqual({
      accepted: r.length,
      invalid: expectedInvalid().length,
      duplicates: 0,
      ok: r.filter((x) => x.error === null).length,
      failed: r.filter((x) => x.error !== null).length,
      cancelled: 0,
    });
    expect(summary.statusCodes).toEqual(histogram(r, (x) => (x.status === null ? null : String(x.status))));
    expect(summary.statusClasses).toEqual(
      histogram(r, (x) => (x.status === null ? null : `${String(x.status)[0]}xx`)),
    );
    expect(summary.errors).toEqual(histogram(r, (x) => x.error?.code ?? null));
    expect(summary.bytes).toBe(r.reduce((sum, x) => sum + x.bytes, 0));
    expect(summary.attempts).toBe(r.reduce((sum, x) => sum + x.attempts, 0));
    expect(summary.retried).toBe(r.filter((x) => x.attempts > 1).length);
    expect(summary.redirects).toBe(r.reduce((sum, x) => sum + x.redirects, 0));
    expect(summary.latencyMs.count).toBe(r.length);
    expect(summary.ttfbMs.count).toBe(r.filter((x) => x.timings.ttfbMs !== null).length);
    expect(summary.chunks).toBe(job.manifest.chunks);
  });

  it('puts exactly the failed records in failed.jsonl, resubmittable', () => {
    const failedRecords = job.results.filter((x) => x.error !== null);
    expect(failedRecords.length).toBeGreaterThan(0);
    expect(job.failed).toEqual(failedRecords.map((x) => toFailedLine(x)));
  });

  it('writes the manifest, one part per chunk, and _SUCCESS', () => {
    const contentLines = generated.expected.filter((e) => e.kind !== 'skip').length;
    const { manifest } = job;
    expect(manifest.accepted + manifest.invalid).toBe(contentLines);
    expect(manifest.accepted).toBe(expectedUrls().length);
    expect(manifest.invalid).toBe(expectedInvalid().length);
    expect(manifest.lines).toBe(LINES);
    expect(manifest.chunkSize).toBe(DEFAULT_OPTIONS.chunkSize);
    expect(manifest.chunks).toBe(Math.ceil(manifest.accepted / DEFAULT_OPTIONS.chunkSize));
    expect(job.parts).toEqual(
      Array.from({ length: manifest.chunks }, (_, i) => `${String(i).padStart(8, '0')}.jsonl.gz`),
    );
    expect(job.success).toBe(true);
    expect(job.request.options).toMatchObject({
      retries: 1,
      concurrency: 64,
      perHost: 64,
      allow: ['127.0.0.1/32'],
      dedupe: false,
    });
  });
});

describe('fanout run, smaller jobs', () => {
  it('--dedupe skips repeated URLs, listed as DUPLICATE of their first line: no error, exit 0', async () => {
    const o = server.origin;
    const input = join(tmp, 'dupes.txt');
    writeFileSync(
      input,
      [`${o}/ok/a`, `${o}/ok/b`, `${o}/ok/a`, '', `  ${o}/ok/a  `, `${o}/ok/b`, ''].join('\n'),
    );
    const out = join(tmp, 'out-dedupe');
    const run = await runCli([
      'run',
      input,
      '--allow',
      '127.0.0.1/32',
      '--out',
      out,
      '--job-id',
      'd',
      '--dedupe',
      '-q',
    ]);
    expectCliOk(run, 0);
    const job = readJob(out, 'd');
    expect(linesAndUrls(job.results)).toEqual([
      [1, `${o}/ok/a`],
      [2, `${o}/ok/b`],
    ]);
    expect(job.invalid.map((i) => [i.line, i.code, i.message])).toEqual([
      [3, 'DUPLICATE', 'duplicate of the URL on line 1'],
      [5, 'DUPLICATE', 'duplicate of the URL on line 1'],
      [6, 'DUPLICATE', 'duplicate of the URL on line 2'],
    ]);
    expect(job.summary.status).toBe('succeeded');
    expect(job.summary.urls).toEqual({
      accepted: 2,
      invalid: 0,
      duplicates: 3,
      ok: 2,
      failed: 0,
      cancelled: 0,
    });
    expect(run.stdout).toBe('');
  });

  it("reads the list from stdin with '-'", async () => {
    const o = server.origin;
    const out = join(tmp, 'out-stdin');
    const stdin = `# from a pipe\n${o}/ok/1\n${o}/missing/2\r\n\n${o}/redirect/3\n`;
    const run = await runCli(
      ['run', '-', '--allow', '127.0.0.1/32', '--out', out, '--job-id', 's', '--json'],
      {
        stdin,
      },
    );
    expectCliOk(run, 0);
    const job = readJob(out, 's');
    expect(job.request.source).toBe('-');
    expect(job.results.map((r) => [r.line, r.url, r.status, r.error])).toEqual([
      [2, `${o}/ok/1`, 200, null],
      [3, `${o}/missing/2`, 404, null],
      [5, `${o}/redirect/3`, 200, null],
    ]);
    expect(job.invalid).toEqual([]);
    expect(JSON.parse(run.stdout)).toEqual(job.summary);
  });

  it('reads a gzip-compressed CSV and carries id and metadata into records', async () => {
    const o = server.origin;
    const csv = [
      'id,url,label,group',
      `a1,${o}/ok/1,first,"x,y"`,
      `a2,${o}/missing/2,,solo`,
      `,${o}/ok/3,no id,`,
      '# a comment row',
      `a4,ftp://example.com/4,bad,scheme`,
      `a5,${o}/ok/5,too,many,fields`,
      `"a""6",${o}/ok/6,"quoted ""label""",g`,
    ].join('\n');
    const input = join(tmp, 'urls.csv.gz');
    writeFileSync(input, gzipSync(csv));
    const out = join(tmp, 'out-csv');
    const run = await runCli(['run', input, '--allow', '127.0.0.1/32', '--out', out, '--job-id', 'c', '-q']);
    expectCliOk(run, 1);
    const job = readJob(out, 'c');
    expect(job.request.format).toBe('auto');
    expect(job.results.map((r) => ({ line: r.line, id: r.id, meta: r.meta, status: r.status }))).toEqual([
      { line: 2, id: 'a1', meta: { label: 'first', group: 'x,y' }, status: 200 },
      { line: 3, id: 'a2', meta: { group: 'solo' }, status: 404 },
      { line: 4, id: undefined, meta: { label: 'no id' }, status: 200 },
      { line: 8, id: 'a"6', meta: { label: 'quoted "label"', group: 'g' }, status: 200 },
    ]);
    expect(job.invalid.map((i) => [i.line, i.code])).toEqual([
      [6, 'UNSUPPORTED_SCHEME'],
      [7, 'INVALID_FIELD'],
    ]);
    expect(job.manifest).toMatchObject({ accepted: 4, invalid: 2, lines: 8 });
  });

  it('--body inline keeps each body in its record', async () => {
    const o = server.origin;
    const input = join(tmp, 'inline.txt');
    writeFileSync(input, `${o}/ok/alpha\n${o}/redirect/beta\n${o}/missing/x\n`);
    const out = join(tmp, 'out-inline');
    const run = await runCli([
      'run',
      input,
      '--allow',
      '127.0.0.1/32',
      '--out',
      out,
      '--job-id',
      'i',
      '--body',
      'inline',
      '-q',
    ]);
    expectCliOk(run, 0);
    const job = readJob(out, 'i');
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(
      job.results.map((r) => ({ body: r.body, encoding: r.bodyEncoding, bytes: r.bytes, sha256: r.sha256 })),
    ).toEqual(
      [pageBody('alpha'), pageBody('beta'), 'not found\n'].map((body) => ({
        body,
        encoding: 'utf8',
        bytes: Buffer.byteLength(body),
        sha256: sha(body),
      })),
    );
    expect(job.results.some((r) => r.bodyTruncated)).toBe(false);
    expect(job.bodies).toEqual([]);
  });

  it('--body store writes content-addressed bodies under bodies/', async () => {
    const o = server.origin;
    const input = join(tmp, 'store.txt');
    // /ok/same and /redirect/same have the same body: one object for both.
    writeFileSync(input, `${o}/ok/same\n${o}/redirect/same\n${o}/ok/other\n${o}/missing/z\n`);
    const out = join(tmp, 'out-store');
    const run = await runCli([
      'run',
      input,
      '--allow',
      '127.0.0.1/32',
      '--out',
      out,
      '--job-id',
      'st',
      '--body',
      'store',
      '-q',
    ]);
    expectCliOk(run, 0);
    const job = readJob(out, 'st');
    const hashes = job.results.map((r) => r.sha256);
    expect(hashes.every((h) => h !== null && /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(hashes[0]).toBe(hashes[1]);
    expect(job.bodies).toEqual([...new Set(hashes as string[])].sort());
    for (const name of job.bodies) {
      const content = readFileSync(join(jobPaths(out, 'st').bodies, name));
      expect(createHash('sha256').update(content).digest('hex')).toBe(name);
    }
    expect(readFileSync(join(jobPaths(out, 'st').bodies, hashes[2]!), 'utf8')).toBe(pageBody('other'));
    expect(job.results.every((r) => r.body === undefined)).toBe(true);
    expect(existsSync(jobPaths(out, 'st').success)).toBe(true);
  });
});
