import { count, duration } from '../core/option-kinds.js';

// Flags that are not job options read their values as the job options of the same kind do.
const anyCount = count(0, Number.MAX_SAFE_INTEGER);
const anyDuration = duration(0, Number.MAX_SAFE_INTEGER);

/** Parses a whole, non-negative number given to `flag`. */
export function parseCount(flag: string) {
  return (text: string): number => anyCount.parse(text, flag);
}

/** Parses a duration to ms: `500ms`, `30s`, `2m`, or a bare number of seconds. */
export function parseDuration(flag: string) {
  return (text: string): number => anyDuration.parse(text, flag);
}
