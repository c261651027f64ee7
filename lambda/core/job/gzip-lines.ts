import { gzipSync } from 'node:zlib';

/** Characters of text gathered before they are compressed as one gzip member. */
const MEMBER_CHARACTERS = 256 * 1024;
/** Members compressed but not yet taken by the store before a writer waits. */
const MEMBERS_AHEAD = 4;

/**
 * Lines to a gzip file as the store's `putStream` reads them: every 256 Ki characters are
 * compressed, in one call, into one gzip member (members concatenate into one valid
 * gzip file). Written as a plain async iterable, not a zlib stream: a local run writes
 * rejected lines while its sockets are busy, and a second kind of stream in the process
 * makes V8 deoptimise the stream code every socket read goes through.
 *
 * `write` returns a promise only when the reader is four members behind: await it.
 * Iterate once.
 */
export class GzipLines implements AsyncIterable<Buffer> {
  private pending: string[] = [];
  private pendingLength = 0;
  private readonly members: Buffer[] = [];
  private wrote = false;
  private ended = false;
  /** The reader stopped early (the upload failed): later lines are dropped. */
  private closed = false;
  private failure: Error | null = null;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;

  /** Adds one line (without its newline). Throws once `fail` was called. */
  write(line: string): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('write after end');
    if (this.closed) return undefined;
    this.pending.push(line, '\n');
    this.pendingLength += line.length + 1;
    if (this.pendingLength < MEMBER_CHARACTERS) return undefined;
    this.compress();
    if (this.members.length < MEMBERS_AHEAD) return undefined;
    return new Promise((resolve) => {
      this.wakeWriter = resolve;
    });
  }

  /** No more lines: the rest is compressed and the iteration ends after it. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    // A file with no lines is still a valid (empty) gzip file.
    if (this.pendingLength > 0 || !this.wrote) this.compress();
    this.wake();
  }

  /** Ends the iteration with `err` (the reader's upload then fails); later writes throw it. */
  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
    this.releaseWriter();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        const member = this.members.shift();
        if (member) {
          this.releaseWriter();
          yield member;
        } else if (this.ended) return;
        else
          await new Promise<void>((resolve) => {
            this.wakeReader = resolve;
          });
      }
    } finally {
      this.closed = true;
      this.members.length = 0;
      this.releaseWriter();
    }
  }

  private compress(): void {
    this.members.push(gzipSync(this.pending.join('')));
    this.wrote = true;
    this.pending = [];
    this.pendingLength = 0;
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = null;
    wake?.();
  }

  private releaseWriter(): void {
    if (this.members.length >= MEMBERS_AHEAD && !this.closed && !this.failure) return;
    const wake = this.wakeWriter;
    this.wakeWriter = null;
    wake?.();
  }
}
