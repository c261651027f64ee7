import { randomBytes } from 'node:crypto';
import { constants, unlinkSync } from 'node:fs';
import { access, copyFile, link, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
  /** Temporary files being written now: removed if the process quits mid-write. */
  private readonly temps = new Set<string>();

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

  /** A copy of the file next to the object (copy-on-write where the filesystem has it), then linked. */
  putFileIfAbsent(key: string, file: string): Promise<boolean> {
    return retryOnFdExhaustion(() => this.linkIfAbsent(key, file));
  }

  private async linkIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const path = this.pathOf(key);
    const temp =
      typeof body === 'string' ? await this.copyTemp(path, body) : await this.writeTemp(path, body);
    try {
      await link(temp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(temp).catch(() => {});
      this.temps.delete(temp);
    }
  }

  put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.pathOf(key);
    return retryOnFdExhaustion(async () => this.commit(await this.writeTemp(path, body), path));
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(key);
    await makeDirectory(dirname(path));
    const temp = tempName(path);
    this.temps.add(temp);
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
    } catch (err) {
      await unlink(temp).catch(() => {});
      this.temps.delete(temp);
      throw err;
    }
    await this.commit(temp, path);
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

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for (const entry of await filesUnder(this.folderOf(prefix))) {
      const key = relative(this.root, entry).split(sep).join('/');
      if (key.startsWith(prefix) && !TEMP_NAME.test(key)) keys.push(key);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /**
   * Removes the temporary files under a prefix that no live process is writing: what a
   * process killed mid-write (a second Ctrl-C) left behind. Returns how many it removed.
   * Best effort: a folder it cannot read is left to the writes that follow to report.
   */
  async sweepTempFiles(prefix: string): Promise<number> {
    let removed = 0;
    for (const file of await filesUnder(this.folderOf(prefix)).catch(() => [])) {
      const match = TEMP_NAME.exec(file);
      if (!match || (match[1] !== undefined && isAlive(Number(match[1])))) continue;
      await unlink(file).catch(() => {});
      removed += 1;
    }
    return removed;
  }

  /** Removes the temporary files of writes still under way; for a process about to exit. */
  discardTempFilesSync(): void {
    for (const temp of this.temps) {
      try {
        unlinkSync(temp);
      } catch {
        // Already renamed or removed.
      }
    }
    this.temps.clear();
  }

  /** Renames a written temporary file to the object's path; a failed rename removes it. */
  private async commit(temp: string, path: string): Promise<void> {
    try {
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    } finally {
      this.temps.delete(temp);
    }
  }

  /** The deepest folder that holds every key under a prefix. */
  private folderOf(prefix: string): string {
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : dirname(prefix);
    return folder === '' || folder === '.' ? this.root : this.pathOf(folder);
  }

  private async copyTemp(path: string, file: string): Promise<string> {
    await makeDirectory(dirname(path));
    const temp = tempName(path);
    this.temps.add(temp);
    try {
      await copyFile(file, temp, constants.COPYFILE_FICLONE);
    } catch (err) {
      this.temps.delete(temp);
      await unlink(temp).catch(() => {});
      throw err;
    }
    return temp;
  }

  private async writeTemp(path: string, body: Uint8Array | string): Promise<string> {
    await makeDirectory(dirname(path));
    const temp = tempName(path);
    this.temps.add(temp);
    try {
      await writeFile(temp, body);
    } catch (err) {
      this.temps.delete(temp);
      await unlink(temp).catch(() => {});
      throw err;
    }
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

/** Paths of the files under a directory, at any depth; none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await retryOnFdExhaustion(() => readdir(dir, { recursive: true, withFileTypes: true }));
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** A temporary file's name: the writer's pid (to tell a live writer's file from a stray one) and randomness. */
function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** A temporary file, with its writer's pid (names from versions before had none). */
const TEMP_NAME = /\.tmp-(?:(\d+)-)?[0-9a-f]{12}$/;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
