/**
 * Host groups: a job's URLs are split by a hash of their host name, and each group's chunks are
 * fetched by one worker at a time (an SQS FIFO message group per job and group), so the limits
 * of one host hold across the whole fleet (docs/architecture.md, "Politeness").
 */

/** The host name of a URL as the engine's limiter counts it (WHATWG parsing, lower case); '' when none. */
export function hostNameOf(url: string): string {
  return URL.parse(url)?.hostname ?? '';
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The group of a host name among `groups`: FNV-1a of its characters. */
export function groupOfHostName(host: string, groups: number): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < host.length; i += 1) hash = Math.imul(hash ^ host.charCodeAt(i), FNV_PRIME);
  return (hash >>> 0) % groups;
}

/**
 * The group of a URL's host among `groups`; 0 when there is one group. The dispatcher asks for
 * every URL, so the usual one, `http(s)://` and a plain host name (letters, digits, dots and
 * hyphens, any case) with an optional port, is hashed straight from its text, without a parse
 * or a string made; it gives what the parser gives (the tests pin both ways to the same
 * answers). Anything else (user info, IPv6, percent-escapes, a host the parser reads as an IPv4
 * address such as `127.1`) takes the full parse.
 */
export function hostGroupOf(url: string, groups: number): number {
  if (groups <= 1) return 0;
  const hash = plainHostHash(url);
  return hash === null ? groupOfHostName(hostNameOf(url), groups) : hash % groups;
}

/** FNV-1a of the lower-cased plain host name of `url`, as groupOfHostName hashes it; null when the parser must tell. */
function plainHostHash(url: string): number | null {
  const start = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : 0;
  if (start === 0) return null;
  let hash = FNV_OFFSET;
  let i = start;
  for (; i < url.length; i += 1) {
    let c = url.charCodeAt(i);
    if (c === SLASH || c === QUESTION || c === HASH || c === BACKSLASH || c === COLON) break;
    if (c >= 65 && c <= 90) c += 32;
    else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === DOT || c === HYPHEN)) return null;
    hash = Math.imul(hash ^ c, FNV_PRIME);
  }
  const end = i;
  if (end === start || endsInANumber(url, start, end)) return null;
  if (url.charCodeAt(i) === COLON) {
    for (i += 1; i < url.length; i += 1) {
      const c = url.charCodeAt(i);
      if (c === SLASH || c === QUESTION || c === HASH || c === BACKSLASH) break;
      if (c < 48 || c > 57) return null;
    }
  }
  return hash >>> 0;
}

const SLASH = 47;
const QUESTION = 63;
const HASH = 35;
const BACKSLASH = 92;
const COLON = 58;
const DOT = 46;
const HYPHEN = 45;

/**
 * Whether the host `url[start, end)` ends in a number, as the WHATWG parser decides it (one
 * trailing dot aside, a last label of digits, or 0x and hex digits): it then reads the host as an
 * IPv4 address and rewrites it.
 */
function endsInANumber(url: string, start: number, end: number): boolean {
  let to = end;
  if (to > start && url.charCodeAt(to - 1) === DOT) to -= 1;
  let from = to;
  while (from > start && url.charCodeAt(from - 1) !== DOT) from -= 1;
  if (from === to) return false;
  let digits = from;
  const hex = to - from >= 2 && url.charCodeAt(from) === 48 && (url.charCodeAt(from + 1) | 32) === 120;
  if (hex) digits += 2;
  for (let k = digits; k < to; k += 1) {
    const c = url.charCodeAt(k) | 32;
    const digit = c >= 48 && c <= 57;
    if (!(digit || (hex && c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * Host groups for a fleet of `maxWorkers` at once: twice as many, so hashing leaves no worker
 * idle while URLs wait, and at most 512, so a dispatcher filling one chunk per group holds at
 * most 512 chunks (128 MiB at the 256 KiB message cap). A job never has more than `maxWorkers`
 * groups in flight, and so never more workers on it.
 */
export function hostGroupsFor(maxWorkers: number): number {
  return Math.min(512, Math.max(1, 2 * maxWorkers));
}
