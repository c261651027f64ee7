/**
 * robots.txt decisions (RFC 9309), pure: what a robots.txt fetch's outcome means for an
 * origin's URLs, and what is kept of it. Parsing is robots-parser's; the fetch itself is
 * robots-fetch.ts, the per-origin bookkeeping robots-gate.ts.
 */
import robotsParserModule from 'robots-parser';
import { RUNTIME_DEFAULTS } from '../contract.js';
import { FetchError, type FetchErrorCode } from '../errors.js';

// A CommonJS module whose typings say `export default`: under nodenext the import is the
// function itself (module.exports), which the typings call `.default`.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

/** Bytes of a robots.txt read and parsed; the rest is not read (RFC 9309 §2.5 asks for at least 500 KiB). */
export const ROBOTS_MAX_BYTES = 512 * 1024;

/** Redirects followed to reach a robots.txt; past this it is unavailable, which allows all (RFC 9309 §2.3.1.2). */
export const ROBOTS_MAX_REDIRECTS = 5;

/**
 * What a robots.txt fetch found, as the job's store keeps it for every worker:
 * - `rules`: a 2xx; `body` is its text (at most ROBOTS_MAX_BYTES);
 * - `unavailable`: a 4xx, or too many redirects: everything is allowed;
 * - `unreachable`: a 5xx, or no response (DNS, connection, timeout, blocked address):
 *   everything is disallowed.
 */
export interface RobotsVerdict {
  /** The robots.txt URL asked for. */
  url: string;
  outcome: 'rules' | 'unavailable' | 'unreachable';
  /** The final response's status; absent when none came. */
  status?: number;
  /** The robots.txt text, for outcome 'rules'. */
  body?: string;
  /** Why it is unavailable or unreachable, in a few words. */
  reason?: string;
  /** Unreachable: the error code of the failed request. */
  code?: FetchErrorCode;
  /** Unreachable: the request failed at the origin itself, not at a redirect's target. */
  atOrigin?: boolean;
  /** When it was fetched (ISO 8601). */
  fetchedAt: string;
}

/** The robots.txt URL of an origin (scheme://host:port). */
export function robotsUrlOf(origin: string): string {
  return `${origin}/robots.txt`;
}

/** The verdict for a final response's status (not a redirect); `body` is read for 2xx only. */
export function verdictOfStatus(
  url: string,
  status: number,
  body: string | undefined,
  fetchedAt: string,
): RobotsVerdict {
  if (status >= 200 && status < 300) return { url, outcome: 'rules', status, body: body ?? '', fetchedAt };
  if (status >= 500) return { url, outcome: 'unreachable', status, reason: `status ${status}`, fetchedAt };
  // 4xx, and anything else that is neither a success nor a server error: no rules apply.
  return { url, outcome: 'unavailable', status, reason: `status ${status}`, fetchedAt };
}

/**
 * The product token a User-Agent is matched on (RFC 9309 §2.2.1): its first product's
 * name, before any `/` version or space, e.g. `fanout` of `fanout/0.1 (+mailto:x)`.
 */
export function productToken(userAgent: string): string {
  const token = userAgent.trim().split(/[/\s]/, 1)[0] ?? '';
  return token === '' ? '*' : token;
}

/** What robots.txt allows on one origin, for one product token. */
export class RobotsRules {
  /** The least time between request starts to the host robots.txt asks for (ms); 0 when it asks none. */
  readonly crawlDelayMs: number;
  private readonly parsed: ReturnType<typeof robotsParser> | null;

  /** The verdict, without its body once parsed. */
  readonly verdict: RobotsVerdict;

  constructor(
    verdict: RobotsVerdict,
    private readonly token: string,
  ) {
    const { body, ...kept } = verdict;
    this.verdict = kept;
    this.parsed = verdict.outcome === 'rules' ? robotsParser(verdict.url, body ?? '') : null;
    const delay = this.parsed?.getCrawlDelay(token);
    this.crawlDelayMs =
      typeof delay === 'number' && Number.isFinite(delay) && delay > 0
        ? Math.round(Math.min(delay, RUNTIME_DEFAULTS.maxCrawlDelaySeconds) * 1000)
        : 0;
  }

  /** Whether `url` (on this origin) may be fetched. */
  allows(url: URL): boolean {
    if (this.verdict.outcome === 'unavailable') return true;
    // Unreachable (a 5xx, no connection, no answer): the rules are unknown, so nothing is
    // allowed (RFC 9309 §2.3.1.4); the denial names what robots.txt ran into.
    if (this.verdict.outcome === 'unreachable') return false;
    if (this.parsed === null) return false;
    const allowed = this.parsed.isAllowed(url.href, this.token);
    // robots-parser answers undefined for a URL of another origin: a bug of ours, not an allow.
    if (allowed === undefined) throw new Error(`robots.txt ${this.verdict.url} asked about ${url.href}`);
    return allowed;
  }

  /** The error of a URL this robots.txt disallows. */
  denial(url: URL): FetchError {
    const { code, atOrigin, reason } = this.verdict;
    if (atOrigin && code === 'BLOCKED_ADDRESS') {
      return new FetchError('BLOCKED_ADDRESS', `${reason ?? 'blocked'} (asking for ${this.verdict.url})`, {
        url: url.href,
      });
    }
    const why =
      this.verdict.outcome === 'unreachable'
        ? `robots.txt ${this.verdict.url} could not be fetched (${code ? `${code}: ` : ''}${reason ?? 'unreachable'}), so every URL of ${url.origin} is disallowed (RFC 9309 §2.3.1.4; --robots ignore fetches them)`
        : `disallowed by ${this.verdict.url}`;
    return new FetchError('ROBOTS_DISALLOWED', why, { url: url.href });
  }
}
