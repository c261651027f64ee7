/** JSONL rows: each line a JSON object with a `url`, an optional `id`, `meta` and `headers`. */
import { headersProblem, isReference } from '../headers/header-rules.js';
import { REDACTED } from '../headers/redact-headers.js';
import type { InputItem } from '../record.js';
import { type InputEvent, invalid, urlEvent } from './input-event.js';

/** The event of one JSONL line. */
export function jsonlRowEvent(
  line: number,
  text: string,
  maxUrlLength: number,
  sensitiveHeaders: readonly string[] = [],
): InputEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return invalid(line, 'INVALID_JSON', `not valid JSON: ${(err as Error).message}`, text);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(line, 'MISSING_URL', 'line is not a JSON object with a url', text);
  }
  const { url, id, meta, headers } = value as Record<string, unknown>;
  // A line turned down keeps its text in invalid.jsonl.gz: never with a header's value in clear.
  const raw = headers === undefined ? text : rawWithoutValues(value as Record<string, unknown>);
  if (url === undefined) return invalid(line, 'MISSING_URL', 'object has no url', raw);
  if (typeof url !== 'string') return invalid(line, 'INVALID_FIELD', 'url must be a string', raw);
  if (url.trim() === '') return invalid(line, 'MISSING_URL', 'url is empty', raw);
  const item: Partial<InputItem> = {};
  if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) item.id = String(id);
  else if (id !== undefined) return invalid(line, 'INVALID_FIELD', 'id must be a string or a number', raw);
  if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) {
    item.meta = meta as Record<string, unknown>;
  } else if (meta !== undefined) return invalid(line, 'INVALID_FIELD', 'meta must be an object', raw);
  if (headers !== undefined) {
    const problem = headersProblem(headers, sensitiveHeaders);
    if (problem) return invalid(line, 'INVALID_FIELD', `headers: ${problem}`, raw);
    item.headers = headers as Record<string, string>;
  }
  return urlEvent(line, url, raw, maxUrlLength, item);
}

/**
 * The line again with each header's value redacted unless it is a reference: the input line
 * does not know which names the job marks sensitive.
 */
function rawWithoutValues(row: Record<string, unknown>): string {
  const { headers } = row;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return JSON.stringify(row);
  const kept = Object.entries(headers).map(([name, value]) => [
    name,
    typeof value === 'string' && isReference(value) ? value : REDACTED,
  ]);
  return JSON.stringify({ ...row, headers: Object.fromEntries(kept) });
}
