/**
 * Splits a byte stream into lines without ever holding more than one line's allowed
 * length: a line longer than the limit keeps its first `maxLineBytes` bytes and the rest
 * is dropped as it streams past, so a 10 MB line costs 64 KiB, not 10 MB.
 */

/** One physical line of input, without its `\n` or `\r\n`. */
export interface Line {
  /** 1-based physical line number. */
  number: number;
  /**
   * The line's bytes (at most `maxLineBytes`). Lines that fit in one source chunk are
   * views into that chunk, not copies: use them before asking for the next line.
   */
  bytes: Buffer;
  /** True when the line was longer than `maxLineBytes` and was cut. */
  overflow: boolean;
  /**
   * Byte offset just after the line and its `\n` (where the next line starts), counted
   * over every byte of the input, the dropped tail of a cut line included.
   */
  end: number;
}

/** Where a splitter starts: a byte offset that begins a line, and the lines before it. */
export interface SplitStart {
  offset: number;
  line: number;
}

const LF = 0x0a;
const CR = 0x0d;

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function makeLine(number: number, bytes: Buffer, maxLineBytes: number, cut: boolean, at: number): Line {
  let end = bytes.length;
  if (!cut && end > 0 && bytes[end - 1] === CR) end--;
  if (cut || end > maxLineBytes)
    return { number, bytes: bytes.subarray(0, maxLineBytes), overflow: true, end: at };
  return { number, bytes: end === bytes.length ? bytes : bytes.subarray(0, end), overflow: false, end: at };
}

/**
 * Splits chunks into lines synchronously; `readLines` is the async face of it. Each
 * call returns the lines completed by that chunk; use them before the next call.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  // One extra byte so a line of exactly maxLineBytes followed by "\r\n" split across
  // chunks is not mistaken for an overflow.
  readonly #keepMax: number;
  #number: number;
  // Offset of the current chunk's first byte in the whole input.
  #base: number;
  // The unfinished line carried across chunks (copied: sources may reuse their buffers).
  #parts: Buffer[] = [];
  #kept = 0;
  // The unfinished line passed keepMax: its remaining bytes are being skipped.
  #skipping = false;

  /** `start`: the input begins at this offset, after this many lines (a resumed read). */
  constructor(maxLineBytes: number, start: SplitStart = { offset: 0, line: 0 }) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.#maxLineBytes = maxLineBytes;
    this.#keepMax = maxLineBytes + 1;
    this.#base = start.offset;
    this.#number = start.line;
  }

  /** The lines that `chunk` completes. */
  push(chunk: Uint8Array): Line[] {
    const buf = toBuffer(chunk);
    const lines: Line[] = [];
    let start = 0;
    let nl = buf.indexOf(LF, 0);
    while (nl !== -1) {
      this.#number++;
      const at = this.#base + nl + 1;
      if (this.#kept === 0 && !this.#skipping) {
        lines.push(makeLine(this.#number, buf.subarray(start, nl), this.#maxLineBytes, false, at));
      } else {
        this.#carry(buf.subarray(start, nl));
        lines.push(this.#finish(at));
      }
      start = nl + 1;
      nl = buf.indexOf(LF, start);
    }
    if (start < buf.length) this.#carry(buf.subarray(start));
    this.#base += buf.length;
    return lines;
  }

  /** The last line, when the input does not end with a newline. */
  end(): Line[] {
    if (this.#kept === 0 && !this.#skipping) return [];
    this.#number++;
    return [this.#finish(this.#base)];
  }

  #carry(piece: Buffer): void {
    if (this.#skipping || piece.length === 0) return;
    const room = this.#keepMax - this.#kept;
    if (piece.length > room) {
      this.#skipping = true;
      piece = piece.subarray(0, room);
    }
    this.#parts.push(Buffer.from(piece));
    this.#kept += piece.length;
  }

  #finish(end: number): Line {
    const bytes = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#kept);
    const line = makeLine(this.#number, bytes, this.#maxLineBytes, this.#skipping, end);
    this.#parts = [];
    this.#kept = 0;
    this.#skipping = false;
    return line;
  }
}

/** Yields the lines of `source` (`\n` or `\r\n`; a last line without newline included). */
export async function* readLines(
  source: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncGenerator<Line> {
  const splitter = new LineSplitter(maxLineBytes);
  for await (const chunk of source) {
    for (const line of splitter.push(chunk)) yield line;
  }
  for (const line of splitter.end()) yield line;
}
