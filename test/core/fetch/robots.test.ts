import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { FetchEngine } from '../../../lambda/core/fetch/engine.js';
import {
  productToken,
  ROBOTS_MAX_BYTES,
  RobotsRules,
  type RobotsVerdict,
} from '../../../lambda/core/fetch/robots.js';
import { objectRobotsStore, RobotsGate } from '../../../lambda/core/fetch/robots-gate.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import type { JobOptions } from '../../../lambda/core/job-options.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import {
  loopbackResolver,
  type Route,
  startTargetServer,
  type TargetServer,
} from '../../helpers/target-server.js';

const engines: FetchEngine[] = [];
function engine(
  overrides: Partial<JobOptions> = {},
  extra: Partial<ConstructorParameters<typeof FetchEngine>[0]> = {},
) {
  const options = resolveOptions({
    allow: ['127.0.0.1/32'],
    retries: 0,
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    timeoutMs: 5_000,
    ...overrides,
  });
  const e = new FetchEngine({ options, resolver: loopbackResolver, ...extra });
  engines.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

const servers: TargetServer[] = [];
async function site(
  robots: Route | string | null,
  routes: Record<string, Route> = {},
): Promise<TargetServer> {
  const robotsRoute: Record<string, Route> =
    robots === null
      ? {}
      : { '/robots.txt': typeof robots === 'string' ? (_q, res) => res.end(robots) : robots };
  const s = await startTargetServer(
    { ...robotsRoute, ...routes },
    { fallback: (_q, res) => res.end('page') },
  );
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const items = (s: TargetServer, ...paths: string[]) => paths.map((p, i) => ({ line: i + 1, url: s.url(p) }));

describe('robots.txt rules', () => {
  it('fetches what robots.txt allows and records ROBOTS_DISALLOWED, unfetched, for what it disallows', async () => {
    const s = await site('User-agent: *\nDisallow: /private\n');
    const [open, closed] = await engine().fetchAll(items(s, '/public', '/private/page'));
    expect(open).toMatchObject({ status: 200, error: null });
    expect(closed).toMatchObject({ status: null, attempts: 0, error: { code: 'ROBOTS_DISALLOWED' } });
    expect(closed?.error?.message).toContain(`${s.origin}/robots.txt`);
    expect(s.hits('/private/page')).toBe(0);
    expect(s.robotsRequests).toHaveLength(1);
  });

  it('asks robots.txt once per origin with the job User-Agent', async () => {
    const s = await site('User-agent: *\nAllow: /\n');
    const records = await engine({ userAgent: 'fanout/0.1 (+mailto:ops@example.com)' }).fetchAll(
      items(s, '/a', '/b', '/c', '/d'),
    );
    expect(records.every((r) => r.status === 200)).toBe(true);
    expect(s.robotsRequests).toHaveLength(1);
    expect(s.robotsRequests[0]?.headers['user-agent']).toBe('fanout/0.1 (+mailto:ops@example.com)');
  });

  it('matches groups on the product token of the User-Agent', async () => {
    const s = await site('User-agent: fanout\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n');
    const e = engine({ userAgent: 'fanout/0.1 (+x)' });
    const [open, closed] = await e.fetchAll(items(s, '/public', '/private'));
    expect(open?.status).toBe(200);
    expect(closed?.error?.code).toBe('ROBOTS_DISALLOWED');
    const other = await site('User-agent: fanout\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n');
    const [stranger] = await engine({ userAgent: 'otherbot/2.0' }).fetchAll(items(other, '/public'));
    expect(stranger?.error?.code).toBe('ROBOTS_DISALLOWED');
  });

  it('a 404 allows everything', async () => {
    const s = await site(null);
    const [r] = await engine().fetchAll(items(s, '/anything'));
    expect(r).toMatchObject({ status: 200, error: null });
    expect(s.robotsRequests).toHaveLength(1);
  });

  it('a 5xx disallows everything', async () => {
    const s = await site((_q, res) => res.writeHead(503).end('down'));
    const [r] = await engine().fetchAll(items(s, '/anything'));
    expect(r?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(r?.error?.message).toContain('could not be fetched');
    expect(s.hits('/anything')).toBe(0);
  });

  it('an unreachable robots.txt (the connection dies) disallows everything', async () => {
    const s = await site((_q, res) => res.destroy());
    const [r] = await engine().fetchAll(items(s, '/anything'));
    expect(r?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(s.hits('/anything')).toBe(0);
  });

  it('a host that refuses connections: robots.txt is unreachable, so its URLs are disallowed, naming why', async () => {
    const [r] = await engine({ retries: 1 }).fetchAll([{ line: 1, url: 'http://127.0.0.1:1/page' }]);
    expect(r).toMatchObject({ attempts: 0, error: { code: 'ROBOTS_DISALLOWED' } });
    expect(r?.error?.message).toMatch(
      /robots\.txt http:\/\/127\.0\.0\.1:1\/robots\.txt could not be fetched \(CONNECTION_REFUSED/,
    );
    // With robots.txt ignored, the URL fails on its own, with its own code and attempts.
    const [own] = await engine({ retries: 1, robots: 'ignore' }).fetchAll([
      { line: 1, url: 'http://127.0.0.1:1/page' },
    ]);
    expect(own).toMatchObject({ attempts: 2, error: { code: 'CONNECTION_REFUSED' } });
  });

  it('parses at least 500 KiB and reads no more than its cap of a larger robots.txt', async () => {
    const padding = `# ${'x'.repeat(1000)}\n`.repeat(490);
    const body = `User-agent: *\n${padding}Disallow: /deep\n${padding.repeat(2)}`;
    expect(body.length).toBeGreaterThan(ROBOTS_MAX_BYTES);
    const s = await site(body);
    const [open, closed] = await engine().fetchAll(items(s, '/shallow', '/deep'));
    expect(open?.status).toBe(200);
    expect(closed?.error?.code).toBe('ROBOTS_DISALLOWED');
  });

  it("spaces request starts to the host by robots.txt's Crawl-delay", async () => {
    const s = await site('User-agent: fanout\nCrawl-delay: 0.2\n');
    const records = await engine({ perHost: 8 }).fetchAll(items(s, '/1', '/2', '/3', '/4'));
    expect(records.every((r) => r.status === 200)).toBe(true);
    const starts = s.requests.map((r) => r.at).sort((a, b) => a - b);
    const gaps = starts.slice(1).map((at, i) => at - (starts[i] as number));
    // Date.now() at the server: whole milliseconds, so a few ms of slack.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(195);
  });

  it('with robots "ignore" asks for no robots.txt', async () => {
    const s = await site('User-agent: *\nDisallow: /\n');
    const [r] = await engine({ robots: 'ignore' }).fetchAll(items(s, '/page'));
    expect(r?.status).toBe(200);
    expect(s.robotsRequests).toHaveLength(0);
  });

  it('takes a host slot for robots.txt without deadlocking perHost 1', async () => {
    const s = await site('User-agent: *\nDisallow: /no\n');
    const records = await engine({ perHost: 1, concurrency: 1 }).fetchAll(items(s, '/a', '/b', '/no', '/c'));
    expect(records.map((r) => r.error?.code ?? r.status)).toEqual([200, 200, 'ROBOTS_DISALLOWED', 200]);
    expect(s.maxInFlight).toBe(1);
  });
});

describe('robots.txt redirects', () => {
  /** robots.txt answered by `hops` redirects, then the rules. */
  function chain(hops: number, rules: string): Route {
    return (req, res) => {
      const at = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('hop') ?? '0');
      if (at < hops) res.writeHead(302, { location: `/robots.txt?hop=${at + 1}` }).end();
      else res.end(rules);
    };
  }

  it('follows up to 5 redirects', async () => {
    const s = await site(chain(5, 'User-agent: *\nDisallow: /\n'));
    const [r] = await engine().fetchAll(items(s, '/page'));
    expect(r?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(s.robotsRequests).toHaveLength(6);
  });

  it('treats more than 5 redirects as unavailable: everything is allowed', async () => {
    const s = await site(chain(6, 'User-agent: *\nDisallow: /\n'));
    const [r] = await engine().fetchAll(items(s, '/page'));
    expect(r?.status).toBe(200);
    expect(s.robotsRequests).toHaveLength(6);
  });

  it('a robots.txt redirecting to a blocked address disallows, connecting nowhere there', async () => {
    // A second server on 127.0.0.2, outside the allowed 127.0.0.1/32: nothing may connect to it.
    let connections = 0;
    const { createServer } = await import('node:net');
    const trap = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.2', resolve));
    const trapPort = (trap.address() as { port: number }).port;
    try {
      const literal = await site((_q, res) =>
        res.writeHead(301, { location: `http://127.0.0.2:${trapPort}/robots.txt` }).end(),
      );
      const named = await site((_q, res) =>
        res.writeHead(301, { location: `http://metadata.test:${trapPort}/robots.txt` }).end(),
      );
      const resolver = async (host: string) => [
        { address: host === 'metadata.test' ? '169.254.169.254' : '127.0.0.1', family: 4 as const },
      ];
      const e = engine({}, { resolver });
      const [a, b] = await e.fetchAll([
        { line: 1, url: literal.url('/page') },
        { line: 2, url: named.url('/page') },
      ]);
      expect(a?.error?.code).toBe('ROBOTS_DISALLOWED');
      expect(a?.error?.message).toContain('127.0.0.2');
      expect(b?.error?.code).toBe('ROBOTS_DISALLOWED');
      expect(literal.hits('/page') + named.hits('/page')).toBe(0);
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
  });

  it('a host that resolves to a blocked address is not fetched, robots.txt included', async () => {
    const s = await site('User-agent: *\nAllow: /\n');
    const resolver = async () => [{ address: '169.254.169.254', family: 4 as const }];
    const [r] = await engine({}, { resolver }).fetchAll([{ line: 1, url: s.url('/page', 'metadata.test') }]);
    expect(r?.error?.code).toBe('BLOCKED_ADDRESS');
    expect(s.robotsRequests).toHaveLength(0);
  });

  it("checks a URL's redirect to another origin against that origin's robots.txt", async () => {
    const target = await site('User-agent: *\nDisallow: /landing\n');
    const source = await site('User-agent: *\nAllow: /\n', {
      '/go': (_q, res) => res.writeHead(302, { location: target.url('/landing') }).end(),
    });
    const [r] = await engine().fetchAll(items(source, '/go'));
    expect(r?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(r?.error?.message).toContain(`${target.origin}/robots.txt`);
    expect(target.hits('/landing')).toBe(0);
    expect(target.robotsRequests).toHaveLength(1);
  });
});

describe('robots.txt verdicts shared through the job store', () => {
  it('a second engine on the same store asks for no robots.txt', async () => {
    const s = await site('User-agent: *\nDisallow: /private\n');
    const store = new MemoryObjectStore();
    const robotsStore = objectRobotsStore(store, 'job-1');
    const [first] = await engine({}, { robotsStore }).fetchAll(items(s, '/private'));
    const [second, third] = await engine({}, { robotsStore }).fetchAll(items(s, '/private', '/public'));
    expect(first?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(second?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(third?.status).toBe(200);
    expect(s.robotsRequests).toHaveLength(1);
    const kept = JSON.parse(String(await store.get(jobKeys.robots('job-1', s.origin)))) as RobotsVerdict;
    expect(kept).toMatchObject({ url: `${s.origin}/robots.txt`, outcome: 'rules', status: 200 });
    expect(kept.body).toContain('Disallow: /private');
  });

  it('keys an origin as one safe segment under the job', () => {
    expect(jobKeys.robots('j', 'https://a.example:8443')).toBe('jobs/j/robots/https_a.example_8443.json');
  });
});

describe('robots.ts', () => {
  it.each([
    ['fanout/0.1 (+mailto:x)', 'fanout'],
    ['fanout', 'fanout'],
    ['Mozilla/5.0 (compatible)', 'Mozilla'],
    ['my bot', 'my'],
  ])('the product token of %s is %s', (ua, token) => {
    expect(productToken(ua)).toBe(token);
  });

  it('caps Crawl-delay and refuses to answer for another origin', () => {
    const verdict: RobotsVerdict = {
      url: 'http://a.test/robots.txt',
      outcome: 'rules',
      status: 200,
      body: 'User-agent: *\nCrawl-delay: 4000\n',
      fetchedAt: new Date().toISOString(),
    };
    const rules = new RobotsRules(verdict, 'fanout');
    expect(rules.crawlDelayMs).toBe(30_000);
    expect(() => rules.allows(new URL('http://b.test/x'))).toThrow(/asked about/);
    const fractional = new RobotsRules(
      { ...verdict, body: 'User-agent: fanout\nCrawl-delay: 0.25\n' },
      'fanout',
    );
    expect(fractional.crawlDelayMs).toBe(250);
  });
});

describe('RobotsGate', () => {
  it('keeps the rules of at most 10,000 origins, asking again for one it dropped', async () => {
    const asked: string[] = [];
    const gate = new RobotsGate({
      token: 'fanout',
      fetch: async (origin) => {
        asked.push(origin);
        return { url: `${origin}/robots.txt`, outcome: 'unavailable', status: 404, fetchedAt: '' };
      },
    });
    const known = (url: URL) => new Promise<void>((resolve) => gate.wait(url, { known: resolve }));
    for (let i = 0; i <= 10_000; i += 1) await known(new URL(`http://h${i}.test/`));
    expect(asked).toHaveLength(10_001);
    expect(gate.rulesFor(new URL('http://h0.test/x'))).toBeNull();
    expect(gate.rulesFor(new URL('http://h10000.test/x'))?.allows(new URL('http://h10000.test/x'))).toBe(
      true,
    );
    await known(new URL('http://h0.test/'));
    expect(asked).toHaveLength(10_002);
  });
});
