import { createHash } from 'node:crypto';
import zlib, { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchEngine } from '../../../lambda/core/fetch/engine.js';
import type { JobOptions } from '../../../lambda/core/job-options.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import { fetchItem } from '../../helpers/fetch-engine.js';
import { loopbackResolver, startTargetServer, type TargetServer } from '../../helpers/target-server.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;

const engines: FetchEngine[] = [];
function engine(
  overrides: Partial<JobOptions> = {},
  extra: { storeBody?: (sha: string, b: Buffer) => Promise<void> } = {},
) {
  // One URL's fetch, without robots.txt (robots.test.ts covers it).
  const options = resolveOptions({
    allow: ['127.0.0.1/32'],
    robots: 'ignore',
    retries: 2,
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    connectTimeoutMs: 2000,
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    timeoutMs: 10_000,
    ...overrides,
  });
  const e = new FetchEngine({ options, resolver: loopbackResolver, random: () => 0.5, ...extra });
  engines.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

let server: TargetServer;
const counters = new Map<string, number>();
const bump = (key: string) => {
  const n = (counters.get(key) ?? 0) + 1;
  counters.set(key, n);
  return n;
};
const BIG = Buffer.alloc(3 * 1024 * 1024, 'a');

beforeAll(async () => {
  server = await startTargetServer({
    '/ok': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'),
    '/binary': (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(Buffer.from([0xff, 0xfe, 0x00, 0x80])),
    '/ua': (req, res) => res.end(req.headers['user-agent']),
    // The first wave finds the host struggling; later requests find it well.
    '/struggling': (_req, res) => res.writeHead(bump('/struggling') <= 2 ? 503 : 200).end(),
    '/later': (_req, res) => {
      if (bump('/later') === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end();
    },
    '/never': () => {},
    '/headers-then-silence': (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('x');
    },
    '/trickle': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        if (sent > 200 || res.destroyed) clearInterval(timer);
        else res.write('.');
      }, 50);
      res.on('close', () => clearInterval(timer));
    },
    '/flaky-503': (req, res) => {
      const n = bump(`503:${req.url}`);
      if (n <= 2) res.writeHead(503).end('busy');
      else res.writeHead(200).end('finally');
    },
    '/always-500': (_req, res) => res.writeHead(500).end('broken'),
    '/429-retry-after': (req, res) => {
      const n = bump(`429:${req.url}`);
      if (n === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end('thanks for waiting');
    },
    '/429-long': (_req, res) => res.writeHead(429, { 'retry-after': '3600' }).end(),
    '/408': (req, res) => {
      const n = bump(`408:${req.url}`);
      res.writeHead(n === 1 ? 408 : 200).end();
    },
    '/404': (_req, res) => res.writeHead(404).end('nope'),
    '/reset-once': (req, res) => {
      if (bump(`reset:${req.url}`) === 1) res.socket?.destroy();
      else res.end('recovered');
    },
    '/reset-always': (_req, res) => res.socket?.destroy(),
    '/reset-mid-body': (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    },
    '/redirect-chain': (req, res) => {
      const n = Number(new URL(req.url ?? '', 'http://x').searchParams.get('n') ?? '0');
      if (n <= 0) res.end('end of chain');
      else res.writeHead(302, { location: `/redirect-chain?n=${n - 1}` }).end();
    },
    '/loop-a': (_req, res) => res.writeHead(301, { location: '/loop-b' }).end(),
    '/loop-b': (_req, res) => res.writeHead(301, { location: '/loop-a' }).end(),
    '/to-file': (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
    '/to-metadata': (_req, res) =>
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    '/to-decimal-loopback': (_req, res) =>
      res.writeHead(302, { location: `http://2130706434:${server.port}/ok` }).end(),
    '/303': (_req, res) => res.writeHead(303, { location: '/ok' }).end(),
    '/big-declared': (_req, res) => res.writeHead(200, { 'content-length': String(BIG.length) }).end(BIG),
    '/big-chunked': (_req, res) => {
      res.writeHead(200);
      res.end(BIG);
    },
    '/endless': (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'z');
      let sent = 0;
      const pump = () => {
        while (!res.destroyed && sent < 4096) {
          sent += 1;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    },
    '/gzip-bomb': (_req, res) =>
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(50 * 1024 * 1024))),
    '/br-bomb': (_req, res) =>
      res
        .writeHead(200, { 'content-encoding': 'br' })
        .end(brotliCompressSync(Buffer.alloc(50 * 1024 * 1024))),
    '/deflate-bomb': (_req, res) =>
      res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateSync(Buffer.alloc(50 * 1024 * 1024))),
    '/zstd-bomb': (_req, res) => {
      if (!zstdCompressSync) return void res.writeHead(500).end();
      res
        .writeHead(200, { 'content-encoding': 'zstd' })
        .end(zstdCompressSync(Buffer.alloc(50 * 1024 * 1024)));
    },
    '/gzip-then-br': (_req, res) =>
      res
        .writeHead(200, { 'content-encoding': 'gzip, br' })
        .end(brotliCompressSync(gzipSync('double wrapped'))),
    '/gzip-ok': (_req, res) =>
      res
        .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' })
        .end(gzipSync('small and fine')),
    '/bad-gzip': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('this is not gzip'),
    '/slow': async (_req, res) => {
      // Held until the engine has had its 6 global slots busy at once (or 5 s passed), so
      // "the caps are reached" does not depend on how fast this machine is.
      await until(() => server.maxInFlight >= 6, 5000);
      res.end('slow');
    },
  });
});
afterAll(() => server.close());

const item = (path: string, line = 1) => ({ line, url: server.url(path) });

/** Resolves once `check` holds, polling every 5 ms; gives up after `limitMs` (the test's assertions then say what went wrong). */
async function until(check: () => boolean, limitMs: number): Promise<void> {
  for (let waited = 0; waited < limitMs && !check(); waited += 5) await new Promise((r) => setTimeout(r, 5));
}

describe('successful fetches', () => {
  it('records status, content type, bytes and sha256 of the body', async () => {
    const r = await fetchItem(engine(), item('/ok'));
    expect(r).toMatchObject({
      status: 200,
      contentType: 'text/plain',
      bytes: 5,
      sha256: sha256('hello'),
      attempts: 1,
      error: null,
    });
    expect(r.finalUrl).toBe(server.url('/ok'));
    expect(r.timings.ttfbMs).toBeGreaterThanOrEqual(0);
  });

  it('sends the configured User-Agent', async () => {
    const r = await fetchItem(engine({ userAgent: 'fanout-test/1.0', body: 'inline' }), item('/ua'));
    expect(r.body).toBe('fanout-test/1.0');
  });

  it('keeps the caller id and metadata', async () => {
    const r = await fetchItem(engine(), { line: 7, url: server.url('/ok'), id: 'x1', meta: { team: 'a' } });
    expect(r).toMatchObject({ line: 7, id: 'x1', meta: { team: 'a' } });
  });

  it('records a 404 as a response, not an error, and does not retry it', async () => {
    const r = await fetchItem(engine(), item('/404'));
    expect(r).toMatchObject({ status: 404, error: null, attempts: 1 });
  });
});

describe('timeouts', () => {
  it('connect timeout (a resolver that never answers stalls the connect)', async () => {
    const e = new FetchEngine({
      options: resolveOptions({
        allow: ['127.0.0.1/32'],
        retries: 0,
        connectTimeoutMs: 200,
        robots: 'ignore',
      }),
      resolver: () => new Promise(() => {}),
    });
    engines.push(e);
    const r = await fetchItem(e, { line: 1, url: `http://stalled.test:${server.port}/ok` });
    expect(r.error?.code).toBe('CONNECT_TIMEOUT');
  });

  it('headers timeout', async () => {
    const r = await fetchItem(engine({ headersTimeoutMs: 200, retries: 0 }), item('/never'));
    expect(r.error?.code).toBe('HEADERS_TIMEOUT');
    expect(r.status).toBeNull();
  });

  it('body timeout after headers', async () => {
    const r = await fetchItem(engine({ bodyTimeoutMs: 200, retries: 0 }), item('/headers-then-silence'));
    expect(r.error?.code).toBe('BODY_TIMEOUT');
    expect(r.status).toBe(200);
  });

  it('total deadline on a body that trickles faster than the body timeout', async () => {
    const r = await fetchItem(engine({ timeoutMs: 400, bodyTimeoutMs: 2000, retries: 0 }), item('/trickle'));
    expect(r.error?.code).toBe('DEADLINE');
  });

  it('the deadline covers retries too', async () => {
    const r = await fetchItem(
      engine({ timeoutMs: 300, headersTimeoutMs: 200, retries: 5, backoffBaseMs: 1 }),
      item('/never'),
    );
    expect(['DEADLINE', 'HEADERS_TIMEOUT']).toContain(r.error?.code);
    expect(r.attempts).toBeLessThanOrEqual(2);
  });

  it('a URL that gets the slot of one whose deadline passed gets its own full time', async () => {
    // One slot: /ok waits while /never holds it. /never's deadline frees the slot, and
    // /ok starts from inside that expiry: it must not be expired along with it.
    const e = engine({ concurrency: 1, perHost: 1, timeoutMs: 200, headersTimeoutMs: 5000, retries: 0 });
    const [stuck, next] = await e.fetchAll([item('/never'), item('/ok')]);
    expect(stuck?.error?.code).toBe('DEADLINE');
    expect(next).toMatchObject({ status: 200, error: null });
  });

  it('a cancelled signal records CANCELLED', async () => {
    const controller = new AbortController();
    const hitsBefore = server.hits('/never');
    const pending = fetchItem(engine({ retries: 0 }), item('/never'), controller.signal);
    // Cancelled once the request is under way (the server has it), not after a guessed delay.
    await until(() => server.hits('/never') > hitsBefore, 5000);
    controller.abort();
    const r = await pending;
    expect(r.error?.code).toBe('CANCELLED');
  });
});

describe('retries', () => {
  it('retries 5xx and succeeds', async () => {
    const r = await fetchItem(engine({ retries: 3 }), item('/flaky-503?a'));
    expect(r).toMatchObject({ status: 200, attempts: 3, error: null });
  });

  it('gives up after the retries with HTTP_STATUS', async () => {
    const before = server.hits('/always-500');
    const r = await fetchItem(engine({ retries: 2 }), item('/always-500'));
    expect(r).toMatchObject({ status: 500, attempts: 3, error: { code: 'HTTP_STATUS' } });
    expect(server.hits('/always-500') - before).toBe(3);
  });

  it('retries 408', async () => {
    const r = await fetchItem(engine(), item('/408?a'));
    expect(r).toMatchObject({ status: 200, attempts: 2 });
  });

  it('honours Retry-After: the server sees the retry no sooner than asked', async () => {
    const r = await fetchItem(engine({ retries: 1 }), item('/429-retry-after?a'));
    expect(r).toMatchObject({ status: 200, attempts: 2 });
    const seen = server.requests.filter((q) => q.path === '/429-retry-after');
    const [first, second] = seen.slice(-2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('a Retry-After beyond the bound ends the URL instead of waiting', async () => {
    const r = await fetchItem(engine({ retries: 3, maxRetryAfterMs: 5000 }), item('/429-long'));
    expect(r).toMatchObject({ status: 429, attempts: 1, error: { code: 'HTTP_STATUS' } });
    expect(r.error?.message).toMatch(/Retry-After/);
  });

  it('retries a connection reset', async () => {
    const r = await fetchItem(engine(), item('/reset-once?a'));
    expect(r).toMatchObject({ status: 200, attempts: 2, error: null });
  });

  it('a reset on every attempt ends as CONNECTION_RESET after all attempts', async () => {
    const r = await fetchItem(engine({ retries: 2 }), item('/reset-always'));
    expect(r).toMatchObject({ attempts: 3, error: { code: 'CONNECTION_RESET' } });
  });

  it('a reset mid-body is an error, never a short success', async () => {
    const r = await fetchItem(engine({ retries: 0 }), item('/reset-mid-body'));
    expect(r.error?.code).toBe('CONNECTION_RESET');
  });

  it('connection refused is retried, then recorded', async () => {
    const r = await fetchItem(engine({ retries: 1 }), { line: 1, url: 'http://127.0.0.1:1/' });
    expect(r).toMatchObject({ attempts: 2, error: { code: 'CONNECTION_REFUSED' } });
  });
});

describe('redirects', () => {
  it('follows a chain within the limit', async () => {
    const r = await fetchItem(engine({ maxRedirects: 5 }), item('/redirect-chain?n=5'));
    expect(r).toMatchObject({ status: 200, redirects: 5, attempts: 1, error: null });
    expect(r.finalUrl).toBe(server.url('/redirect-chain?n=0'));
  });

  it('stops past the limit', async () => {
    const r = await fetchItem(engine({ maxRedirects: 3 }), item('/redirect-chain?n=4'));
    expect(r.error?.code).toBe('TOO_MANY_REDIRECTS');
  });

  it('stops a loop', async () => {
    const r = await fetchItem(engine({ maxRedirects: 10 }), item('/loop-a'));
    expect(r).toMatchObject({ redirects: 10, error: { code: 'TOO_MANY_REDIRECTS' } });
  });

  it('303 is followed', async () => {
    const r = await fetchItem(engine(), item('/303'));
    expect(r).toMatchObject({ status: 200, redirects: 1 });
  });

  it.each([
    ['/to-file', 'BAD_REDIRECT'],
    ['/to-metadata', 'BLOCKED_ADDRESS'],
    ['/to-decimal-loopback', 'BLOCKED_ADDRESS'],
  ])('re-checks each hop: %s → %s', async (path, code) => {
    const r = await fetchItem(engine(), item(path));
    expect(r.error?.code).toBe(code);
  });
});

describe('body cap', () => {
  const CAP = 1024 * 1024;

  it.each([
    ['/big-chunked', 'without Content-Length'],
    ['/endless', 'an endless body'],
    ['/gzip-bomb', 'a gzip bomb'],
    ['/br-bomb', 'a brotli bomb'],
    ['/deflate-bomb', 'a deflate bomb'],
  ])('%s (%s) stops at the cap; bytes counts the decoded bytes read', async (path) => {
    const r = await fetchItem(engine({ maxBodyBytes: CAP, retries: 0 }), item(path));
    expect(r.error?.code).toBe('BODY_TOO_LARGE');
    // Read until the chunk that passed the cap: more than the cap, by less than a chunk.
    expect(r.bytes).toBeGreaterThan(CAP);
    expect(r.bytes).toBeLessThan(CAP + 256 * 1024);
    expect(r.error?.message).toBe(`body exceeds ${CAP} bytes; stopped after ${r.bytes} decoded bytes`);
    expect(r.sha256).toBeNull();
  });

  it('refuses a body whose Content-Length is over the cap unread; bytes is the declared length', async () => {
    const r = await fetchItem(engine({ maxBodyBytes: CAP, retries: 0 }), item('/big-declared'));
    expect(r).toMatchObject({ status: 200, bytes: 3 * 1024 * 1024, sha256: null });
    expect(r.error).toEqual({
      code: 'BODY_TOO_LARGE',
      message: `Content-Length ${3 * 1024 * 1024} is over the ${CAP}-byte cap; the body was not read`,
    });
  });

  it.runIf(zstdCompressSync !== undefined)('a zstd bomb stops at the cap', async () => {
    const r = await fetchItem(engine({ maxBodyBytes: 1024 * 1024, retries: 0 }), item('/zstd-bomb'));
    expect(r.error?.code).toBe('BODY_TOO_LARGE');
  });

  it('decodes a chain of encodings and hashes the decoded body', async () => {
    const r = await fetchItem(engine({ body: 'inline' }), item('/gzip-then-br'));
    expect(r).toMatchObject({ body: 'double wrapped', sha256: sha256('double wrapped'), error: null });
  });

  it('counts decoded bytes', async () => {
    const r = await fetchItem(engine(), item('/gzip-ok'));
    expect(r).toMatchObject({ bytes: 'small and fine'.length, sha256: sha256('small and fine') });
  });

  it('a corrupt encoding is DECODE', async () => {
    const r = await fetchItem(engine({ retries: 0 }), item('/bad-gzip'));
    expect(r.error?.code).toBe('DECODE');
  });
});

describe('body modes', () => {
  it('none keeps no hash', async () => {
    const r = await fetchItem(engine({ body: 'none' }), item('/ok'));
    expect(r).toMatchObject({ sha256: null, bytes: 5 });
    expect(r.body).toBeUndefined();
  });

  it('inline keeps text as utf8 and binary as base64', async () => {
    const e = engine({ body: 'inline' });
    expect(await fetchItem(e, item('/ok'))).toMatchObject({ body: 'hello', bodyEncoding: 'utf8' });
    expect(await fetchItem(e, item('/binary'))).toMatchObject({
      body: Buffer.from([0xff, 0xfe, 0, 0x80]).toString('base64'),
      bodyEncoding: 'base64',
    });
  });

  it('inline cuts at the inline cap and says so', async () => {
    const r = await fetchItem(engine({ body: 'inline', inlineMaxBytes: 1000 }), item('/big-chunked'));
    expect(r).toMatchObject({ bodyTruncated: true, bytes: BIG.length, sha256: sha256(BIG) });
    expect(r.body).toHaveLength(1000);
  });

  it('store hands the whole body to the store under its sha256', async () => {
    const stored = new Map<string, Buffer>();
    const e = engine({ body: 'store' }, { storeBody: async (sha, b) => void stored.set(sha, b) });
    const r = await fetchItem(e, item('/big-chunked'));
    expect(r.sha256).toBe(sha256(BIG));
    expect(stored.get(sha256(BIG))?.equals(BIG)).toBe(true);
  });
});

describe('concurrency caps, measured by the server', () => {
  it('holds the per-host cap and the global cap', async () => {
    const before = { max: server.maxInFlight };
    server.maxInFlight = 0;
    server.hostMaxInFlight.clear();
    const e = engine({ concurrency: 6, perHost: 2 });
    const hosts = ['a.test', 'b.test', 'c.test', 'd.test', 'e.test'];
    const items = Array.from({ length: 60 }, (_, i) => ({
      line: i + 1,
      url: server.url('/slow', hosts[i % hosts.length]),
    }));
    const records = await e.fetchAll(items);
    expect(records.every((r) => r.status === 200)).toBe(true);
    for (const host of hosts) expect(server.hostMaxInFlight.get(host)).toBeLessThanOrEqual(2);
    expect(server.maxInFlight).toBeLessThanOrEqual(6);
    // The caps are reached, not just respected: the engine keeps the slots busy.
    expect(server.maxInFlight).toBe(6);
    expect(Math.max(...hosts.map((h) => server.hostMaxInFlight.get(h) ?? 0))).toBe(2);
    server.maxInFlight = Math.max(server.maxInFlight, before.max);
  });
});

describe('address policy at fetch time', () => {
  it.each([
    'http://127.0.0.1:PORT/ok',
    'http://2130706433:PORT/ok',
    'http://0x7f.1:PORT/ok',
    'http://0177.0.0.1:PORT/ok',
    'http://127.1:PORT/ok',
    'http://[::1]:PORT/ok',
    'http://[::ffff:127.0.0.1]:PORT/ok',
    'http://localhost:PORT/ok',
  ])('blocks %s by default without connecting', async (template) => {
    const e = new FetchEngine({ options: resolveOptions({ retries: 0 }) });
    engines.push(e);
    const before = server.requests.length;
    const r = await fetchItem(e, { line: 1, url: template.replace('PORT', String(server.port)) });
    expect(r.error?.code).toBe('BLOCKED_ADDRESS');
    expect(server.requests.length).toBe(before);
  });

  it('--allow-private lifts the block', async () => {
    const e = new FetchEngine({ options: resolveOptions({ allowPrivate: true }) });
    engines.push(e);
    expect((await fetchItem(e, item('/ok'))).status).toBe(200);
  });

  it('an invalid URL is recorded, not thrown', async () => {
    const r = await fetchItem(engine(), { line: 1, url: 'http://exa mple.com/' });
    expect(r.error?.code).toBe('INVALID_URL');
  });
});

describe("a host's pace", () => {
  /** Start times the server saw for `path`, in order. */
  const startsOf = (path: string, since: number) =>
    server.requests
      .slice(since)
      .filter((r) => r.path === path)
      .map((r) => r.at);
  const busiestSecond = (at: number[]) =>
    Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length));

  it('hostRate spaces the requests to a host: no second holds more than the rate, plus one', async () => {
    const since = server.requests.length;
    const items = Array.from({ length: 9 }, (_, i) => item('/ok', i + 1));
    const records = await engine({ hostRate: 4, perHost: 8 }).fetchAll(items);
    expect(records.every((r) => r.status === 200)).toBe(true);
    const at = startsOf('/ok', since);
    expect(at).toHaveLength(9);
    expect(busiestSecond(at)).toBeLessThanOrEqual(5);
  });

  it('a host answering 503 is slowed down for every URL of the job, not just the one retried', async () => {
    const since = server.requests.length;
    const items = Array.from({ length: 5 }, (_, i) => item('/struggling', i + 1));
    const records = await engine({ perHost: 2, retries: 0 }).fetchAll(items);
    expect(records.filter((r) => r.status === 503)).toHaveLength(2);
    const at = startsOf('/struggling', since);
    // The two 503s of one round took the cap from 2 to 1 and the spacing to 250 ms: the next
    // requests came one at a time, apart, and the host then recovered step by step.
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(200);
    expect(records.slice(2).every((r) => r.status === 200)).toBe(true);
  });

  it('Retry-After holds every request to the host, not only the retry', async () => {
    const since = server.requests.length;
    const first = engine({ perHost: 1, retries: 1 });
    const records = await first.fetchAll([item('/later', 1), item('/later', 2)]);
    expect(records.map((r) => r.status)).toEqual([200, 200]);
    const at = startsOf('/later', since);
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900);
  });
});
