import { gzipJsonl } from './jsonl.js';

/** Rows gathered before they are compressed as one gzip member. */
const MEMBER_ROWS = 1000;
/** Members compressed but not yet taken by the store before the writer waits. */
const MEMBERS_AHEAD = 4;

/**
 * Rows to a .jsonl.gz file as the store's `putStream` reads them: every 1,000 rows are
 * compressed as one gzip member (members concatenate into one valid gzip file). Each row
 * is serialised as it is written, not kept: a rejected line's text is a slice of its
 * whole input chunk, and a row kept would keep that chunk too. A plain async iterable,
 * not a zlib stream: a local run writes rejected lines while its sockets are busy, and a
 * second kind of stream in the process makes V8 deoptimise the stream code every socket
 * read goes through.
 *
 * `write` returns a promise only when the reader is four members behind: await it.
 * One writer, one reader.
 */
export class JsonlGzWriter implements AsyncIterable<Buffer> {
  /** The JSON lines not yet compressed, and how many. */
  private pending = '';
  private pendingRows = 0;
  private readonly members: Buffer[] = [];
  private wrote = false;
  private ended = false;
  /** The reader stopped early (the upload failed): later rows are dropped. */
  private closed = false;
  private failure: Error | null = null;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;

  /** Adds one row. Throws once `fail` was called. */
  write(row: unknown): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('write after end');
    if (this.closed) return undefined;
    this.pending += `${JSON.stringify(row)}\n`;
    this.pendingRows += 1;
    if (this.pendingRows < MEMBER_ROWS) return undefined;
    this.compress();
    if (this.members.length < MEMBERS_AHEAD) return undefined;
    return new Promise((resolve) => {
      this.wakeWriter = resolve;
    });
  }

  /** No more rows: the rest is compressed and the iteration ends after it. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    // A file with no rows is still a valid (empty) gzip file.
    if (this.pendingRows > 0 || !this.wrote) this.compress();
    this.wake();
  }

  /** Ends the iteration with `err` (the reader's upload then fails); later writes throw it. */
  fail(err: unknown): void {
    this.failure ??= err instanceof Error ? err : new Error(String(err));
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
    this.members.push(gzipJsonl(this.pending));
    this.wrote = true;
    this.pending = '';
    this.pendingRows = 0;
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
