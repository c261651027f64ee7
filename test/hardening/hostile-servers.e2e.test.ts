/**
 * Issue 5, hostile servers: each misbehaving response ends its URL in exactly one
 * record with the right error code, the engine keeps working afterwards, and floods,
 * endless bodies and decompression bombs cost bounded memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FetchEngine } from '../../lambda/core/fetch/engine.js';
import type { JobOptions } from '../../lambda/core/job-options.js';
import { DEFAULT_OPTIONS } from '../../lambda/core/options.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { ensureCliBuilt, readJob, runCli } from '../helpers/cli-harness.js';
import { fetchItem } from '../helpers/fetch-engine.js';
import { HAS_ZSTD, makeBombs } from './fixtures/bombs.js';
import { EnginePool } from './fixtures/engines.js';
import { hostileRoutes } from './fixtures/hostile-routes.js';
import { MiB, measureMemory } from './fixtures/memory.js';
import { type RawServer, startRawServer } from './fixtures/raw-server.js';
import { selfSignedCertificate } from './fixtures/tls-cert.js';

/** The cap the body tests use; every bomb decodes to many times this. */
const MAX_BODY = 1 * MiB;
const BOMBS = makeBombs(48 * MiB);
const BOMB_KINDS = Object.keys(BOMBS);

let server: RawServer;
let tls: HttpsServer;
let tlsPort = 0;
const pool = new EnginePool();

beforeAll(async () => {
  server = await startRawServer(hostileRoutes(BOMBS, (path) => server.hits(path)));

  const { key, cert } = selfSignedCertificate(['self-signed.test']);
  tls = createHttpsServer({ key, cert }, (_req, res) => res.end('should never be read'));
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  const address = tls.address();
  tlsPort = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(async () => {
  await pool.closeAll();
  await server?.close();
  tls?.closeAllConnections();
  await new Promise<void>((resolve) => (tls ? tls.close(() => resolve()) : resolve()));
});

const url = (path: string) => server.url(path);

/** An engine that may reach the test servers, with short timeouts and the body cap. */
const engine = (overrides: Partial<JobOptions> = {}): FetchEngine =>
  pool.make({
    allow: ['127.0.0.1/32'],
    maxBodyBytes: MAX_BODY,
    headersTimeoutMs: 500,
    bodyTimeoutMs: 500,
    ...overrides,
  });

/**
 * Fetches the hostile URL in a batch of one, then a healthy URL on the same engine:
 * exactly one record for the hostile URL, and the engine still serves the next one.
 */
async function fetchHostile(e: FetchEngine, target: string): Promise<ResultRecord> {
  const records = await e.fetchAll([{ line: 1, url: target }]);
  expect(records).toHaveLength(1);
  const [record] = records as [ResultRecord];
  expect(record.url).toBe(target);
  const next = await fetchItem(e, { line: 2, url: url('/healthy') });
  expect(next).toMatchObject({ status: 200, error: null, bytes: 2 });
  return record;
}

afterEach(async () => {
  await pool.closeAll();
});

describe('silence and cut-offs', () => {
  it.each<[string, string, Partial<JobOptions>]>([
    ['/silent', 'HEADERS_TIMEOUT', {}],
    ['/hang-up', 'CONNECTION_RESET', {}],
    ['/not-http', 'PROTOCOL', {}],
    ['/headers-then-silence', 'BODY_TIMEOUT', {}],
    ['/reset-mid-body', 'CONNECTION_RESET', {}],
    ['/close-mid-body', 'CONNECTION_RESET', {}],
    ['/chunked-truncated', 'CONNECTION_RESET', {}],
  ])('%s → %s', async (path, code, overrides) => {
    const record = await fetchHostile(engine(overrides), url(path));
    expect(record.error?.code).toBe(code);
    expect(record.attempts).toBe(1);
  });

  it('no response at all, with retries: still one record, HEADERS_TIMEOUT after every attempt', async () => {
    const before = server.hits('/silent');
    const record = await fetchHostile(engine({ retries: 2 }), url('/silent'));
    expect(record).toMatchObject({ attempts: 3, error: { code: 'HEADERS_TIMEOUT' } });
    expect(server.hits('/silent') - before).toBe(3);
  });

  it('a body trickling one byte per second: the total deadline fires', async () => {
    const record = await fetchHostile(engine({ timeoutMs: 2500, bodyTimeoutMs: 5000 }), url('/trickle'));
    expect(record).toMatchObject({ status: 200, bytes: 0, error: { code: 'DEADLINE' } });
  });
});

describe('endless bodies stop at the cap', () => {
  it.each([['/endless-chunked'], ['/endless-until-close'], ['/endless-declared']])(
    '%s → BODY_TOO_LARGE',
    async (path) => {
      const record = await fetchHostile(engine(), url(path));
      expect(record).toMatchObject({ status: 200, sha256: null, error: { code: 'BODY_TOO_LARGE' } });
      // The decoded bytes read, or the declared length of a body refused unread.
      expect(record.bytes).toBeGreaterThan(MAX_BODY);
    },
  );

  it('a body longer than its Content-Length: only the declared bytes are the response', async () => {
    const record = await fetchHostile(engine({ body: 'inline' }), url('/endless-declared-within-cap'));
    expect(record).toMatchObject({ status: 200, bytes: 10, body: '0123456789', error: null });
  });

  it('20 endless bodies at once, kept in store mode: memory stays bounded', async () => {
    const kept: Buffer[] = [];
    const e = pool.make(
      { allow: ['127.0.0.1/32'], maxBodyBytes: MAX_BODY, body: 'store', concurrency: 20, perHost: 20 },
      { storeBody: async (_sha, body) => void kept.push(body) },
    );
    const paths = ['/endless-chunked', '/endless-until-close'];
    const items = Array.from({ length: 20 }, (_, i) => ({ line: i + 1, url: url(paths[i % 2]!) }));
    const { result, retainedBytes, peakBytes } = await measureMemory(() => e.fetchAll(items));
    expect(result.map((r) => r.error?.code)).toEqual(items.map(() => 'BODY_TOO_LARGE'));
    expect(kept).toEqual([]);
    expect(retainedBytes).toBeLessThan(64 * MiB);
    expect(peakBytes).toBeLessThan(256 * MiB);
  });
});

describe('decompression bombs stop at the cap', () => {
  const kinds = BOMB_KINDS;

  it('every kind of bomb is there, zstd included where this Node has it', () => {
    expect(kinds).toEqual(expect.arrayContaining(['gzip', 'deflate', 'br', 'gzip, br', 'gzip, gzip']));
    expect(kinds.includes('zstd')).toBe(HAS_ZSTD);
  });

  it.each(kinds)('a %s bomb → BODY_TOO_LARGE', async (kind) => {
    const target = url(`/bomb?kind=${encodeURIComponent(kind)}`);
    const record = await fetchHostile(engine(), target);
    expect(record).toMatchObject({ status: 200, error: { code: 'BODY_TOO_LARGE' } });
    expect(record.bytes).toBeGreaterThan(MAX_BODY);
  });

  it.each([
    ['/four-codings', 'more than three codings'],
    ['/unknown-coding', 'an unknown coding'],
    ['/corrupt-gzip', 'a gzip stream with a bad checksum'],
  ])('%s (%s) → DECODE', async (path) => {
    const record = await fetchHostile(engine(), url(path));
    expect(record).toMatchObject({ status: 200, error: { code: 'DECODE' } });
  });

  it('20 bombs at once, kept in store mode: memory stays bounded', async () => {
    const kept: Buffer[] = [];
    const e = pool.make(
      { allow: ['127.0.0.1/32'], maxBodyBytes: MAX_BODY, body: 'store', concurrency: 20, perHost: 20 },
      { storeBody: async (_sha, body) => void kept.push(body) },
    );
    const items = Array.from({ length: 20 }, (_, i) => ({
      line: i + 1,
      url: url(`/bomb?kind=${encodeURIComponent(kinds[i % kinds.length]!)}`),
    }));
    const { result, retainedBytes, peakBytes } = await measureMemory(() => e.fetchAll(items));
    expect(result.map((r) => r.error?.code)).toEqual(items.map(() => 'BODY_TOO_LARGE'));
    expect(kept).toEqual([]);
    // Decoded, the batch is 20 × 48 MiB; at the cap it is 20 × 1 MiB.
    expect(retainedBytes).toBeLessThan(64 * MiB);
    expect(peakBytes).toBeLessThan(256 * MiB);
  });
});

describe('header floods', () => {
  it.each([['/flood-lines'], ['/flood-one-header'], ['/flood-endless']])(
    '%s → PROTOCOL (headers over the limit)',
    async (path) => {
      const record = await fetchHostile(engine(), url(path));
      expect(record).toMatchObject({ status: null, error: { code: 'PROTOCOL' } });
    },
  );
});

describe('invalid chunked encoding', () => {
  it.each([
    ['/chunked-bad-size'],
    ['/chunked-size-overflow'],
    ['/chunked-missing-crlf'],
    ['/chunked-and-length'],
  ])('%s → PROTOCOL', async (path) => {
    const record = await fetchHostile(engine(), url(path));
    expect(record.error?.code).toBe('PROTOCOL');
  });
});

describe('redirect loops and long chains', () => {
  const max = DEFAULT_OPTIONS.maxRedirects;

  it.each([['/loop-a'], ['/self']])('%s loops → TOO_MANY_REDIRECTS after the default limit', async (path) => {
    const record = await fetchHostile(engine(), url(path));
    expect(record).toMatchObject({ redirects: max, error: { code: 'TOO_MANY_REDIRECTS' } });
  });

  it('21 hops with the default maxRedirects → TOO_MANY_REDIRECTS; one request per hop followed', async () => {
    const before = server.hits('/hop');
    const record = await fetchHostile(engine(), url('/hop?n=21'));
    expect(record).toMatchObject({ redirects: max, error: { code: 'TOO_MANY_REDIRECTS' } });
    expect(server.hits('/hop') - before).toBe(max + 1);
  });

  it(`control: ${max} hops are followed`, async () => {
    const record = await fetchHostile(engine(), url(`/hop?n=${max}`));
    expect(record).toMatchObject({ status: 200, redirects: max, error: null });
  });
});

describe('429 and 503 with Retry-After', () => {
  it('429 with Retry-After: 1 is retried after the wait, then served', async () => {
    const record = await fetchHostile(engine({ retries: 2, maxRetryAfterMs: 2000 }), url('/429-once'));
    expect(record).toMatchObject({ status: 200, attempts: 2, error: null });
    expect(server.hits('/429-once')).toBe(2);
  });

  it('503 with Retry-After: 0 on every attempt → HTTP_STATUS after all retries', async () => {
    const before = server.hits('/503-always');
    const record = await fetchHostile(engine({ retries: 2, maxRetryAfterMs: 2000 }), url('/503-always'));
    expect(record).toMatchObject({ status: 503, attempts: 3, error: { code: 'HTTP_STATUS' } });
    expect(server.hits('/503-always') - before).toBe(3);
  });

  it.each([
    ['/429-too-long', 429],
    ['/503-date-too-far', 503],
  ])('%s: a Retry-After beyond maxRetryAfterMs ends at once with HTTP_STATUS', async (path, status) => {
    const before = server.hits(path);
    const record = await fetchHostile(engine({ retries: 3, maxRetryAfterMs: 1000 }), url(path));
    expect(record).toMatchObject({ status, attempts: 1, error: { code: 'HTTP_STATUS' } });
    expect(record.error?.message).toMatch(/Retry-After/);
    expect(server.hits(path) - before).toBe(1);
  });
});

describe('TLS', () => {
  it('a self-signed certificate → TLS, not retried', async () => {
    // robots.txt ignored: its own TLS failure would disallow the URL before its attempt.
    const record = await fetchHostile(
      engine({ retries: 3, robots: 'ignore' }),
      `https://127.0.0.1:${tlsPort}/`,
    );
    expect(record).toMatchObject({ status: null, attempts: 1, error: { code: 'TLS' } });
  });

  it('a self-signed certificate reached by name → TLS', async () => {
    const e = pool.make(
      { allow: ['127.0.0.1/32'], robots: 'ignore' },
      { resolver: async () => [{ address: '127.0.0.1', family: 4 }] },
    );
    const record = await fetchHostile(e, `https://self-signed.test:${tlsPort}/`);
    expect(record.error?.code).toBe('TLS');
  });
});

describe('the whole battery through the built CLI: one record per line, the process alive', () => {
  let tmp: string;
  beforeAll(() => {
    ensureCliBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'fanout-hostile-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('every hostile URL ends in exactly one record with its code', async () => {
    const cases: [string, string | null][] = [
      ['/silent', 'HEADERS_TIMEOUT'],
      ['/hang-up', 'CONNECTION_RESET'],
      ['/headers-then-silence', 'BODY_TIMEOUT'],
      ['/trickle', 'BODY_TIMEOUT'],
      ['/reset-mid-body', 'CONNECTION_RESET'],
      ['/endless-chunked', 'BODY_TOO_LARGE'],
      ['/endless-until-close', 'BODY_TOO_LARGE'],
      ['/endless-declared', 'BODY_TOO_LARGE'],
      ...BOMB_KINDS.map((k): [string, string] => [`/bomb?kind=${encodeURIComponent(k)}`, 'BODY_TOO_LARGE']),
      ['/four-codings', 'DECODE'],
      ['/flood-lines', 'PROTOCOL'],
      ['/flood-one-header', 'PROTOCOL'],
      ['/chunked-bad-size', 'PROTOCOL'],
      ['/loop-a', 'TOO_MANY_REDIRECTS'],
      ['/hop?n=21', 'TOO_MANY_REDIRECTS'],
      // Not /429-too-long: a Retry-After holds every request to its host (issue 24), and all of
      // this battery is one host; the Retry-After tests above take it alone.
      [`https://127.0.0.1:${tlsPort}/`, 'TLS'],
      ['/healthy', null],
    ];
    const urls = cases.map(([path]) => (path.startsWith('https:') ? path : url(path)));
    const input = join(tmp, 'hostile.txt');
    writeFileSync(input, `${urls.join('\n')}\n`);
    const run = await runCli(
      [
        'run',
        input,
        '--out',
        tmp,
        '--job-id',
        'hostile',
        '-q',
        // Each URL's own outcome: robots.txt on the TLS origin fails too, which would disallow it.
        '--robots',
        'ignore',
        '--allow',
        '127.0.0.1/32',
        '--retries',
        '0',
        '--timeout',
        '5s',
        '--headers-timeout',
        '500ms',
        '--body-timeout',
        '500ms',
        '--max-body',
        '1MiB',
      ],
      { timeoutMs: 60_000 },
    );
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    const job = readJob(tmp, 'hostile');
    expect(job.success).toBe(true);
    expect(job.results.map((r) => r.line)).toEqual(urls.map((_, i) => i + 1));
    expect(job.results.map((r) => [r.url, r.error?.code ?? null])).toEqual(
      cases.map(([, code], i) => [urls[i], code]),
    );
  });
});
