import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from './ports.js';

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

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
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

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.pathOf(key);
    await rename(await this.writeTemp(path, body), path);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = tempName(path);
    try {
      await pipeline(body, createWriteStream(temp));
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  private async writeTemp(path: string, body: Uint8Array | string): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temp = tempName(path);
    await writeFile(temp, body);
    return temp;
  }
}

function tempName(path: string): string {
  return `${path}.tmp-${randomBytes(6).toString('hex')}`;
}
