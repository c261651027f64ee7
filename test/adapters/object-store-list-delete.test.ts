/** The ObjectStore port's list and delete, and the filesystem store's temporary files. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../lambda/adapters/fs-object-store.js';
import { MemoryObjectStore } from '../../lambda/adapters/memory-object-store.js';
import type { ObjectStore } from '../../lambda/core/ports.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fanout-store-list-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each([
  ['FsObjectStore', () => new FsObjectStore(join(dir, String(Math.random())))],
  ['MemoryObjectStore', () => new MemoryObjectStore()],
])('%s', (_name, make: () => ObjectStore) => {
  it('lists the keys under a prefix, sorted, at any depth', async () => {
    const store = make();
    for (const key of [
      'jobs/a/parts/2.gz',
      'jobs/a/parts/1.gz',
      'jobs/a/summary.json',
      'jobs/ab/x',
      'other',
    ]) {
      await store.put(key, key);
    }
    expect(await store.list('jobs/a/')).toEqual([
      'jobs/a/parts/1.gz',
      'jobs/a/parts/2.gz',
      'jobs/a/summary.json',
    ]);
    expect(await store.list('jobs/a')).toEqual([
      'jobs/a/parts/1.gz',
      'jobs/a/parts/2.gz',
      'jobs/a/summary.json',
      'jobs/ab/x',
    ]);
    expect(await store.list('nothing/here/')).toEqual([]);
    expect(await store.list('')).toHaveLength(5);
    expect(await store.list('oth')).toEqual(['other']);
  });

  it('deletes an object; deleting a missing one is no error', async () => {
    const store = make();
    await store.put('k/v', 'x');
    await store.delete('k/v');
    await store.delete('k/v');
    expect(await store.exists('k/v')).toBe(false);
    expect(await store.list('k/')).toEqual([]);
  });
});

describe('FsObjectStore temporary files', () => {
  it('a write under way leaves no temporary file when the process discards them on exit', async () => {
    const store = new FsObjectStore(join(dir, 'discard'));
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* body() {
      yield Buffer.from('first half');
      await blocked;
    }
    const writing = store.putStream('jobs/j/parts/00000000.jsonl.gz', body());
    const partsDir = join(store.root, 'jobs/j/parts');
    for (let i = 0; i < 100 && !(await readdir(partsDir).catch(() => [])).length; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await readdir(partsDir)).toHaveLength(1);
    store.discardTempFilesSync();
    expect(await readdir(partsDir)).toEqual([]);
    release();
    await writing.catch(() => {});
  });

  it('sweeps the temporary files of writers that are gone, keeps a live writer’s, and lists neither', async () => {
    const store = new FsObjectStore(join(dir, 'sweep'));
    await store.put('jobs/j/parts/00000000.jsonl.gz', 'part');
    const parts = join(store.root, 'jobs/j/parts');
    const stray = ['00000001.jsonl.gz.tmp-0123456789ab', '00000002.jsonl.gz.tmp-999999999-0123456789ab'];
    const live = `00000003.jsonl.gz.tmp-${process.pid}-0123456789ab`;
    for (const name of [...stray, live]) await writeFile(join(parts, name), 'half');
    expect(await store.list('jobs/j/')).toEqual(['jobs/j/parts/00000000.jsonl.gz']);
    expect(await store.sweepTempFiles('jobs/j/')).toBe(2);
    expect((await readdir(parts)).sort()).toEqual(['00000000.jsonl.gz', live]);
  });
});
