/** Reading an AWS SDK request: the shared helpers of aws-call.ts and s3-call.ts. */

/** An HTTP request as the front door received it. */
export interface HttpRequestHead {
  method: string;
  /** Path with query, as sent. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body, for the requests whose authorizations are in it (JSON protocols, S3 `POST ?delete`). */
  body?: Buffer;
}

/** A request that cannot be classified; its message says why. */
export class Unclassified extends Error {}

/** What one request needs authorized. */
export interface Classified {
  operation: string;
  authorizations: Array<{ action: string; resource: string }>;
}

/** One header's value (the first when repeated). */
export function header(request: HttpRequestHead, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The path and its query parameters; the path is left as sent (no dot-segment normalising). */
export function splitPath(path: string): { pathname: string; query: URLSearchParams } {
  const q = path.indexOf('?');
  return q < 0
    ? { pathname: path, query: new URLSearchParams() }
    : { pathname: path.slice(0, q), query: new URLSearchParams(path.slice(q + 1)) };
}

/** The request body as a JSON object (AWS JSON protocols). */
export function json(request: HttpRequestHead): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(request.body?.toString('utf8') || '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {}
  throw new Unclassified('the JSON request body is not a JSON object');
}

/** `value` when it is a non-empty string, else Unclassified naming `what` is missing. */
export function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new Unclassified(`the request names no ${what}`);
  return value;
}

/** A URL-decoded path segment, else Unclassified. */
export function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Unclassified(`the path ${JSON.stringify(text)} is not URL-encoded UTF-8`);
  }
}
