import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../lambda/adapters/fs-object-store.js';
import { MemoryObjectStore } from '../../lambda/adapters/memory-object-store.js';
import type { ObjectStore } from '../../lambda/core/ports.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fanout-store-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function* chunks(...parts: string[]) {
  for (const part of parts) yield Buffer.from(part);
}

describe.each([
  ['FsObjectStore', () => new FsObjectStore(join(dir, String(Math.random())))],
  ['MemoryObjectStore', () => new MemoryObjectStore()],
])('%s', (_name, make: () => ObjectStore) => {
  it('put, get, exists', async () => {
    const store = make();
    expect(await store.get('a/b.json')).toBeNull();
    expect(await store.exists('a/b.json')).toBe(false);
    await store.put('a/b.json', '{"x":1}');
    expect((await store.get('a/b.json'))?.toString()).toBe('{"x":1}');
    expect(await store.exists('a/b.json')).toBe(true);
  });

  it('putIfAbsent writes once: the first writer wins, the object is never replaced', async () => {
    const store = make();
    expect(await store.putIfAbsent('p/1', Buffer.from('first'))).toBe(true);
    expect(await store.putIfAbsent('p/1', Buffer.from('second'))).toBe(false);
    expect((await store.get('p/1'))?.toString()).toBe('first');
  });

  it('concurrent putIfAbsent: exactly one succeeds', async () => {
    const store = make();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putIfAbsent('race', Buffer.from(`w${i}`))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await store.get('race'))?.toString()).toBe(`w${winner}`);
  });

  it('putStream stores the whole stream', async () => {
    const store = make();
    await store.putStream('s/x', chunks('a', 'b', 'c'));
    expect((await store.get('s/x'))?.toString()).toBe('abc');
  });

  it('putStream keeps every byte of a long stream, in order, from a Node stream too', async () => {
    const store = make();
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100_000 + i, i));
    await store.putStream('s/long', Readable.from(parts));
    expect((await store.get('s/long'))?.equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('FsObjectStore specifics', () => {
  it('a failed stream leaves no object and no temporary file', async () => {
    const root = join(dir, 'failing');
    const store = new FsObjectStore(root);
    async function* broken() {
      yield Buffer.from('partial');
      throw new Error('source died');
    }
    await expect(store.putStream('jobs/x/results.jsonl.gz', broken())).rejects.toThrow('source died');
    expect(await store.exists('jobs/x/results.jsonl.gz')).toBe(false);
    expect(await readdir(join(root, 'jobs/x'))).toEqual([]);
  });

  it('refuses keys that escape the root', () => {
    const store = new FsObjectStore(join(dir, 'root'));
    expect(() => store.pathOf('../outside')).toThrow(/escapes/);
  });
});
