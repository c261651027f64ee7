/**
 * What a request header a job sends may be: names and values checked as undici checks them
 * (lib/core/util.js isValidHTTPToken, isValidHeaderValue), the headers fanout sets itself or
 * that belong to one connection refused, and which names are sensitive. A sensitive header's
 * value is never written anywhere in clear, so it must be a reference (`env:NAME`,
 * `secret:NAME`, see header-values.ts), never the value itself.
 */

/** Headers a job may not set: framing and hop-by-hop headers, and User-Agent (its own option). */
export const FORBIDDEN_HEADERS = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'user-agent',
] as const;

/** Headers always treated as sensitive; a job may mark more (option sensitiveHeaders). */
export const ALWAYS_SENSITIVE = ['authorization', 'cookie', 'proxy-authorization'] as const;

/** Most headers one job or one input line may set. */
export const MAX_HEADERS = 64;

/** Longest header value, in characters. */
export const MAX_HEADER_VALUE = 8192;

// undici lib/core/util.js: a token (RFC 9110 §5.6.2) and the bytes a field value may hold.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOT_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** What is wrong with a header name, or undefined. */
export function nameProblem(name: string): string | undefined {
  if (!TOKEN.test(name)) return `header name ${JSON.stringify(name)} is not a valid HTTP token`;
  const lower = name.toLowerCase();
  if (lower === 'user-agent') return 'header User-Agent is set by its own option (--user-agent, userAgent)';
  if ((FORBIDDEN_HEADERS as readonly string[]).includes(lower)) {
    return `header ${name} may not be set (fanout sets framing and connection headers itself)`;
  }
  return undefined;
}

/** What is wrong with a header's value, or undefined. */
export function valueProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `header ${name}: value must be a string`;
  if (value.length > MAX_HEADER_VALUE)
    return `header ${name}: value is longer than ${MAX_HEADER_VALUE} characters`;
  if (/[\r\n\0]/.test(value)) return `header ${name}: value must not contain CR, LF or NUL`;
  if (NOT_VALUE_CHAR.test(value)) return `header ${name}: value has a character HTTP does not allow`;
  if (value !== value.trim()) return `header ${name}: value must not begin or end with whitespace`;
  return undefined;
}

/** Whether a header name is sensitive: always-sensitive, or among `marked` (any case). */
export function isSensitive(name: string, marked: readonly string[] = []): boolean {
  const lower = name.toLowerCase();
  return (
    (ALWAYS_SENSITIVE as readonly string[]).includes(lower) || marked.some((m) => m.toLowerCase() === lower)
  );
}

/** Whether a value is a reference (`env:NAME`, `secret:NAME`) rather than the value itself. */
export function isReference(value: string): boolean {
  return /^(env|secret):/.test(value);
}

/**
 * What is wrong with a set of headers (name → value), or undefined: each name and value, a name
 * given twice in different case, too many, a reference that names nothing, and a sensitive
 * header (`marked` adds names) given by value instead of by reference.
 */
export function headersProblem(headers: unknown, marked: readonly string[] = []): string | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    return 'must be an object of header name to value';
  }
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) return `at most ${MAX_HEADERS} headers, got ${entries.length}`;
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const problem = nameProblem(name) ?? valueProblem(name, value);
    if (problem) return problem;
    const lower = name.toLowerCase();
    if (seen.has(lower)) return `header ${name} is given twice`;
    seen.add(lower);
    const text = value as string;
    if (isReference(text) && !/^(env|secret):[A-Za-z0-9_+=.@/-]+$/.test(text)) {
      return `header ${name}: ${JSON.stringify(text)} must name a variable or secret (env:NAME, secret:NAME)`;
    }
    if (isSensitive(name, marked) && !isReference(text)) {
      return `header ${name} is sensitive: give its value as env:NAME or secret:NAME, never the value itself`;
    }
  }
  return undefined;
}

/** Reads `Name: value` as typed after --header; undefined when it has no colon or no name. */
export function splitHeaderLine(text: string): [string, string] | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}
