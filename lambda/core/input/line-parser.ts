import { isAscii } from 'node:buffer';
import { type CsvHeader, csvRowEvent, isCsvHeader, readCsvHeader } from './csv-rows.js';
import { type InputEvent, invalid, lossy, urlEvent } from './input-event.js';
import { jsonlRowEvent } from './jsonl-rows.js';
import type { Line } from './line-reader.js';
import type { InputFormat } from './parse-input.js';

/** How to read the lines: the options checked, defaults applied. */
export interface ParseSettings {
  format: InputFormat;
  filename: string | undefined;
  dedupe: boolean;
  maxUrlLength: number;
  maxLineBytes: number;
  /** Header names the job marks sensitive: a JSONL line must give them by reference too. */
  sensitiveHeaders: readonly string[];
}

/** A format once decided ('auto' resolved). */
export type Format = Exclude<InputFormat, 'auto'>;

/** What the lines before a point decided, for a parser that starts there (a resumed read). */
export interface ParsedSoFar {
  format: Format;
  /** The CSV header's columns (CSV only). */
  header?: CsvHeader;
}

const HASH = 0x23;
const BRACE = 0x7b;

function formatFromFilename(filename: string | undefined): Format | undefined {
  const name = filename?.toLowerCase().replace(/\.gz$/, '') ?? '';
  if (name.endsWith('.txt')) return 'text';
  if (name.endsWith('.csv')) return 'csv';
  if (/\.(jsonl|ndjson|json-lines)$/.test(name)) return 'jsonl';
  return undefined;
}

/**
 * Turns lines into events, synchronously: blank lines, comments and the CSV header
 * yield none, every other line one. It remembers the format (from the settings, the
 * file name or the first content line), the CSV header and, with dedupe, the URLs seen.
 */
export class LineParser {
  private format: Format | undefined;
  private header: CsvHeader | undefined;
  private readonly firstLineOf: Map<string, number> | undefined;
  // ignoreBOM keeps a U+FEFF in the output: only line 1's BOM is a BOM, and we strip it.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  /** `soFar`: the format and header decided by the lines before the first one given. */
  constructor(
    private readonly settings: ParseSettings,
    soFar?: ParsedSoFar,
  ) {
    this.format =
      soFar?.format ?? (settings.format === 'auto' ? formatFromFilename(settings.filename) : settings.format);
    this.header = soFar?.header;
    this.firstLineOf = settings.dedupe ? new Map<string, number>() : undefined;
  }

  /** The format and CSV header decided so far (undefined before the first content line). */
  soFar(): ParsedSoFar | undefined {
    if (this.format === undefined) return undefined;
    return this.header === undefined ? { format: this.format } : { format: this.format, header: this.header };
  }

  /**
   * Appends the events of `lines` to `out`. `chunk` is the input they were split from;
   * when it is all ASCII it is decoded once, and each line that lies within it is a
   * slice of that string instead of a decode of its own. `ends` gets, for each event,
   * the offset just after its line.
   */
  parse(lines: readonly Line[], out: InputEvent[], ends: number[], chunk?: Buffer): void {
    const ascii = chunk !== undefined && lines.length > 1 && isAscii(chunk) ? chunk.toString('latin1') : null;
    for (const line of lines) {
      let text: string | undefined;
      if (ascii !== null && !line.overflow && line.bytes.buffer === chunk!.buffer) {
        const at = line.bytes.byteOffset - chunk!.byteOffset;
        if (at >= 0 && at + line.bytes.length <= chunk!.length)
          text = ascii.slice(at, at + line.bytes.length);
      }
      const event = this.parseLine(line, text);
      if (event !== null) {
        out.push(event);
        ends.push(line.end);
      }
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
          ? csvRowEvent(number, text, this.header!, maxUrlLength)
          : jsonlRowEvent(number, text, maxUrlLength, this.settings.sensitiveHeaders);
    if (event.kind === 'url' && this.firstLineOf !== undefined) {
      const first = this.firstLineOf.get(event.item.url);
      if (first !== undefined)
        return invalid(number, 'DUPLICATE', `duplicate of the URL on line ${first}`, text);
      this.firstLineOf.set(event.item.url, number);
    }
    return event;
  }
}
