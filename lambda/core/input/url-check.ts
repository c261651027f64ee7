/**
 * The input-side URL check: is this string a fetchable http(s) URL? Address policy (which
 * hosts may be reached) is decided later, after DNS, by the fetch engine.
 */
import type { InputErrorCode } from '../errors.js';

/** The outcome of checking one raw URL. */
export type UrlCheck = { ok: true; url: string } | { ok: false; code: InputErrorCode; message: string };

// C0 controls, space, DEL, C1 controls, and any other Unicode whitespace: the WHATWG
// parser would silently strip or percent-encode them, hiding a broken input line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN_CHAR = /[\u0000-\u0020\u007f-\u009f\s]/u;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

function describeChar(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function schemeOf(url: string): string | undefined {
  const scheme = SCHEME.exec(url)?.[1];
  if (scheme === undefined) return undefined;
  // "example.com:80/x" and "localhost:8080" parse with a "scheme" that is really a host.
  const next = url.charCodeAt(scheme.length + 1);
  if (scheme.includes('.') || (next >= 0x30 && next <= 0x39)) return undefined;
  return scheme.toLowerCase();
}

/** Checks one URL from the input; on success returns it trimmed but otherwise as given. */
export function checkUrl(raw: string, maxUrlLength: number): UrlCheck {
  const url = raw.trim();
  if (url === '') return { ok: false, code: 'INVALID_URL', message: 'URL is empty' };
  if (url.length > maxUrlLength) {
    return {
      ok: false,
      code: 'URL_TOO_LONG',
      message: `URL is ${url.length} characters long; at most ${maxUrlLength} are allowed`,
    };
  }
  // Printable ASCII without space has none of them: the common case skips the Unicode scan.
  const bad = PRINTABLE_ASCII.test(url) ? null : FORBIDDEN_CHAR.exec(url);
  if (bad !== null) {
    return {
      ok: false,
      code: 'INVALID_URL',
      message: `URL contains a control or whitespace character (${describeChar(bad[0])}) at position ${bad.index}`,
    };
  }
  // The scheme is read from the text: with no control or space characters left, the
  // WHATWG parser would read the same one. Checking it first spares a full parse of
  // file:, data: and the like, and canParse is cheaper than parse on the hot path.
  const scheme = url.startsWith('https://') ? 'https' : url.startsWith('http://') ? 'http' : schemeOf(url);
  if (scheme === undefined) {
    return {
      ok: false,
      code: 'INVALID_URL',
      message: 'not a valid URL (no scheme: expected http:// or https://)',
    };
  }
  if (scheme !== 'http' && scheme !== 'https') {
    return {
      ok: false,
      code: 'UNSUPPORTED_SCHEME',
      message: `scheme ${scheme}: is not supported; only http: and https: are`,
    };
  }
  // For http(s) the WHATWG parser itself rejects an empty host ("http://", "https://?q").
  if (!URL.canParse(url)) return { ok: false, code: 'INVALID_URL', message: 'not a valid URL' };
  return { ok: true, url };
}
