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
 * Whole-input failures throw InputError: a corrupt gzip stream (INPUT_UNREADABLE) and a
 * CSV header that is unreadable or has no `url` column (MISSING_URL_COLUMN).
 */

import { isAscii } from 'node:buffer';
import { INPUT_LIMITS } from '../defaults.js';
import { InputError, type InputErrorCode, InvalidOptionError } from '../errors.js';
import type { InputItem, InvalidLine } from '../record.js';
import { splitCsvLine } from './csv-line.js';
import { type Line, LineSplitter } from './line-reader.js';
import { gunzipIfGzipped } from './open-input.js';
import { checkUrl } from './url-check.js';

/** Input formats; 'auto' decides by file name, then by the first content line. */
export const INPUT_FORMATS = ['auto', 'text', 'csv', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** One outcome per content line: an accepted URL or a rejected line. */
export type InputEvent = { kind: 'url'; item: InputItem } | { kind: 'invalid'; invalid: InvalidLine };

/** How to read the input; every field is optional. */
export interface ParseInputOptions {
  /** @default 'auto' */
  format?: InputFormat;
  /** Name of the input (path or S3 key), used only to pick the format by extension. */
  filename?: string;
  /** Report exact duplicate URLs after the first as DUPLICATE (keeps every URL seen in memory). @default false */
  dedupe?: boolean;
  /** @default INPUT_LIMITS.maxUrlLength */
  maxUrlLength?: number;
  /** @default INPUT_LIMITS.maxLineBytes */
  maxLineBytes?: number;
}

type Format = Exclude<InputFormat, 'auto'>;
interface CsvHeader {
  line: number;
  width: number;
  urlIndex: number;
  idIndex: number;
  /** [column index, meta key] for every other named column. */
  metaColumns: [number, string][];
}

const RAW_MAX_CHARS = 200;
const HASH = 0x23;
const BRACE = 0x7b;

function formatFromFilename(filename: string | undefined): Format | undefined {
  const name = filename?.toLowerCase().replace(/\.gz$/, '') ?? '';
  if (name.endsWith('.txt')) return 'text';
  if (name.endsWith('.csv')) return 'csv';
  if (/\.(jsonl|ndjson|json-lines)$/.test(name)) return 'jsonl';
  return undefined;
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(option, `must be a positive integer, got ${value}`);
  }
  return value;
}

function cut(text: string): string {
  if (text.length <= RAW_MAX_CHARS) return text;
  const end = /[\uD800-\uDBFF]/.test(text[RAW_MAX_CHARS - 1]!) ? RAW_MAX_CHARS - 1 : RAW_MAX_CHARS;
  return text.slice(0, end);
}

/** Lossy decode of the start of a line, for reports (4 bytes per char at most). */
function lossy(bytes: Buffer): string {
  return cut(bytes.toString('utf8', 0, Math.min(bytes.length, RAW_MAX_CHARS * 4)));
}

function invalid(line: number, code: InputErrorCode, message: string, raw: string): InputEvent {
  return { kind: 'invalid', invalid: { line, code, message, raw: cut(raw) } };
}

function readCsvHeader(text: string | undefined, line: number, problem?: InputEvent): CsvHeader {
  const fields = text === undefined ? null : splitCsvLine(text);
  if (fields === null) {
    const why = problem?.kind === 'invalid' ? problem.invalid.message : 'malformed CSV quoting';
    throw new InputError('MISSING_URL_COLUMN', `CSV header on line ${line} cannot be read (${why})`);
  }
  const names = fields.map((f) => f.trim());
  const urlIndex = names.findIndex((n) => n.toLowerCase() === 'url');
  if (urlIndex === -1) {
    const found = names.map((n) => JSON.stringify(n)).join(', ');
    throw new InputError(
      'MISSING_URL_COLUMN',
      `CSV header on line ${line} has no url column; found: ${found}`,
    );
  }
  const idIndex = names.findIndex((n) => n.toLowerCase() === 'id');
  const metaColumns: [number, string][] = [];
  names.forEach((name, i) => {
    if (name !== '' && i !== urlIndex && i !== idIndex) metaColumns.push([i, name]);
  });
  return { line, width: names.length, urlIndex, idIndex, metaColumns };
}

function isCsvHeader(text: string): boolean {
  return splitCsvLine(text)?.some((f) => f.trim().toLowerCase() === 'url') ?? false;
}

function urlEvent(
  line: number,
  url: string,
  raw: string,
  maxUrlLength: number,
  item?: Partial<InputItem>,
): InputEvent {
  const checked = checkUrl(url, maxUrlLength);
  if (!checked.ok) return invalid(line, checked.code, checked.message, raw);
  return { kind: 'url', item: { line, url: checked.url, ...item } };
}

function fromCsv(line: number, text: string, header: CsvHeader, maxUrlLength: number): InputEvent {
  const fields = splitCsvLine(text);
  if (fields === null) {
    return invalid(line, 'INVALID_FIELD', 'malformed CSV quoting (unterminated quote?)', text);
  }
  if (fields.length !== header.width) {
    const message = `row has ${fields.length} fields; the header on line ${header.line} has ${header.width}`;
    return invalid(line, 'INVALID_FIELD', message, text);
  }
  const url = fields[header.urlIndex]!;
  if (url.trim() === '') return invalid(line, 'MISSING_URL', 'url column is empty', text);
  const item: Partial<InputItem> = {};
  const id = header.idIndex === -1 ? '' : fields[header.idIndex]!;
  if (id !== '') item.id = id;
  const meta: [string, string][] = [];
  for (const [i, key] of header.metaColumns) {
    if (fields[i] !== '') meta.push([key, fields[i]!]);
  }
  // fromEntries defines own properties, so a column named __proto__ stays plain data.
  if (meta.length > 0) item.meta = Object.fromEntries(meta);
  return urlEvent(line, url, text, maxUrlLength, item);
}

function fromJsonl(line: number, text: string, maxUrlLength: number): InputEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return invalid(line, 'INVALID_JSON', `not valid JSON: ${(err as Error).message}`, text);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(line, 'MISSING_URL', 'line is not a JSON object with a url', text);
  }
  const { url, id, meta } = value as Record<string, unknown>;
  if (url === undefined) return invalid(line, 'MISSING_URL', 'object has no url', text);
  if (typeof url !== 'string') return invalid(line, 'INVALID_FIELD', 'url must be a string', text);
  if (url.trim() === '') return invalid(line, 'MISSING_URL', 'url is empty', text);
  const item: Partial<InputItem> = {};
  if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) item.id = String(id);
  else if (id !== undefined) return invalid(line, 'INVALID_FIELD', 'id must be a string or a number', text);
  if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) {
    item.meta = meta as Record<string, unknown>;
  } else if (meta !== undefined) return invalid(line, 'INVALID_FIELD', 'meta must be an object', text);
  return urlEvent(line, url, text, maxUrlLength, item);
}

/** Options checked, defaults applied. */
interface ParseSettings {
  format: InputFormat;
  filename: string | undefined;
  dedupe: boolean;
  maxUrlLength: number;
  maxLineBytes: number;
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
  };
}

/** Turns lines into events, synchronously; it remembers the format, the CSV header and, with dedupe, the URLs seen. */
class LineParser {
  private format: Format | undefined;
  private header: CsvHeader | undefined;
  private readonly firstLineOf: Map<string, number> | undefined;
  // ignoreBOM keeps a U+FEFF in the output: only line 1's BOM is a BOM, and we strip it.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(private readonly settings: ParseSettings) {
    this.format = settings.format === 'auto' ? formatFromFilename(settings.filename) : settings.format;
    this.firstLineOf = settings.dedupe ? new Map<string, number>() : undefined;
  }

  /**
   * Appends the events of `lines` to `out`. `chunk` is the input they were split from;
   * when it is all ASCII it is decoded once, and each line that lies within it is a
   * slice of that string instead of a decode of its own.
   */
  parse(lines: readonly Line[], out: InputEvent[], chunk?: Buffer): void {
    const ascii = chunk !== undefined && lines.length > 1 && isAscii(chunk) ? chunk.toString('latin1') : null;
    for (const line of lines) {
      let text: string | undefined;
      if (ascii !== null && !line.overflow && line.bytes.buffer === chunk!.buffer) {
        const at = line.bytes.byteOffset - chunk!.byteOffset;
        if (at >= 0 && at + line.bytes.length <= chunk!.length)
          text = ascii.slice(at, at + line.bytes.length);
      }
      const event = this.parseLine(line, text);
      if (event !== null) out.push(event);
    }
  }

  /** The event of one line (`text`: its decoded form, when known); null for blank lines, comments and the CSV header. */
  private parseLine({ number, bytes: lineBytes, overflow }: Line, decoded?: string): InputEvent | null {
    const { maxLineBytes, maxUrlLength } = this.settings;
    let bytes = lineBytes;
    if (number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bytes = bytes.subarray(3);
    }
    let text = decoded;
    let problem: InputEvent | undefined;
    if (text === undefined && overflow) {
      const start = lossy(bytes);
      if (start.trimStart().charCodeAt(0) === HASH) return null;
      problem = invalid(number, 'LINE_TOO_LONG', `line is longer than ${maxLineBytes} bytes`, start);
    } else if (text === undefined) {
      try {
        text = this.decoder.decode(bytes);
      } catch {
        problem = invalid(number, 'INVALID_ENCODING', 'line is not valid UTF-8', lossy(bytes));
      }
    }
    const trimmed = text?.trim();
    if (trimmed === '' || trimmed?.charCodeAt(0) === HASH) return null;
    if (this.format === 'csv' && this.header === undefined) {
      this.header = readCsvHeader(text, number, problem);
      return null;
    }
    if (text === undefined || trimmed === undefined) return problem!; // set whenever text is not
    if (this.format === undefined) {
      if (trimmed.charCodeAt(0) === BRACE) this.format = 'jsonl';
      else if (isCsvHeader(text)) {
        this.format = 'csv';
        this.header = readCsvHeader(text, number);
        return null;
      } else this.format = 'text';
    }
    const event =
      this.format === 'text'
        ? urlEvent(number, trimmed, text, maxUrlLength)
        : this.format === 'csv'
          ? fromCsv(number, text, this.header!, maxUrlLength)
          : fromJsonl(number, text, maxUrlLength);
    if (event.kind === 'url' && this.firstLineOf !== undefined) {
      const first = this.firstLineOf.get(event.item.url);
      if (first !== undefined)
        return invalid(number, 'DUPLICATE', `duplicate of the URL on line ${first}`, text);
      this.firstLineOf.set(event.item.url, number);
    }
    return event;
  }
}

/**
 * Streams a URL list as batches of events, one batch per chunk of input read: every
 * non-blank, non-comment line yields exactly one event. Cheaper to consume than one
 * event at a time when the consumer handles a batch synchronously.
 */
export async function* parseInputBatches(
  source: AsyncIterable<Uint8Array>,
  options: ParseInputOptions = {},
): AsyncGenerator<InputEvent[]> {
  const settings = settingsOf(options);
  const parser = new LineParser(settings);
  const splitter = new LineSplitter(settings.maxLineBytes);
  for await (const chunk of gunzipIfGzipped(source)) {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const events: InputEvent[] = [];
    parser.parse(splitter.push(bytes), events, bytes);
    if (events.length > 0) yield events;
  }
  const events: InputEvent[] = [];
  parser.parse(splitter.end(), events);
  if (events.length > 0) yield events;
}

/** Streams a URL list: every non-blank, non-comment line yields exactly one event. */
export function parseInput(
  source: AsyncIterable<Uint8Array>,
  options: ParseInputOptions = {},
): AsyncGenerator<InputEvent> {
  return new EventIterator(parseInputBatches(source, options));
}

/**
 * One event at a time out of the batches. An async generator would cost a generator
 * resumption and a promise per event; this answers from the current batch at once.
 */
class EventIterator implements AsyncGenerator<InputEvent> {
  private batch: InputEvent[] = [];
  private at = 0;

  constructor(private readonly batches: AsyncGenerator<InputEvent[]>) {}

  next(): Promise<IteratorResult<InputEvent>> {
    if (this.at < this.batch.length) {
      const value = this.batch[this.at] as InputEvent;
      this.at += 1;
      return Promise.resolve({ done: false, value });
    }
    return this.batches.next().then((result) => {
      if (result.done) return { done: true, value: undefined };
      this.batch = result.value;
      this.at = 0;
      return this.next();
    });
  }

  async return(): Promise<IteratorResult<InputEvent>> {
    this.batch = [];
    await this.batches.return(undefined);
    return { done: true, value: undefined };
  }

  async throw(err: unknown): Promise<IteratorResult<InputEvent>> {
    this.batch = [];
    await this.batches.throw(err);
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
