/**
 * Byte sources for parseInputBatches: a file or stdin, checked before any work, and the gzip
 * sniffing that lets any source be compressed or not.
 */
import { access, constants, open, stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

const READ_CHUNK_BYTES = 256 * 1024;

/** Where to open a job's input: from a byte offset, and only the version with this ETag. */
export interface SourceStart {
  /** Read from this byte on (a ranged read); the whole input when absent or 0. */
  offset?: number;
  /** Refuse the input when its ETag differs (it was replaced since this one was read). */
  etag?: string;
}

/** An opened input: its bytes, and its ETag when the store has one. */
export interface OpenedSource {
  body: AsyncIterable<Uint8Array>;
  etag?: string;
}

/** "ENOENT: no such file or directory, access 'x'" → "ENOENT: no such file or directory". */
function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(',')[0] ?? message;
}

function hasStringCode(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Reads a file through its handle, not a stream: for a plain (not gzipped) file the
 * sockets are then the only Readables a local run drives while it fetches, and V8 keeps
 * their code specialised for them (a file stream beside them cost about 4% of the CPU
 * of a 20,000-URL run). Gunzip and stdin are still streams.
 */
async function* readFile(path: string, offset: number): AsyncGenerator<Uint8Array> {
  try {
    const file = await open(path);
    try {
      for (let position = offset; ; ) {
        const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await file.read(buffer, 0, READ_CHUNK_BYTES, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await file.close();
    }
  } catch (err) {
    throw new InputError('INPUT_UNREADABLE', `cannot read input ${path}: ${osReason(err)}`, { cause: err });
  }
}

/**
 * Opens a file (or stdin for '-'), from byte `offset` on, failing with INPUT_UNREADABLE
 * before any work when it cannot be read.
 */
export async function openInput(pathOrDash: string, offset = 0): Promise<AsyncIterable<Uint8Array>> {
  if (pathOrDash === '-') {
    if (offset > 0) throw new InputError('INPUT_UNREADABLE', 'stdin cannot be read from an offset');
    return process.stdin;
  }
  let isDirectory: boolean;
  try {
    await access(pathOrDash, constants.R_OK);
    isDirectory = (await stat(pathOrDash)).isDirectory();
  } catch (err) {
    throw new InputError('INPUT_UNREADABLE', `cannot read input ${pathOrDash}: ${osReason(err)}`, {
      cause: err,
    });
  }
  if (isDirectory)
    throw new InputError('INPUT_UNREADABLE', `cannot read input ${pathOrDash}: it is a directory`);
  return readFile(pathOrDash, offset);
}

/**
 * Passes `source` through, gunzipping it when it starts with the gzip magic bytes 1f 8b
 * (then `onGzip` is called before the first byte comes out).
 */
export async function* gunzipIfGzipped(
  source: AsyncIterable<Uint8Array>,
  onGzip?: () => void,
): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 2 && !ended) {
    const next = await it.next();
    if (next.done) ended = true;
    else {
      head.push(next.value);
      headBytes += next.value.length;
    }
  }
  async function* whole(): AsyncGenerator<Uint8Array> {
    try {
      yield* head;
      while (!ended) {
        const next = await it.next();
        if (next.done) ended = true;
        else yield next.value;
      }
    } finally {
      // Stopped early (the consumer broke off, or gunzip failed): let the source clean up.
      if (!ended) await it.return?.();
    }
  }
  const magic = Buffer.concat(head).subarray(0, 2);
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return yield* whole();
  onGzip?.();
  // Gunzip also decodes concatenated members (as `cat a.gz b.gz > ab.gz` produces).
  const gunzip = pipeline(Readable.from(whole(), { objectMode: false }), createGunzip(), () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    if (hasStringCode(err) && err.code.startsWith('Z_')) {
      const message = `input starts like gzip but cannot be decompressed: ${err.message}`;
      throw new InputError('INPUT_UNREADABLE', message, { cause: err });
    }
    throw err;
  }
}
