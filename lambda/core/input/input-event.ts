import type { InputErrorCode } from '../errors.js';
import type { InputItem, InvalidLine } from '../record.js';
import { checkUrl } from './url-check.js';

/** One outcome per content line: an accepted URL or a rejected line. */
export type InputEvent = { kind: 'url'; item: InputItem } | { kind: 'invalid'; invalid: InvalidLine };

/** A rejected line's `raw` keeps at most this many characters. */
const RAW_MAX_CHARS = 200;

function cut(text: string): string {
  if (text.length <= RAW_MAX_CHARS) return text;
  const end = /[\uD800-\uDBFF]/.test(text[RAW_MAX_CHARS - 1]!) ? RAW_MAX_CHARS - 1 : RAW_MAX_CHARS;
  return text.slice(0, end);
}

/** Lossy decode of the start of a line, for reports (4 bytes per char at most). */
export function lossy(bytes: Buffer): string {
  return cut(bytes.toString('utf8', 0, Math.min(bytes.length, RAW_MAX_CHARS * 4)));
}

/** A rejected line, its raw text cut for the report. */
export function invalid(line: number, code: InputErrorCode, message: string, raw: string): InputEvent {
  return { kind: 'invalid', invalid: { line, code, message, raw: cut(raw) } };
}

/** The event of a line's URL: accepted (with the row's id and meta) or rejected by the URL check. */
export function urlEvent(
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
