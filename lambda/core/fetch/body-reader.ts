import { createHash, type Hash, hash } from 'node:crypto';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { BodyTooLargeError, FetchError } from '../errors.js';
import type { BodyMode } from '../job-options.js';

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
  /** Past maxBodyBytes, the body ends (BodyCutError with what was read) instead of failing: robots.txt. */
  cut?: boolean;
}

/** A body ended at its cap on purpose (BodyLimits.cut): the outcome holds what was read. */
export class BodyCutError extends Error {
  constructor(readonly outcome: BodyOutcome) {
    super('body cut at its cap');
    this.name = 'BodyCutError';
  }
}

/** Controls the flow of wire bytes: held back while a decoder catches up, stopped on a failure. */
export interface BodyFlow {
  pause(): void;
  resume(): void;
  /** A decoder failed, or the decoded body passed the cap, while wire bytes still arrive. */
  abort(err: Error): void;
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

/** The decoders of a body sent as it is: the common case, shared. */
const NO_DECODERS: readonly Transform[] = Object.freeze([]);

/** Decoders for a Content-Encoding header, in the order to apply them (last coding first). */
export function decodersFor(contentEncoding: string | string[] | undefined): readonly Transform[] {
  if (contentEncoding === undefined) return NO_DECODERS;
  const header = Array.isArray(contentEncoding) ? contentEncoding.join(',') : contentEncoding;
  if (header === '' || header === 'identity') return NO_DECODERS;
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
    if (!decoder) {
      for (const made of decoders) made.destroy();
      throw new FetchError('DECODE', `unsupported content coding "${coding}"`);
    }
    decoders.push(decoder);
  }
  return decoders;
}

type Done = (err: Error | null, outcome?: BodyOutcome) => void;

/**
 * Reads a response body as its bytes arrive: through its content decoders when it has
 * any, counting decoded bytes against the cap as they are produced (so a decompression
 * bomb stops at the cap), and keeping what the body mode asks for.
 *
 * Bytes are pushed in with `write` (which throws BODY_TOO_LARGE past the cap) and
 * `end` reports the outcome. A body without content coding is handled synchronously,
 * with no stream in between: that is the common case, and the cheap one.
 */
export class BodyReader {
  private bytes = 0;
  private wireBytes = 0;
  /** The first chunk, hashed in one call if it is the only one. */
  private first: Buffer | null = null;
  private hash: Hash | null = null;
  private keep: Buffer[] | null = null;
  private kept = 0;
  private readonly keepCap: number;
  private readonly decoders: readonly Transform[];
  private done: Done | null = null;
  private failure: Error | null = null;
  private ended = false;
  private draining = false;

  /** Throws BODY_TOO_LARGE (declared length over the cap) or DECODE (unusable coding). */
  constructor(
    headers: Record<string, string | string[] | undefined>,
    private readonly limits: BodyLimits,
    private readonly flow: BodyFlow,
  ) {
    const declared = Number(headers['content-length']);
    // Body mode 'warc' reads up to the cap, so the archive keeps the body's start (WARC-Truncated).
    if (declared > limits.maxBodyBytes && !limits.cut && limits.mode !== 'warc')
      throw new BodyTooLargeError(limits.maxBodyBytes, declared, true);
    this.keepCap =
      limits.mode === 'store' ? limits.maxBodyBytes : limits.mode === 'inline' ? limits.inlineMaxBytes : 0;
    this.decoders = decodersFor(headers['content-encoding']);
    if (this.decoders.length > 0) this.wireDecoders();
  }

  /** Takes the next wire bytes; throws BODY_TOO_LARGE past the cap. */
  write(chunk: Buffer): void {
    this.wireBytes += chunk.length;
    const first = this.decoders[0];
    if (first === undefined) {
      this.consume(chunk);
      return;
    }
    if (this.wireBytes > this.limits.maxBodyBytes) throw this.overCap();
    if (this.failure) throw this.failure;
    if (!first.write(chunk) && !this.draining) {
      this.draining = true;
      this.flow.pause();
      first.once('drain', () => {
        this.draining = false;
        this.flow.resume();
      });
    }
  }

  /** The wire body is complete; `done` gets the outcome once every decoder has finished. */
  end(done: Done): void {
    this.done = done;
    this.ended = true;
    const first = this.decoders[0];
    if (first === undefined) this.finish();
    else if (this.failure) this.report(this.failure);
    else first.end();
  }

  /** Stops reading: frees the decoders; `end`'s callback is not called after this. */
  destroy(): void {
    this.done = null;
    for (const decoder of this.decoders) decoder.destroy();
  }

  private wireDecoders(): void {
    const last = this.decoders[this.decoders.length - 1] as Transform;
    for (let i = 0; i < this.decoders.length; i += 1) {
      const decoder = this.decoders[i] as Transform;
      decoder.on('error', (err: Error) => this.fail(err));
      const next = this.decoders[i + 1];
      if (next) decoder.pipe(next);
    }
    last.on('data', (chunk: Buffer) => {
      if (this.failure) return;
      try {
        this.consume(chunk);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    last.on('end', () => this.finish());
  }

  private consume(chunk: Buffer): void {
    this.bytes += chunk.length;
    const max = this.limits.maxBodyBytes;
    if (this.bytes > max || this.wireBytes > max) {
      if (this.limits.cut) this.keepPart(chunk);
      throw this.overCap();
    }
    if (this.limits.mode !== 'none') {
      if (this.hash) this.hash.update(chunk);
      else if (this.first === null) this.first = chunk;
      else {
        this.hash = createHash('sha256').update(this.first).update(chunk);
        this.first = null;
      }
    }
    this.keepPart(chunk);
  }

  private keepPart(chunk: Buffer): void {
    if (this.kept < this.keepCap) {
      const part =
        chunk.length <= this.keepCap - this.kept ? chunk : chunk.subarray(0, this.keepCap - this.kept);
      this.keep ??= [];
      this.keep.push(part);
      this.kept += part.length;
    }
  }

  /** Past the cap: the cut body's outcome, or BODY_TOO_LARGE. */
  private overCap(): Error {
    return this.limits.cut ? new BodyCutError(this.outcome()) : this.tooLarge();
  }

  private tooLarge(): BodyTooLargeError {
    return new BodyTooLargeError(this.limits.maxBodyBytes, this.bytes, false);
  }

  /** A decoder failed or the decoded body passed the cap. */
  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    for (const decoder of this.decoders) decoder.destroy();
    if (!this.ended) {
      this.flow.abort(err);
      return;
    }
    this.report(err);
  }

  private report(err: Error): void {
    const done = this.done;
    this.done = null;
    done?.(err);
  }

  private finish(): void {
    const done = this.done;
    this.done = null;
    if (!done) return;
    done(null, this.outcome());
  }

  private outcome(): BodyOutcome {
    const { mode } = this.limits;
    let sha256: string | null = null;
    if (mode !== 'none') {
      if (this.hash) sha256 = this.hash.digest('hex');
      else sha256 = hash('sha256', this.first ?? EMPTY, 'hex');
    }
    const outcome: BodyOutcome = { bytes: this.bytes, wireBytes: this.wireBytes, sha256 };
    if (mode === 'store') outcome.stored = Buffer.concat(this.keep ?? [], this.kept);
    if (mode === 'inline')
      outcome.inline = inlineBody(Buffer.concat(this.keep ?? [], this.kept), this.kept < this.bytes);
    return outcome;
  }
}

const EMPTY = Buffer.alloc(0);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function inlineBody(bytes: Buffer, truncated: boolean): NonNullable<BodyOutcome['inline']> {
  try {
    return { body: strictUtf8.decode(bytes), encoding: 'utf8', truncated };
  } catch {
    // A cut can split a multi-byte character; binary bodies are not text at all.
    return { body: bytes.toString('base64'), encoding: 'base64', truncated };
  }
}
