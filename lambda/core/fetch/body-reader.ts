import { createHash } from 'node:crypto';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { BodyMode } from '../defaults.js';
import { FetchError } from '../errors.js';

/** What was kept of a response body. */
export interface BodyOutcome {
  /** Decoded bytes read. */
  bytes: number;
  /** Bytes as they came over the wire. */
  wireBytes: number;
  sha256: string | null;
  /** The whole decoded body, for body mode 'store'. */
  stored?: Buffer;
  inline?: { body: string; encoding: 'utf8' | 'base64'; truncated: boolean };
}

export interface BodyLimits {
  mode: BodyMode;
  maxBodyBytes: number;
  inlineMaxBytes: number;
}

/** Content codings applied one after another; more than this is refused as a decode bomb risk. */
const MAX_CODINGS = 3;

const hasZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

/** The Accept-Encoding fanout sends: what this runtime can decode. */
export const ACCEPT_ENCODING = hasZstd ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br';

function decoderFor(coding: string): Transform | null {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      return hasZstd
        ? (zlib as unknown as { createZstdDecompress(): Transform }).createZstdDecompress()
        : null;
    default:
      return null;
  }
}

/** Decoders for a Content-Encoding header, in the order to apply them (last coding first). */
export function decodersFor(contentEncoding: string | string[] | undefined): Transform[] {
  const header = Array.isArray(contentEncoding) ? contentEncoding.join(',') : (contentEncoding ?? '');
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length > MAX_CODINGS) {
    throw new FetchError(
      'DECODE',
      `${codings.length} content codings (${header}); at most ${MAX_CODINGS} are decoded`,
    );
  }
  const decoders: Transform[] = [];
  for (const coding of codings.reverse()) {
    const decoder = decoderFor(coding);
    if (!decoder) throw new FetchError('DECODE', `unsupported content coding "${coding}"`);
    decoders.push(decoder);
  }
  return decoders;
}

function tooLarge(max: number): FetchError {
  return new FetchError('BODY_TOO_LARGE', `body exceeds ${max} bytes`);
}

/**
 * Reads a response body to its end through its content decoders, counting decoded
 * bytes against the cap as they are produced (so a decompression bomb stops at the cap),
 * and keeps what the body mode asks for.
 */
export async function readBody(
  body: Readable,
  headers: Record<string, string | string[] | undefined>,
  limits: BodyLimits,
): Promise<BodyOutcome> {
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
    body.destroy();
    throw tooLarge(limits.maxBodyBytes);
  }
  let decoders: Transform[];
  try {
    decoders = decodersFor(headers['content-encoding']);
  } catch (err) {
    body.destroy();
    throw err;
  }
  const hash = limits.mode === 'none' ? null : createHash('sha256');
  const keep: Buffer[] = [];
  let kept = 0;
  const keepCap =
    limits.mode === 'store' ? limits.maxBodyBytes : limits.mode === 'inline' ? limits.inlineMaxBytes : 0;
  let bytes = 0;
  let wireBytes = 0;
  body.on('data', (chunk: Buffer) => {
    wireBytes += chunk.length;
  });

  await runPipeline(body, ...decoders, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      bytes += chunk.length;
      if (bytes > limits.maxBodyBytes || wireBytes > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes);
      hash?.update(chunk);
      if (kept < keepCap) {
        const part = chunk.length <= keepCap - kept ? chunk : chunk.subarray(0, keepCap - kept);
        keep.push(part);
        kept += part.length;
      }
    }
  });

  const outcome: BodyOutcome = { bytes, wireBytes, sha256: hash ? hash.digest('hex') : null };
  if (limits.mode === 'store') outcome.stored = Buffer.concat(keep, kept);
  if (limits.mode === 'inline') outcome.inline = inlineBody(Buffer.concat(keep, kept), kept < bytes);
  return outcome;
}

// pipeline's typings have no overload for a spread of transforms between a source and a sink.
const runPipeline = pipeline as (...streams: unknown[]) => Promise<void>;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function inlineBody(bytes: Buffer, truncated: boolean): NonNullable<BodyOutcome['inline']> {
  try {
    return { body: strictUtf8.decode(bytes), encoding: 'utf8', truncated };
  } catch {
    // A cut can split a multi-byte character; binary bodies are not text at all.
    return { body: bytes.toString('base64'), encoding: 'base64', truncated };
  }
}
