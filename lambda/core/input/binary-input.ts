/**
 * Tells a binary file from a URL list by its first bytes (after gunzip), before any
 * line is parsed, so a PNG or a database dump fails as a whole (INPUT_UNREADABLE) instead
 * of becoming a job of invalid lines. The rule, as git and grep apply it: text never
 * holds a NUL byte. Also binary: bytes that are not UTF-8 together with control
 * characters (random data with no NUL yet); a Latin-1 line alone is not, it is one
 * INVALID_ENCODING line.
 */
import { InputError } from '../errors.js';

/** How much of the start of the input is looked at. */
export const SNIFF_BYTES = 8 * 1024;

/** C0 control characters other than tab, LF, VT, FF, CR and ESC: never in text. */
function isControl(byte: number): boolean {
  return byte < 0x20 && !(byte >= 0x09 && byte <= 0x0d) && byte !== 0x1b;
}

/** Why the start of the input is not a text list, or null when it may be one. */
function binaryReason(head: Buffer, complete: boolean): string | null {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    return 'it is UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)';
  }
  const nul = head.indexOf(0);
  if (nul !== -1) return `it looks binary (a NUL byte at byte ${nul})`;
  if (!head.some(isControl)) return null;
  try {
    // stream: a window that ends inside a character is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete });
    return null;
  } catch {
    return `it looks binary (control characters and bytes that are not UTF-8 in its first ${SNIFF_BYTES} bytes)`;
  }
}

/**
 * Holds back the start of the input until SNIFF_BYTES are in (or the input ends) and
 * checks it once; after that, chunks pass straight through.
 */
export class BinarySniffer {
  private head: Buffer[] | null = [];
  private headBytes = 0;

  /** `name`: the input's name for the message (a path, an S3 key, '-' for stdin). */
  constructor(private readonly name: string | undefined) {}

  /** Still gathering the start of the input. */
  get gathering(): boolean {
    return this.head !== null;
  }

  /** Takes a chunk while gathering: null until the start is complete, then all of it so far, checked. */
  push(chunk: Buffer): Buffer | null {
    (this.head as Buffer[]).push(chunk);
    this.headBytes += chunk.length;
    return this.headBytes < SNIFF_BYTES ? null : this.release(false);
  }

  /** The input ended while gathering: what was gathered, checked (null when there was nothing). */
  end(): Buffer | null {
    return this.headBytes === 0 ? null : this.release(true);
  }

  private release(complete: boolean): Buffer {
    const parts = this.head as Buffer[];
    this.head = null;
    const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.headBytes);
    const reason = binaryReason(all.subarray(0, SNIFF_BYTES), complete && all.length <= SNIFF_BYTES);
    if (reason !== null) {
      const name = this.name === '-' ? 'stdin' : (this.name ?? 'the input');
      throw new InputError(
        'INPUT_UNREADABLE',
        `${name} is not a URL list: ${reason}; fanout reads UTF-8 text, CSV or JSONL, gzipped or not`,
      );
    }
    return all;
  }
}
