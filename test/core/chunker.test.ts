import { describe, expect, it } from 'vitest';
import { type Chunk, Chunker, chunkIdAt, itemBytes } from '../../lambda/core/chunker.js';
import { groupOfHostName, hostGroupOf, hostGroupsFor } from '../../lambda/core/host-group.js';
import type { InputItem } from '../../lambda/core/record.js';

const items = (n: number, urlLength = 30): InputItem[] =>
  Array.from({ length: n }, (_, i) => ({
    line: i + 1,
    url: `https://e.com/${String(i).padStart(urlLength, 'x')}`,
  }));

function chunkAll(list: InputItem[], size: number, maxBytes: number, groups = 1): Chunk[] {
  const chunker = new Chunker(size, maxBytes, groups);
  const out: Chunk[] = [];
  for (const item of list) {
    const chunk = chunker.add(item);
    if (chunk) out.push(chunk);
  }
  out.push(...chunker.flush());
  return out;
}

describe('Chunker', () => {
  it.each([
    [10, 3, [3, 3, 3, 1]],
    [9, 3, [3, 3, 3]],
    [1, 5, [1]],
    [0, 5, []],
    [5, 1, [1, 1, 1, 1, 1]],
  ])('%i items in chunks of %i → %j', (n, size, sizes) => {
    expect(chunkAll(items(n), size, 1_000_000).map((c) => c.items.length)).toEqual(sizes);
  });

  it('keeps every item once, in order, with sequential zero-padded ids', () => {
    const list = items(1000);
    const chunks = chunkAll(list, 7, 1_000_000);
    expect(chunks.flatMap((c) => c.items)).toEqual(list);
    expect(chunks.map((c) => c.chunkId)).toEqual(chunks.map((_, i) => chunkIdAt(i)));
    expect(chunkIdAt(42)).toBe('00000042');
  });

  it('stays under the byte cap', () => {
    const maxBytes = 2000;
    const chunks = chunkAll(items(500, 200), 100, maxBytes);
    for (const c of chunks) {
      const bytes = c.items.reduce((sum, i) => sum + Buffer.byteLength(JSON.stringify(i)) + 1, 0);
      expect(bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(chunks.flatMap((c) => c.items)).toHaveLength(500);
  });

  it('an item bigger than the cap travels alone', () => {
    const huge = { line: 1, url: `https://e.com/${'y'.repeat(5000)}` };
    const chunks = chunkAll([...items(2), huge, ...items(2)], 100, 1000);
    expect(chunks.map((c) => c.items.length)).toEqual([2, 1, 2]);
  });

  it('is deterministic: the same input gives the same chunks', () => {
    expect(chunkAll(items(333), 10, 3000)).toEqual(chunkAll(items(333), 10, 3000));
  });

  it.each<[string, InputItem]>([
    ['a plain URL', { line: 1, url: 'https://e.com/a?b=c&d=e#f' }],
    ['a big line number', { line: 123_456_789, url: 'http://x.y/' }],
    ['a quote', { line: 2, url: 'https://e.com/"q"' }],
    ['a backslash', { line: 3, url: 'https://e.com/a\\b' }],
    ['a control character', { line: 4, url: 'https://e.com/\u0001' }],
    ['DEL', { line: 5, url: 'https://e.com/\u007f' }],
    ['non-ASCII', { line: 6, url: 'https://bücher.example/ü' }],
    ['an astral character', { line: 7, url: 'https://e.com/😀' }],
    ['a lone surrogate', { line: 8, url: 'https://e.com/\ud800' }],
    ['an id and meta', { line: 9, url: 'https://e.com/', id: 'x', meta: { a: 1 } }],
  ])('counts the serialised bytes of an item with %s exactly', (_, item) => {
    expect(itemBytes(item)).toBe(Buffer.byteLength(JSON.stringify(item)) + 1);
  });
});

describe('Chunker by host group', () => {
  const spread = (n: number, hosts: number): InputItem[] =>
    Array.from({ length: n }, (_, i) => ({ line: i + 1, url: `https://h${i % hosts}.example/${i}` }));

  it('puts each host in one group and every chunk in one group, every item once', () => {
    const list = spread(2000, 37);
    const chunks = chunkAll(list, 25, 1_000_000, 8);
    for (const chunk of chunks) {
      expect(new Set(chunk.items.map((i) => hostGroupOf(i.url, 8)))).toEqual(new Set([chunk.group]));
    }
    expect(chunks.flatMap((c) => c.items).sort((a, b) => a.line - b.line)).toEqual(list);
    expect(chunks.map((c) => c.chunkId)).toEqual(chunks.map((_, i) => chunkIdAt(i)));
    // Only the last chunk of each group is partial.
    const partial = chunks.filter((c) => c.items.length < 25);
    expect(new Set(partial.map((c) => c.group)).size).toBe(partial.length);
  });

  it('keeps input order within a group', () => {
    const chunks = chunkAll(spread(500, 5), 10, 1_000_000, 4);
    for (const group of new Set(chunks.map((c) => c.group))) {
      const lines = chunks.filter((c) => c.group === group).flatMap((c) => c.items.map((i) => i.line));
      expect(lines).toEqual([...lines].sort((a, b) => a - b));
    }
  });

  it('a run resumed with the pending groups makes the chunks one long run makes', () => {
    const list = spread(1000, 23);
    const whole = chunkAll(list, 30, 1_000_000, 16);
    const first = new Chunker(30, 1_000_000, 16);
    const out: Chunk[] = [];
    for (const item of list.slice(0, 417)) {
      const chunk = first.add(item);
      if (chunk) out.push(chunk);
    }
    const saved = JSON.parse(JSON.stringify(first.pendingGroups()));
    const second = new Chunker(30, 1_000_000, 16, first.count, saved);
    expect(second.pending).toBe(first.pending);
    for (const item of list.slice(417)) {
      const chunk = second.add(item);
      if (chunk) out.push(chunk);
    }
    out.push(...second.flush());
    expect(out).toEqual(whole);
  });

  it('host names group as the limiter counts them: case and default port do not matter', () => {
    expect(hostGroupOf('https://EXAMPLE.com/a', 64)).toBe(hostGroupOf('https://example.com:443/b', 64));
    expect(hostGroupOf('https://example.com/a', 1)).toBe(0);
  });

  it('groups a URL by its host as the WHATWG parser reads it, with or without a full parse', () => {
    const urls = [
      'https://Example.COM/a',
      'http://example.com:8080?q=1',
      'https://example.com#f',
      'http://example.com',
      'http://example.com:/x',
      'https://example.com.\\path',
      'http://127.1/',
      'http://0x7f.0.0.1:80/',
      'http://10.0.0.017/',
      'http://a.b.c.4/',
      'http://user:pw@example.com/',
      'http://[::1]:8080/',
      'http://%65xample.com/',
      'HTTP://EXAMPLE.com/',
      'http:/example.com/',
      'https://bücher.example/',
      'http://a..b/',
      'http://-x-.example/',
      'https://example.123/',
    ];
    // Hosts of a few telling characters, from a fixed sequence: the same cases every run.
    const alphabet = 'aZ09.-_:@/%x';
    let state = 1;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return alphabet[state % alphabet.length];
    };
    for (let i = 0; i < 2000; i += 1) {
      let host = '';
      for (let k = 0; k <= i % 12; k += 1) host += next();
      urls.push(`http://${host}/p`);
    }
    for (const url of urls) {
      const parsed = URL.canParse(url) ? new URL(url).hostname : '';
      // 509 groups, a prime: two host names rarely share one by chance.
      expect(hostGroupOf(url, 509), url).toBe(groupOfHostName(parsed, 509));
    }
  });

  it('twice as many groups as workers, at most 512', () => {
    expect(hostGroupsFor(50)).toBe(100);
    expect(hostGroupsFor(1000)).toBe(512);
  });
});
