import type { Stats } from 'node:fs';
import { lstat, mkdtemp, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FanoutError } from '../core/errors.js';
import { jobKeys } from '../core/job/keys.js';

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code ?? '';

/** Why a folder refused a new entry, in words. */
function why(folder: string, err: unknown): string {
  const code = codeOf(err);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${folder} (${code})`;
    case 'EROFS':
      return `${folder} is on a read-only file system (EROFS)`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left for ${folder} (${code})`;
    case 'ENOENT':
      // The folder exists, yet a new entry in it is "not found": /proc, /sys and the like.
      return `${folder} does not accept new folders (ENOENT)`;
    default:
      return `${folder}: ${(err as Error).message}`;
  }
}

/**
 * The nearest part of `path` that exists, and what it is. A part that cannot even be
 * looked at (EACCES) means the folder above it cannot be searched: that folder is named.
 */
async function nearestExisting(path: string): Promise<{ path: string; stats: Stats }> {
  let denied: unknown = null;
  for (let current = path; ; current = dirname(current)) {
    let stats: Stats;
    try {
      stats = await stat(current);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'ENOENT' && (await lstat(current).catch(() => null))?.isSymbolicLink()) {
        throw new Error(`${current} is a symbolic link to nothing`);
      }
      if (code === 'EACCES') denied = err;
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new Error(why(current, err));
      if (dirname(current) === current) throw new Error(why(current, err));
      continue;
    }
    if (denied) throw new Error(why(current, denied));
    return { path: current, stats };
  }
}

/**
 * Checks that `fanout run` can write its job under `out` (`<out>/jobs/<jobId>/`), before
 * the input is read or anything fetched: the folder, or the nearest existing folder above
 * it, must accept a new folder. Nothing is left behind. Throws a FanoutError
 * (OUTPUT_UNWRITABLE, exit 4) naming --out and the reason.
 */
export async function checkOutDir(out: string, jobId: string): Promise<void> {
  const fail = (reason: string) =>
    new FanoutError('OUTPUT_UNWRITABLE', `cannot write the job to --out ${out}: ${reason}`);
  let existing: { path: string; stats: Stats };
  try {
    existing = await nearestExisting(resolve(out, jobKeys.prefix(jobId)));
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (!existing.stats.isDirectory()) throw fail(`${existing.path} is a file, not a folder`);
  try {
    await rmdir(await mkdtemp(join(existing.path, '.fanout-check-')));
  } catch (err) {
    throw fail(why(existing.path, err));
  }
}
