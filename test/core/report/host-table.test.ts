import { describe, expect, it } from 'vitest';
import { HostTable, hostOf } from '../../../lambda/core/report/host-table.js';

describe('hostOf', () => {
  it.each([
    ['https://Example.COM/a', 'example.com'],
    ['http://example.com:8080/a', 'example.com:8080'],
    ['https://user:pw@example.com/', 'example.com'],
    ['http://[::1]:80/', '[::1]'],
    ['https://bücher.example/', 'xn--bcher-kva.example'],
    ['not a url', '(not a URL)'],
    ['https://a.example?q=1', 'a.example'],
    ['https://a.example#frag', 'a.example'],
    ['https://b.example\\path', 'b.example'],
    ['http://example.com:80/', 'example.com'],
    ['https://exa\tmple.com/', 'example.com'],
    ['http://[::1', '(not a URL)'],
  ])('%s → %s', (url, host) => {
    expect(hostOf(url)).toBe(host);
    // Asked again, the answer comes from the prefix cache: the same.
    expect(hostOf(url)).toBe(host);
  });

  it('gives every URL of a prefix the host the parser gives it, whatever follows the authority', () => {
    const prefixes = ['https://Example.COM', 'http://user:pw@x.example:8080', 'https://bücher.example'];
    for (const prefix of prefixes) {
      for (const rest of ['', '/', '/a/b?c=d', '?q', '#f', '\\x']) {
        expect(hostOf(`${prefix}${rest}`)).toBe(new URL(`${prefix}${rest}`).host);
      }
    }
  });
});

describe('HostTable', () => {
  it('ranks the most failing hosts: failures, then failure rate, then name; failing hosts only', () => {
    const t = new HostTable(10);
    for (let i = 0; i < 10; i += 1) t.add('big.example', 10, i < 4 ? 'DNS' : null);
    for (let i = 0; i < 4; i += 1) t.add('small.example', 10, i < 3 ? 'TLS' : 'DNS');
    t.add('b.example', 10, 'TLS');
    t.add('small.example', 10, 'TLS');
    t.add('a.example', 10, 'TLS');
    t.add('fine.example', 10, null);
    expect(t.mostFailing(10).map((h) => [h.host, h.failures, h.records, h.topError])).toEqual([
      ['small.example', 5, 5, 'TLS'],
      ['big.example', 4, 10, 'DNS'],
      ['a.example', 1, 1, 'TLS'],
      ['b.example', 1, 1, 'TLS'],
    ]);
    expect(t.mostFailing(2)).toHaveLength(2);
  });

  it('ranks the slowest hosts by mean time per URL, then max', () => {
    const t = new HostTable(10);
    t.add('steady.example', 500, null);
    t.add('steady.example', 500, null);
    t.add('spiky.example', 10, null);
    t.add('spiky.example', 990, null);
    t.add('fast.example', 5, null);
    t.add('dead.example', 60_000, 'DEADLINE');
    expect(t.slowest(3).map((h) => [h.host, h.meanMs, h.maxMs])).toEqual([
      ['dead.example', 60_000, 60_000],
      ['spiky.example', 500, 990],
      ['steady.example', 500, 500],
    ]);
  });

  it('counts a job with up to twice the limit of hosts exactly', () => {
    const t = new HostTable(5);
    for (let i = 0; i < 10; i += 1) t.add(`h${i}.example`, i, null);
    expect(t.size).toBe(10);
    expect(t.cutOccurred).toBe(false);
    expect(t.otherHosts()).toEqual({ records: 0, failures: 0, dropped: 0 });
  });

  it('stays within twice its limit on a job with many hosts, and keeps the heavy failing and slow ones', () => {
    const limit = 50;
    const t = new HostTable(limit);
    let records = 0;
    let failures = 0;
    const add = (host: string, ms: number, code: string | null) => {
      t.add(host, ms, code);
      records += 1;
      if (code) failures += 1;
      expect(t.size).toBeLessThanOrEqual(2 * limit);
    };
    for (let i = 0; i < 20_000; i += 1) {
      add(`host-${i}.example`, 20 + (i % 50), i % 7 === 0 ? 'DNS' : null);
      // Two hosts that matter, arriving late and interleaved with thousands of one-off hosts.
      if (i >= 15_000 && i % 10 === 0) add('failing.example', 30, 'CONNECTION_REFUSED');
      if (i >= 15_000 && i % 25 === 0) add('slow.example', 30_000, null);
    }
    expect(t.cutOccurred).toBe(true);
    const [worst] = t.mostFailing(10);
    expect(worst).toMatchObject({ host: 'failing.example', topError: 'CONNECTION_REFUSED' });
    expect(worst?.failures).toBeGreaterThan(400);
    expect(t.slowest(1)[0]?.host).toBe('slow.example');
    // Every record is either on a host still held or counted under other hosts.
    const other = t.otherHosts();
    const held = t.slowest(2 * limit);
    expect(held.reduce((n, h) => n + h.records, 0) + other.records).toBe(records);
    expect(held.reduce((n, h) => n + h.failures, 0) + other.failures).toBe(failures);
  });

  it('rejects a limit below 2', () => {
    expect(() => new HostTable(1)).toThrow(RangeError);
  });
});
