import { describe, expect, it } from 'vitest';
import { type Chunk, Chunker, chunkIdAt, itemBytes } from '../../lambda/core/chunker.js';
import type { InputItem } from '../../lambda/core/record.js';

const items = (n: number, urlLength = 30): InputItem[] =>
  Array.from({ length: n }, (_, i) => ({
    line: i + 1,
    url: `https://e.com/${String(i).padStart(urlLength, 'x')}`,
  }));

function chunkAll(list: InputItem[], size: number, maxBytes: number): Chunk[] {
  const chunker = new Chunker(size, maxBytes);
  const out: Chunk[] = [];
  for (const item of list) {
    const chunk = chunker.add(item);
    if (chunk) out.push(chunk);
  }
  const last = chunker.flush();
  if (last) out.push(last);
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
