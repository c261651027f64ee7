/** Sensitive header values hidden for anything written down (WARC request records, logs). */
import { isSensitive } from './header-rules.js';

/** What a sensitive header's value reads as once redacted. */
export const REDACTED = '[redacted]';

/**
 * The headers with every sensitive value (Authorization, Cookie, Proxy-Authorization and any
 * name in `sensitiveNames`, in any case) replaced by REDACTED; names and other values are kept.
 * Takes name → value (a value may be a list) or [name, value] pairs, and gives back the same shape.
 */
export function redactHeaders<H extends Record<string, string | string[]> | [string, string][]>(
  headers: H,
  sensitiveNames: readonly string[] = [],
): H {
  if (Array.isArray(headers)) {
    return headers.map(([name, value]) => [name, isSensitive(name, sensitiveNames) ? REDACTED : value]) as H;
  }
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      !isSensitive(name, sensitiveNames)
        ? value
        : Array.isArray(value)
          ? value.map(() => REDACTED)
          : REDACTED,
    ]),
  ) as H;
}
