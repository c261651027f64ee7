/**
 * A job's input read once before the job starts, so the job knows the digest of its list
 * before it claims its id: a re-run with another list under the same id is then refused
 * before anything is fetched or written.
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirectory } from '../adapters/make-directory.js';
import { FanoutError } from '../core/errors.js';
import { openInput } from '../core/input/open-input.js';

/** The input, its digest, and how to read it from the start. */
export interface DigestedInput {
  /** sha256 (hex) of the bytes as read, before any gunzip. */
  digest: string;
  /** The same bytes again, from the start. */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * Hashes a file in a streaming pre-read (sha256 runs at about 1 GB/s), then reads it
 * again for the job. stdin ('-') cannot be read twice: it is copied to `spoolPath` while
 * it is hashed (memory stays flat), and the job reads the copy; the caller removes it.
 */
export async function digestInput(pathOrDash: string, spoolPath: string): Promise<DigestedInput> {
  const hash = createHash('sha256');
  if (pathOrDash !== '-') {
    for await (const chunk of await openInput(pathOrDash)) hash.update(chunk);
    return { digest: hash.digest('hex'), open: () => openInput(pathOrDash) };
  }
  let spool: Awaited<ReturnType<typeof open>>;
  try {
    await makeDirectory(dirname(spoolPath));
    spool = await open(spoolPath, 'w');
  } catch (err) {
    const reason = (err as Error).message.split(',')[0];
    throw new FanoutError('OUTPUT_UNWRITABLE', `cannot write to ${dirname(spoolPath)}: ${reason}`, {
      cause: err,
    });
  }
  try {
    for await (const chunk of await openInput('-')) {
      hash.update(chunk);
      await spool.writeFile(chunk);
    }
  } finally {
    await spool.close();
  }
  return { digest: hash.digest('hex'), open: () => openInput(spoolPath) };
}

/** Removes a stdin spool; nothing when there is none. */
export function removeSpool(spoolPath: string): Promise<void> {
  return rm(spoolPath, { force: true });
}
