import { randomBytes } from 'node:crypto';
import { access, link, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from '../core/ports.js';
import { makeDirectory } from './make-directory.js';

/**
 * An object store on the local filesystem: key `a/b/c` is file `ROOT/a/b/c`.
 * Writes go to a temporary file first, so readers never see half an object;
 * put-if-absent is a hard link, which the filesystem refuses atomically when the
 * name exists.
 */
export class FsObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The file behind a key. */
  pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`object key escapes the store: ${key}`);
    return path;
  }

  putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    return retryOnFdExhaustion(() => this.linkIfAbsent(key, body));
  }

  private async linkIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(path, body);
    try {
      await link(temp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.pathOf(key);
    return retryOnFdExhaustion(async () => rename(await this.writeTemp(path, body), path));
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(key);
    await makeDirectory(dirname(path));
    const temp = tempName(path);
    try {
      // The body can be consumed once, so only opening the file is retried. Written
      // through the handle, not a write stream: see JsonlGzWriter for why a local run keeps
      // other streams out of the process while its sockets are busy.
      const file = await retryOnFdExhaustion(() => open(temp, 'w'));
      try {
        for await (const chunk of body) await file.writeFile(chunk);
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await retryOnFdExhaustion(() => readFile(this.pathOf(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await retryOnFdExhaustion(() => access(this.pathOf(key)));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  private async writeTemp(path: string, body: Uint8Array | string): Promise<string> {
    await makeDirectory(dirname(path));
    const temp = tempName(path);
    await writeFile(temp, body);
    return temp;
  }
}

const FD_EXHAUSTED = new Set(['EMFILE', 'ENFILE']);
/** About a minute of waiting in all: idle keep-alive sockets close within seconds. */
const FD_RETRIES = 120;

/**
 * Runs a filesystem operation again while the process is out of file descriptors:
 * fetch sockets come and go (and the engine halves its concurrency when it runs out
 * too), so a short wait frees some. Anything else fails at once.
 */
async function retryOnFdExhaustion<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (err) {
      if (attempt >= FD_RETRIES || !FD_EXHAUSTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      await sleep(Math.random() * Math.min(1000, 10 * 2 ** attempt));
    }
  }
}

function tempName(path: string): string {
  return `${path}.tmp-${randomBytes(6).toString('hex')}`;
}
