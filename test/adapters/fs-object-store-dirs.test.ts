/**
 * Issue 22, item 8: the filesystem store's folders are made with a mkdir -p that ends.
 * Node's recursive mkdir retries for ever under /proc or below a dangling link.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../lambda/adapters/fs-object-store.js';

const dir = mkdtempSync(join(tmpdir(), 'fanout-store-dirs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FsObjectStore where a folder cannot be made', () => {
  it.each([
    ['under /proc', '/proc/nope'],
    ['below a dangling symbolic link', join(dir, 'dangling')],
  ])(
    '%s: put and putStream fail with ENOENT instead of spinning',
    async (_name, root) => {
      if (root.startsWith(dir)) symlinkSync(join(dir, 'missing'), root);
      const store = new FsObjectStore(root);
      await expect(store.put('jobs/j/summary.json', '{}')).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(store.putIfAbsent('jobs/j/parts/0.jsonl.gz', Buffer.from('x'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
      await expect(store.putStream('jobs/j/input.txt', (async function* () {})())).rejects.toMatchObject({
        code: 'ENOENT',
      });
    },
    10_000,
  );

  it('still makes every missing folder of a key, and writes into folders that exist', async () => {
    const store = new FsObjectStore(join(dir, 'fresh', 'out'));
    await store.put('jobs/j/a/b/c.txt', 'one');
    await store.put('jobs/j/a/b/d.txt', 'two');
    expect((await store.get('jobs/j/a/b/c.txt'))?.toString()).toBe('one');
    expect((await store.get('jobs/j/a/b/d.txt'))?.toString()).toBe('two');
  });
});
