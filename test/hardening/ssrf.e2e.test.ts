/**
 * Issue 5, the address policy (SSRF) battery: every way a URL, a resolver answer or a
 * redirect can point a fetch at a blocked address, each checked through the real
 * FetchEngine. "Blocked" means the record says BLOCKED_ADDRESS (or the right code) and
 * nothing connected: the URLs point at a listener that counts every connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../lambda/core/address/address-policy.js';
import { createGuardedLookup } from '../../lambda/core/address/guarded-lookup.js';
import type { FetchEngine } from '../../lambda/core/fetch/engine.js';
import type { InputEvent } from '../../lambda/core/input/input-event.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { inputEvents } from '../core/input/helpers.js';
import { ensureCliBuilt, readJob, runCli } from '../helpers/cli-harness.js';
import { fetchItem } from '../helpers/fetch-engine.js';
import { type CountingListener, startCountingListener } from './fixtures/counting-listener.js';
import { EnginePool } from './fixtures/engines.js';
import { head, type RawServer, startRawServer } from './fixtures/raw-server.js';
import { BLOCKED_HOPS, LITERALS, OTHER_SCHEMES, REDIRECT_NAMES } from './fixtures/ssrf-cases.js';
import {
  dnsFailure,
  refusingResolver,
  type StubAnswer,
  stubResolver,
  v4,
  v6,
} from './fixtures/stub-resolver.js';
import { selfSignedCertificate } from './fixtures/tls-cert.js';

/** Allowed in the tests that need a reachable target: exactly the loopback address the servers use. */
const ALLOW_TARGET = ['127.0.0.1/32'];

let listener: CountingListener;
/** The allowed target: redirects to whatever `?u=` says, answers everything else with 200. */
let target: RawServer;
/**
 * These batteries count the lookups, connections and requests of a URL's own fetch, so
 * their engines ask no robots.txt; 'robots.txt obeyed' below checks the policy with it.
 */
const pool = new EnginePool({ robots: 'ignore' });

beforeAll(async () => {
  listener = await startCountingListener();
  target = await startRawServer(
    {
      '/to': (socket, request) => {
        const location = new URL(request.target, 'http://x').searchParams.get('u') ?? '/';
        socket.end(head('302 Found', { location, 'content-length': '0' }), 'latin1');
      },
    },
    (socket) => socket.end(`${head('200 OK', { 'content-length': '2' })}ok`),
  );
});
afterAll(async () => {
  await pool.closeAll();
  await target?.close();
  await listener?.close();
});

/** Fills {port} (the counting listener) and {target} (the allowed target server) into a URL. */
function fill(template: string): string {
  return template.replaceAll('{port}', String(listener.port)).replaceAll('{target}', String(target.port));
}

/** Expects a BLOCKED_ADDRESS record and no new connection on the counting listener. */
function expectBlocked(record: ResultRecord, connectionsBefore: number, reason?: string): void {
  expect(record.error?.code).toBe('BLOCKED_ADDRESS');
  if (reason !== undefined) expect(record.error?.message).toContain(`(${reason})`);
  expect(listener.connections).toBe(connectionsBefore);
}

describe('IP literals are blocked by default, in every notation, without a connection or a lookup', () => {
  const resolver = refusingResolver();
  let engine: FetchEngine;
  beforeAll(() => {
    engine = pool.make({}, { resolver });
  });

  it.each(LITERALS)('%s → BLOCKED_ADDRESS (%s)', async (template, reason) => {
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill(template) });
    expectBlocked(record, before, reason);
    expect(record).toMatchObject({ status: null, attempts: 1, redirects: 0 });
    expect(resolver.asked).toEqual([]);
  });
});

describe('names are checked on what they resolve to', () => {
  /** [what the name answers, the address named in the error, the reason]. */
  const BLOCKED_ANSWERS: [string, StubAnswer, string, string][] = [
    ['a private address', [v4('10.0.0.1')], '10.0.0.1', 'private'],
    ['loopback (the counting listener)', [v4('127.0.0.1')], '127.0.0.1', 'loopback'],
    ['IPv4 and IPv6 loopback, like localhost', [v4('127.0.0.1'), v6('::1')], '127.0.0.1', 'loopback'],
    ['the EC2 metadata address', [v4('169.254.169.254')], '169.254.169.254', 'link-local'],
    ['the ECS credentials address', [v4('169.254.170.2')], '169.254.170.2', 'link-local'],
    ['the EC2 IPv6 metadata address', [v6('fd00:ec2::254')], 'fd00:ec2::254', 'unique-local'],
    ['an IPv4-mapped loopback', [v6('::ffff:127.0.0.1')], '::ffff:127.0.0.1', 'ipv4-mapped'],
    ['a NAT64 private address', [v6('64:ff9b::a00:1')], '64:ff9b::a00:1', 'nat64'],
    ['a CGNAT address', [v4('100.64.0.1')], '100.64.0.1', 'cgnat'],
    ['a link-local address with a zone', [v6('fe80::1%eth0')], 'fe80::1%eth0', 'link-local'],
    ['a non-canonical IPv4 (127.1)', [v4('127.1')], '127.1', 'unparseable'],
    ['an IPv6 loopback tagged as family 4', [{ address: '::1', family: 4 }], '::1', 'loopback'],
  ];

  it.each(BLOCKED_ANSWERS)('a name answering %s is blocked', async (_what, answer, address, reason) => {
    const resolver = stubResolver({ 'victim.test': answer });
    const engine = pool.make({}, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://victim.test:{port}/') });
    expectBlocked(record, before, reason);
    expect(record.error?.message).toContain(`address ${address} `);
    expect(resolver.asked).toEqual(['victim.test']);
  });

  // 127.0.0.1 is allowed here, so the listener is a reachable target: one bad answer must still block the host.
  const MIXED: [string, StubAnswer][] = [
    ['allowed then private', [v4('127.0.0.1'), v4('10.0.0.1')]],
    ['private then allowed', [v4('10.0.0.1'), v4('127.0.0.1')]],
    ['allowed then metadata', [v4('127.0.0.1'), v4('169.254.169.254')]],
    ['allowed IPv4, loopback IPv6', [v4('127.0.0.1'), v6('::1')]],
    ['allowed IPv4, unique-local IPv6', [v4('127.0.0.1'), v6('fd00:ec2::254')]],
    ['allowed, then garbage', [v4('127.0.0.1'), v4('not-an-address')]],
  ];

  it.each(MIXED)('mixed answers (%s): the whole host is blocked', async (_what, answer) => {
    const engine = pool.make({ allow: ALLOW_TARGET }, { resolver: stubResolver({ 'mixed.test': answer }) });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://mixed.test:{port}/') });
    expectBlocked(record, before);
  });

  it('control: the same name answering only the allowed address is fetched', async () => {
    const resolver = stubResolver({ 'mixed.test': [v4('127.0.0.1')] });
    const engine = pool.make({ allow: ALLOW_TARGET }, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://mixed.test:{port}/') });
    expect(record).toMatchObject({ status: 200, error: null });
    expect(listener.connections).toBe(before + 1);
  });
});

describe('resolver failures fail closed', () => {
  const FAILURES: [string, StubAnswer, string, number][] = [
    ['ENOTFOUND', dnsFailure('ENOTFOUND'), 'DNS', 0],
    ['EAI_AGAIN on every attempt', dnsFailure('EAI_AGAIN'), 'DNS', 2],
    ['an error without a code', new Error('resolver exploded'), 'DNS', 0],
    ['an empty answer', [], 'DNS', 0],
    ['null instead of a list', { raw: null }, 'DNS', 0],
    ['a list holding null', { raw: [null] }, 'BLOCKED_ADDRESS', 0],
  ];

  it.each(FAILURES)('%s → %s, nothing connected', async (_what, answer, code, retries) => {
    const resolver = stubResolver({ 'broken.test': answer });
    const engine = pool.make({ allow: ALLOW_TARGET, retries }, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://broken.test:{port}/') });
    expect(record.error?.code).toBe(code);
    expect(record.attempts).toBe(retries + 1);
    expect(listener.connections).toBe(before);
  });

  it('a resolver that never answers ends in CONNECT_TIMEOUT, nothing connected', async () => {
    const resolver = stubResolver({ 'stalled.test': 'hang' });
    const engine = pool.make({ allow: ALLOW_TARGET, connectTimeoutMs: 200 }, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://stalled.test:{port}/') });
    expect(record.error?.code).toBe('CONNECT_TIMEOUT');
    expect(listener.connections).toBe(before);
  });
});

describe('DNS rebinding: the socket connects only to the address that was checked', () => {
  it('a name that rebinds to the metadata address on its next lookup is blocked on the new connection', async () => {
    // The listener answers with connection: close, so the second fetch needs a new socket and a new lookup.
    const resolver = stubResolver({ 'rebind.test': [[v4('127.0.0.1')], [v4('169.254.169.254')]] });
    const engine = pool.make({ allow: ALLOW_TARGET }, { resolver });
    const before = listener.connections;
    const first = await fetchItem(engine, { line: 1, url: fill('http://rebind.test:{port}/') });
    expect(first).toMatchObject({ status: 200, error: null });
    const second = await fetchItem(engine, { line: 2, url: fill('http://rebind.test:{port}/again') });
    expect(second.error?.code).toBe('BLOCKED_ADDRESS');
    expect(second.error?.message).toContain('169.254.169.254');
    expect(resolver.calls('rebind.test')).toBe(2);
    expect(listener.connections).toBe(before + 1);
  });

  it('a blocked first answer is final: no retry gets to see a rebound, allowed answer', async () => {
    const resolver = stubResolver({ 'rebind.test': [[v4('10.0.0.1')], [v4('127.0.0.1')]] });
    const engine = pool.make({ allow: ALLOW_TARGET, retries: 3 }, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://rebind.test:{port}/') });
    expectBlocked(record, before, 'private');
    expect(record.attempts).toBe(1);
    expect(resolver.calls('rebind.test')).toBe(1);
  });

  it('net.connect through the guarded lookup: one lookup per socket, and the socket is at the checked address', async () => {
    const resolver = stubResolver({ 'rebind.test': [[v4('127.0.0.1')], [v4('10.0.0.1')]] });
    const lookup = createGuardedLookup(
      new AddressPolicy({ allowPrivate: false, allow: ALLOW_TARGET }),
      resolver,
    );
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: 'rebind.test', port: listener.port, lookup });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    const before = listener.connections;
    const socket = await open();
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(resolver.calls('rebind.test')).toBe(1);
    socket.destroy();
    await expect(open()).rejects.toMatchObject({ code: 'BLOCKED_ADDRESS' });
    expect(resolver.calls('rebind.test')).toBe(2);
    expect(listener.connections).toBe(before + 1);
  });
});

describe('redirects from an allowed target are checked hop by hop', () => {
  let resolver: ReturnType<typeof stubResolver>;
  let engine: FetchEngine;
  beforeAll(() => {
    resolver = stubResolver(REDIRECT_NAMES);
    engine = pool.make({ allow: ALLOW_TARGET }, { resolver });
  });
  const start = (location: string) =>
    fill(`http://allowed.test:{target}/to?u=${encodeURIComponent(fill(location))}`);

  it.each(BLOCKED_HOPS)('→ %s is BLOCKED_ADDRESS, the hop not connected', async (location) => {
    const before = { connections: listener.connections, hops: target.requests.length };
    const record = await fetchItem(engine, { line: 1, url: start(location) });
    expectBlocked(record, before.connections);
    expect(record).toMatchObject({ status: 302, redirects: 1 });
    // The allowed first hop was served; nothing after it reached the target either.
    expect(target.requests.length).toBe(before.hops + 1);
  });

  it.each([
    ['file:///etc/passwd'],
    ['gopher://127.0.0.1:{port}/_GET%20/'],
    ['ftp://127.0.0.1:{port}/'],
    ['data:text/plain,hello'],
    ['javascript:alert(1)'],
    ['dict://127.0.0.1:{port}/info'],
  ])('→ %s is BAD_REDIRECT, nothing connected', async (location) => {
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: start(location) });
    expect(record.error?.code).toBe('BAD_REDIRECT');
    expect(listener.connections).toBe(before);
  });

  it('control: a redirect to another allowed URL is followed', async () => {
    const record = await fetchItem(engine, { line: 1, url: start('http://allowed.test:{target}/landing') });
    expect(record).toMatchObject({ status: 200, redirects: 1, error: null });
    expect(record.finalUrl).toBe(fill('http://allowed.test:{target}/landing'));
  });
});

describe('https → http redirects', () => {
  let secure: HttpsServer;
  let securePort = 0;
  let engine: FetchEngine;
  const trustedBefore = getCACertificates('default');

  beforeAll(async () => {
    const { key, cert } = selfSignedCertificate(['secure.test']);
    // Trusted in this test process only, so the https hop itself succeeds and the redirect is what is tested.
    setDefaultCACertificates([...trustedBefore, cert]);
    secure = createHttpsServer({ key, cert }, (req, res) => {
      const location = new URL(req.url ?? '/', 'https://x').searchParams.get('u') ?? '/';
      res.writeHead(302, { location, 'content-length': '0' }).end();
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    const address = secure.address();
    securePort = typeof address === 'object' && address !== null ? address.port : 0;
    engine = pool.make(
      { allow: ALLOW_TARGET },
      { resolver: stubResolver({ ...REDIRECT_NAMES, 'secure.test': [v4('127.0.0.1')] }) },
    );
  });
  afterAll(async () => {
    setDefaultCACertificates(trustedBefore);
    secure?.closeAllConnections();
    await new Promise<void>((resolve) => (secure ? secure.close(() => resolve()) : resolve()));
  });
  const start = (location: string) =>
    `https://secure.test:${securePort}/to?u=${encodeURIComponent(fill(location))}`;

  it.each([
    ['http://169.254.169.254/latest/meta-data/'],
    ['http://127.0.0.2:{port}/'],
    ['http://meta.test/latest/meta-data/'],
  ])('https → %s is BLOCKED_ADDRESS, the hop not connected', async (location) => {
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: start(location) });
    expectBlocked(record, before);
    expect(record).toMatchObject({ status: 302, redirects: 1 });
  });

  it('https → http to an allowed target is followed, and the record names the http URL', async () => {
    const record = await fetchItem(engine, { line: 1, url: start('http://allowed.test:{target}/plain') });
    expect(record).toMatchObject({ status: 200, redirects: 1, error: null });
    expect(record.finalUrl).toBe(fill('http://allowed.test:{target}/plain'));
  });
});

describe('userinfo and parser tricks', () => {
  it.each([
    ['http://a@127.0.0.1:{port}/'],
    ['http://user:pass@127.0.0.1:{port}/'],
    ['http://example.com@127.0.0.1:{port}/'],
    ['http://example.com:80@127.0.0.1:{port}/'],
    ['http://127.0.0.1:{port}\\@example.com/'],
    ['http://127.0.0.1:{port}#@example.com/'],
    ['http://127.0.0.1:{port}?@example.com/'],
    ['http://[::1]:{port}#@example.com/'],
  ])('%s goes to the loopback host and is blocked', async (template) => {
    const resolver = refusingResolver();
    const engine = pool.make({}, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill(template) });
    expectBlocked(record, before);
    expect(resolver.asked).toEqual([]);
  });

  it.each([
    ['http://example.com:{target}#@127.0.0.1:{port}/'],
    ['http://example.com:{target}?@127.0.0.1:{port}/'],
    ['http://example.com:{target}\\@127.0.0.1:{port}/'],
    ['http://127.0.0.1@example.com:{target}/'],
    ['http://127.0.0.1:{port}@example.com:{target}/'],
    ['http://[::1]@example.com:{target}/'],
  ])('%s goes to example.com, and only there', async (template) => {
    const resolver = stubResolver({ 'example.com': [v4('127.0.0.1')] });
    const engine = pool.make({ allow: ALLOW_TARGET }, { resolver });
    const before = { connections: listener.connections, requests: target.requests.length };
    const record = await fetchItem(engine, { line: 1, url: fill(template) });
    expect(record).toMatchObject({ status: 200, error: null });
    expect(resolver.asked).toEqual(['example.com']);
    const seen = target.requests.slice(before.requests);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.host).toBe(`example.com:${target.port}`);
    // Credentials in the URL are never sent on.
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(listener.connections).toBe(before.connections);
  });
});

describe('only http and https', () => {
  it.each(OTHER_SCHEMES)('the engine records %s as INVALID_URL without connecting', async (template) => {
    const engine = pool.make({ allowPrivate: true }, { resolver: refusingResolver() });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill(template) });
    expect(record.error?.code).toBe('INVALID_URL');
    expect(record.error?.message).toMatch(/http and https only/);
    expect(listener.connections).toBe(before);
  });

  it.each(OTHER_SCHEMES)('the input rejects %s as UNSUPPORTED_SCHEME', async (template) => {
    const events: InputEvent[] = [];
    const source = (async function* () {
      yield Buffer.from(`${fill(template)}\n`);
    })();
    for await (const event of inputEvents(source, { format: 'text' })) events.push(event);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'invalid', invalid: { line: 1, code: 'UNSUPPORTED_SCHEME' } });
  });
});

describe('proxy environment variables do not route around the policy (the built CLI)', () => {
  let proxy: CountingListener;
  let tmp: string;
  beforeAll(async () => {
    ensureCliBuilt();
    proxy = await startCountingListener();
    tmp = mkdtempSync(join(tmpdir(), 'fanout-ssrf-proxy-'));
  });
  afterAll(async () => {
    await proxy?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(proxy.connections).toBe(0);
  });

  /** Runs the CLI with every proxy variable pointing at the counting proxy. */
  async function runWithProxy(name: string, lines: string[], extra: string[] = []) {
    const input = join(tmp, `${name}.txt`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    const env: Record<string, string> = {
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      ALL_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      https_proxy: proxyUrl,
      all_proxy: proxyUrl,
      NO_PROXY: '',
      no_proxy: '',
      NODE_USE_ENV_PROXY: '1',
    };
    // runCli copies process.env when it spawns, synchronously: set the variables just around that.
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    let running: ReturnType<typeof runCli>;
    try {
      running = runCli(['run', input, '--out', tmp, '--job-id', name, '-q', '--retries', '0', ...extra], {
        timeoutMs: 30_000,
      });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const run = await running;
    expect(run.timedOut).toBe(false);
    return { run, job: readJob(tmp, name) };
  }

  it('blocked targets stay blocked and the proxy sees nothing', async () => {
    const before = listener.connections;
    const lines = [
      fill('http://127.0.0.1:{port}/'),
      fill('http://localhost:{port}/'),
      fill('http://2130706433:{port}/'),
      fill('http://[::1]:{port}/'),
      'http://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:9001/2018-06-01/runtime/invocation/next',
    ];
    const { run, job } = await runWithProxy('proxy-blocked', lines);
    expect(run.code).toBe(1);
    expect(job.results.map((r) => r.error?.code)).toEqual(lines.map(() => 'BLOCKED_ADDRESS'));
    expect(listener.connections).toBe(before);
  });

  it('an allowed target is fetched directly, not through the proxy', async () => {
    const before = target.requests.length;
    const url = fill('http://127.0.0.1:{target}/direct');
    const { run, job } = await runWithProxy('proxy-direct', [url], ['--allow', '127.0.0.1/32']);
    expect(run.code).toBe(0);
    expect(job.results).toMatchObject([{ url, status: 200, error: null }]);
    const seen = target.requests.slice(before);
    // Origin-form, as sent straight to the target; a proxy would have been sent the absolute URL.
    expect(seen.map((r) => r.target)).toEqual(['/robots.txt', '/direct']);
  });
});

describe('robots.txt obeyed: its request is held to the same policy', () => {
  it('a blocked first answer is final: robots.txt made the only lookup, nothing connected', async () => {
    const resolver = stubResolver({ 'rebind.test': [[v4('10.0.0.1')], [v4('127.0.0.1')]] });
    const engine = pool.make({ allow: ALLOW_TARGET, retries: 3, robots: 'obey' }, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://rebind.test:{port}/') });
    expectBlocked(record, before, 'private');
    expect(record.error?.message).toContain('address 10.0.0.1 is blocked');
    expect(resolver.calls('rebind.test')).toBe(1);
  });

  it('a name answering the metadata address: robots.txt is not asked there, the URL is blocked', async () => {
    const resolver = stubResolver({ 'victim.test': [[v4('169.254.169.254')]] });
    const engine = pool.make({ robots: 'obey' }, { resolver });
    const before = listener.connections;
    const record = await fetchItem(engine, { line: 1, url: fill('http://victim.test:{port}/') });
    expectBlocked(record, before, 'link-local');
  });
});
