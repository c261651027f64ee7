/**
 * Streams a URL list (text, CSV or JSONL; gzip or not) into accepted items and rejected
 * lines, one line at a time, never holding the whole input.
 *
 * Every physical line counts towards line numbers (blanks, `#` comments and the CSV
 * header included). Blank and comment lines are skipped in every format; every other
 * line yields exactly one event. Codes of rejected lines:
 *
 * | situation                                                    | code               |
 * | ------------------------------------------------------------ | ------------------ |
 * | line longer than maxLineBytes                                | LINE_TOO_LONG      |
 * | line is not valid UTF-8                                      | INVALID_ENCODING   |
 * | JSONL: not valid JSON                                        | INVALID_JSON       |
 * | JSONL: not an object, or no `url` key                        | MISSING_URL        |
 * | JSONL: `url` not a string, `id` not string/number, `meta` not an object | INVALID_FIELD |
 * | CSV: malformed quoting, or field count differs from header   | INVALID_FIELD      |
 * | CSV/JSONL: `url` empty or only whitespace                    | MISSING_URL        |
 * | URL empty, unparseable, no host, control/space characters    | INVALID_URL        |
 * | URL scheme other than http/https                             | UNSUPPORTED_SCHEME |
 * | URL longer than maxUrlLength                                 | URL_TOO_LONG       |
 * | same URL as an earlier line (only with `dedupe`)             | DUPLICATE          |
 *
 * Whole-input failures throw InputError: a corrupt gzip stream or a binary file
 * (INPUT_UNREADABLE, binary-input.ts) and a CSV header that is unreadable or has no
 * `url` column (MISSING_URL_COLUMN).
 *
 * The pieces: line-reader.ts splits bytes into lines, line-parser.ts turns lines into
 * events (csv-rows.ts and jsonl-rows.ts for the two structured formats, url-check.ts for
 * every URL).
 */

import { INPUT_LIMITS } from '../defaults.js';
import { InvalidOptionError } from '../errors.js';
import { BinarySniffer } from './binary-input.js';
import type { InputEvent } from './input-event.js';
import { LineParser, type ParsedSoFar, type ParseSettings } from './line-parser.js';
import { LineSplitter, type SplitStart } from './line-reader.js';
import { gunzipIfGzipped } from './open-input.js';

/** Input formats; 'auto' decides by file name, then by the first content line. */
export const INPUT_FORMATS = ['auto', 'text', 'csv', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** How to read the input; every field is optional. */
export interface ParseInputOptions {
  /** @default 'auto' */
  format?: InputFormat;
  /** Name of the input (path or S3 key): picks the format by extension, and names the input in errors. */
  filename?: string;
  /** Report exact duplicate URLs after the first as DUPLICATE (keeps every URL seen in memory). @default false */
  dedupe?: boolean;
  /** @default INPUT_LIMITS.maxUrlLength */
  maxUrlLength?: number;
  /** @default INPUT_LIMITS.maxLineBytes */
  maxLineBytes?: number;
  /** Header names the job marks sensitive, besides Authorization, Cookie and Proxy-Authorization. @default [] */
  sensitiveHeaders?: readonly string[];
  /**
   * The source is a plain (not gzipped) input read from `offset`, the start of line
   * `line + 1`, with the format and CSV header its earlier lines decided: neither gzip nor
   * binary sniffing applies (the first read did both), line numbers and offsets go on.
   */
  from?: InputStart;
}

/** Where a resumed read of a plain input starts, and what the lines before it decided. */
export type InputStart = SplitStart & ParsedSoFar;

/** The events of one piece of input read. */
export interface InputBatch {
  events: InputEvent[];
  /** For each event, the byte offset just after its line: where a read that skips it starts. */
  ends: number[];
  /** False when the input is gzipped: its offsets count decompressed bytes and cannot start a ranged read. */
  plain: boolean;
  /** The format and CSV header decided by the lines so far. */
  soFar: ParsedSoFar | undefined;
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(option, `must be a positive integer, got ${value}`);
  }
  return value;
}

function settingsOf(options: ParseInputOptions): ParseSettings {
  const requested = options.format ?? 'auto';
  if (!INPUT_FORMATS.includes(requested)) {
    throw new InvalidOptionError('format', `must be one of ${INPUT_FORMATS.join(', ')}; got ${requested}`);
  }
  return {
    format: requested,
    filename: options.filename,
    dedupe: options.dedupe ?? false,
    maxUrlLength: positiveInteger('maxUrlLength', options.maxUrlLength, INPUT_LIMITS.maxUrlLength),
    maxLineBytes: positiveInteger('maxLineBytes', options.maxLineBytes, INPUT_LIMITS.maxLineBytes),
    sensitiveHeaders: options.sensitiveHeaders ?? [],
  };
}

/**
 * Streams a URL list as batches of events, one batch per chunk of input read: every
 * non-blank, non-comment line yields exactly one event. Cheaper to consume than one
 * event at a time when the consumer handles a batch synchronously. A binary input
 * throws before the first batch.
 */
export async function* parseInputBatches(
  source: AsyncIterable<Uint8Array>,
  options: ParseInputOptions = {},
): AsyncGenerator<InputBatch> {
  const settings = settingsOf(options);
  const { from } = options;
  const parser = new LineParser(settings, from);
  const splitter = new LineSplitter(settings.maxLineBytes, from);
  const sniffer = from ? null : new BinarySniffer(settings.filename);
  let plain = true;
  const batch = (): InputBatch => ({ events: [], ends: [], plain, soFar: undefined });
  const done = (out: InputBatch) => {
    out.soFar = parser.soFar();
    return out;
  };
  const bytesOf = from ? source : gunzipIfGzipped(source, () => (plain = false));
  for await (const chunk of bytesOf) {
    let bytes: Buffer | null = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (sniffer?.gathering) {
      bytes = sniffer.push(bytes);
      if (bytes === null) continue;
    }
    const out = batch();
    parser.parse(splitter.push(bytes), out.events, out.ends, bytes);
    if (out.events.length > 0) yield done(out);
  }
  const out = batch();
  const head = sniffer?.gathering ? sniffer.end() : null;
  if (head !== null) parser.parse(splitter.push(head), out.events, out.ends, head);
  parser.parse(splitter.end(), out.events, out.ends);
  if (out.events.length > 0) yield done(out);
}
