/** CSV rows: the header that names the columns, and each row as an event. */
import { InputError } from '../errors.js';
import type { InputItem } from '../record.js';
import { splitCsvLine } from './csv-line.js';
import { type InputEvent, invalid, urlEvent } from './input-event.js';

/** The columns a CSV header names. */
export interface CsvHeader {
  line: number;
  width: number;
  urlIndex: number;
  idIndex: number;
  /** [column index, meta key] for every other named column. */
  metaColumns: [number, string][];
}

/**
 * Reads the header on line `line` (`text` undefined when the line could not be decoded;
 * `problem` then says why). Throws MISSING_URL_COLUMN when it is unreadable or has no url column.
 */
export function readCsvHeader(text: string | undefined, line: number, problem?: InputEvent): CsvHeader {
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

/** Whether a first content line looks like a CSV header (it has a url column). */
export function isCsvHeader(text: string): boolean {
  return splitCsvLine(text)?.some((f) => f.trim().toLowerCase() === 'url') ?? false;
}

/** The event of one CSV row under `header`. */
export function csvRowEvent(line: number, text: string, header: CsvHeader, maxUrlLength: number): InputEvent {
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
