/** JSONL rows: each line a JSON object with a `url`, an optional `id` and `meta`. */
import type { InputItem } from '../record.js';
import { type InputEvent, invalid, urlEvent } from './input-event.js';

/** The event of one JSONL line. */
export function jsonlRowEvent(line: number, text: string, maxUrlLength: number): InputEvent {
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
