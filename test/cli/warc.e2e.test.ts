/**
 * Issue 26, items 1 and 2: `fanout run --body warc` (the built CLI) against a local site with
 * a redirect, a gzip page, a chunked page and a body past --max-body; the files it leaves are
 * checked by Python's warcio (a tool nobody here wrote): `warcio check` passes on every file and
 * `warcio index` lists the records at the offsets the result records name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, type JobOutput, readJob, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

/** Python's warcio, installed into .venv from requirements-dev.txt by the integration set-up. */
const WARCIO = resolve('.venv/bin/warcio');
const MAX_BODY = 64 * 1024;
const PAGE = '<html><body>archived page</body></html>\n'.repeat(50);
const BIG = Buffer.alloc(3 * MAX_BODY, 'b');

interface IndexEntry {
  offset: string;
  length: string;
  'warc-type': string;
  'warc-target-uri'?: string;
  'warc-truncated'?: string;
  'warc-concurrent-to'?: string;
  'warc-record-id'?: string;
  'warc-ip-address'?: string;
  'http:status'?: string;
  'http:content-encoding'?: string;
}

let target: TargetServer;
let dir: string;
let job: JobOutput;
let stderr: string;

const warcio = (...args: string[]) => execFileSync(WARCIO, args, { encoding: 'utf8', cwd: job.dir });

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fanout-warc-'));
  target = await startTargetServer({
    '/start': (_req, res) => {
      res.writeHead(301, { location: '/moved' });
      res.end();
    },
    '/moved': (_req, res) => {
      res.writeHead(302, { location: '/page' });
      res.end('elsewhere');
    },
    '/page': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip' });
      res.end(gzipSync(PAGE));
    },
    '/chunked': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('second'), 5);
    },
    '/big': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      res.end(BIG);
    },
    '/missing': (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here\n');
    },
  });
  const list = join(dir, 'list.txt');
  const paths = ['/start', '/chunked', '/big', '/missing'];
  writeFileSync(list, `${paths.map((path) => target.url(path)).join('\n')}\n`);
  const out = join(dir, 'out');
  const run = await runCli([
    ...['run', list, '--out', out, '--job-id', 'warc', '--allow', '127.0.0.1/32'],
    ...['--body', 'warc', '--max-body', '64KiB', '--chunk-size', '2'],
  ]);
  stderr = run.stderr;
  job = readJob(out, 'warc');
}, 120_000);

afterAll(async () => {
  await target?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fanout run --body warc', () => {
  it('writes one WARC per chunk, and warcio check passes on each', () => {
    const files = readdirSync(join(job.dir, 'warc')).sort();
    expect(files, stderr).toEqual(['00000000.warc.gz', '00000001.warc.gz']);
    for (const file of files) {
      const out = warcio('check', '-v', join('warc', file));
      expect(out).toContain('digest pass');
      expect(out).not.toContain('digest failed');
    }
  });

  it('lists, at the offset and length each result record names, the response of its last hop', () => {
    expect(job.results).toHaveLength(4);
    for (const record of job.results) {
      expect(record.warc, record.url).toBeDefined();
      const { file, offset, length } = record.warc as NonNullable<typeof record.warc>;
      const entries = index(file);
      const entry = entries.find((e) => Number(e.offset) === offset);
      expect(entry, `${record.url} at ${offset}`).toMatchObject({
        length: String(length),
        'warc-type': 'response',
        'warc-target-uri': record.finalUrl,
        'http:status': String(record.status),
      });
    }
    const start = job.results.find((r) => r.url.endsWith('/start'));
    expect(start).toMatchObject({ status: 200, redirects: 2, finalUrl: target.url('/page') });
  });

  it('keeps a request and a response record per exchange, every redirect hop included', () => {
    const entries = index('warc/00000000.warc.gz');
    const responses = entries.filter((e) => e['warc-type'] === 'response');
    const requests = entries.filter((e) => e['warc-type'] === 'request');
    expect(responses.map((e) => [e['warc-target-uri'], e['http:status']]).sort()).toEqual(
      [
        [target.url('/start'), '301'],
        [target.url('/moved'), '302'],
        [target.url('/page'), '200'],
        [target.url('/chunked'), '200'],
      ].sort(),
    );
    expect(entries[0]?.['warc-type']).toBe('warcinfo');
    for (const response of responses) {
      expect(response['warc-ip-address']).toBe('127.0.0.1');
      const request = requests.find((r) => r['warc-concurrent-to'] === response['warc-record-id']);
      expect(request?.['warc-target-uri'], response['warc-target-uri']).toBe(response['warc-target-uri']);
    }
  });

  it('keeps the payload as sent: gzip still applied, chunked framing removed', () => {
    const page = job.results.find((r) => r.finalUrl === target.url('/page'));
    const gz = recordAt(page?.warc);
    expect(gz.http).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(gz.http).toMatch(/\r\ncontent-encoding: gzip\r\n/);
    expect(gunzipSync(gz.payload).toString('utf8')).toBe(PAGE);
    const chunked = recordAt(job.results.find((r) => r.url.endsWith('/chunked'))?.warc);
    expect(chunked.payload.toString('utf8')).toBe('first second');
  });

  it('cuts a body past --max-body at the cap and marks it WARC-Truncated: length', () => {
    const big = job.results.find((r) => r.url.endsWith('/big'));
    expect(big?.error?.code).toBe('BODY_TOO_LARGE');
    const record = recordAt(big?.warc);
    expect(record.warc).toMatch(/\r\nWARC-Truncated: length\r\n/);
    expect(record.payload).toEqual(BIG.subarray(0, MAX_BODY));
  });

  it('writes index.cdxj sorted by SURT key, naming every response record', () => {
    const lines = readFileSync(join(job.dir, 'index.cdxj'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect([...lines].sort()).toEqual(lines);
    for (const line of lines) {
      const [surt, timestamp, json] = line.split(' ', 3) as [string, string, string];
      expect(surt).toMatch(/^1,0,0,127:\d+\)\//);
      expect(timestamp).toMatch(/^\d{14}$/);
      const fields = JSON.parse(json) as Record<string, string>;
      const entry = index(fields.filename as string).find((e) => e.offset === fields.offset);
      expect(entry).toMatchObject({
        'warc-type': 'response',
        'warc-target-uri': fields.url,
        length: fields.length,
        'http:status': fields.status,
      });
    }
  });
});

function index(file: string): IndexEntry[] {
  const fields =
    'offset,length,warc-type,warc-target-uri,warc-truncated,warc-concurrent-to,warc-record-id,warc-ip-address,http:status';
  return warcio('index', '-f', fields, file)
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as IndexEntry);
}

/** The record a result names, read by hand: WARC headers, HTTP head and payload. */
function recordAt(place: { file: string; offset: number; length: number } | undefined) {
  if (!place) throw new Error('the record names no WARC record');
  const data = readFileSync(join(job.dir, place.file)).subarray(place.offset, place.offset + place.length);
  const block = gunzipSync(data);
  const warcEnd = block.indexOf('\r\n\r\n') + 4;
  const httpEnd = block.indexOf('\r\n\r\n', warcEnd) + 4;
  const length = Number(/\r\nContent-Length: (\d+)\r\n/.exec(block.subarray(0, warcEnd).toString())?.[1]);
  return {
    warc: block.subarray(0, warcEnd).toString('latin1'),
    http: block.subarray(warcEnd, httpEnd).toString('latin1'),
    payload: block.subarray(httpEnd, warcEnd + length),
  };
}
