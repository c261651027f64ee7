import { ACCEPT_ENCODING, BodyCutError, type BodyLimits, BodyReader } from './body-reader.js';
import { type AbandonedTally, Exchange, type ResponsePlanner } from './exchange.js';
import type { ConcurrencyLimiter, Release } from './limiter.js';
import type { OriginClients } from './origin-clients.js';
import { redirectLocation } from './redirect-policy.js';
import type { RetryPolicy } from './retry-policy.js';
import {
  ROBOTS_MAX_BYTES,
  ROBOTS_MAX_REDIRECTS,
  type RobotsVerdict,
  robotsUrlOf,
  verdictOfStatus,
} from './robots.js';
import { parseTarget } from './target-url.js';
import { type DeadlineList, UrlRun } from './url-run.js';

/** What a robots.txt fetch uses of its engine: the same connections, caps, address policy and time budget. */
export interface RobotsFetchParts {
  limiter: ConcurrencyLimiter;
  connections: OriginClients;
  /** Throws BLOCKED_ADDRESS for a URL whose IP literal the address policy blocks. */
  checkLiteral: (url: URL) => void;
  /** Waits for a slot of the URL's host, ended by the run's deadline. */
  waitForSlot: (url: URL, run: UrlRun) => Promise<Release>;
  /** Waits for a start the host's pace booked, holding the slots. */
  paced: (waitMs: number, run: UrlRun, release: Release) => Promise<void>;
  /** Tells the host's pace about an answer (a 429 or 503 slows it down). */
  notePace: (host: string, status: number, retryAfter: string | string[] | undefined, sentAt: number) => void;
  retry: RetryPolicy;
  deadlines: DeadlineList;
  tally: AbandonedTally;
  userAgent: string;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** Kept of a robots.txt body: its first ROBOTS_MAX_BYTES; the rest is not read. */
const LIMITS: BodyLimits = { mode: 'store', maxBodyBytes: ROBOTS_MAX_BYTES, inlineMaxBytes: 0, cut: true };

const lenientUtf8 = new TextDecoder('utf-8');

/** One response to a robots.txt request: a redirect's Location, or the final status and body. */
interface RobotsAnswer {
  status: number;
  location: string | null;
  body: string | undefined;
}

/**
 * Fetches an origin's robots.txt the way the engine fetches a URL: every hop's address
 * checked by the policy (a literal here, the guarded lookup when connecting), a slot of
 * the hop's host from the limiter, the job's User-Agent, timeouts and retries for failed
 * connections. Never throws: whatever happens is a verdict (robots.ts).
 */
export class RobotsFetcher {
  private readonly headers: Record<string, string>;

  constructor(private readonly parts: RobotsFetchParts) {
    this.headers = {
      'user-agent': parts.userAgent,
      'accept-encoding': ACCEPT_ENCODING,
      accept: 'text/plain, */*',
    };
  }

  /** The verdict for `origin` (scheme://host:port). */
  async verdictOf(origin: string): Promise<RobotsVerdict> {
    const url = robotsUrlOf(origin);
    const run = new UrlRun(this.parts.deadlines);
    let current = new URL(url);
    let redirects = 0;
    let attempts = 0;
    try {
      for (;;) {
        attempts += 1;
        let answer: RobotsAnswer;
        try {
          answer = await this.request(current, run);
        } catch (err) {
          const failure = run.classify(err, current.href);
          const decision = failure.retryable
            ? this.parts.retry.afterFailure(attempts, run.remainingMs())
            : null;
          if (!decision?.retry) throw failure;
          await run.pause(decision.delayMs);
          continue;
        }
        if (answer.location === null) return verdictOfStatus(url, answer.status, answer.body, now());
        if (redirects >= ROBOTS_MAX_REDIRECTS) {
          return {
            url,
            outcome: 'unavailable',
            reason: `more than ${ROBOTS_MAX_REDIRECTS} redirects`,
            fetchedAt: now(),
          };
        }
        current = parseTarget(answer.location, 'BAD_REDIRECT', current);
        redirects += 1;
        attempts = 0;
      }
    } catch (err) {
      const failure = run.classify(err, current.href);
      return {
        url,
        outcome: 'unreachable',
        reason: failure.message,
        code: failure.code,
        ...(current.origin === origin && { atOrigin: true }),
        fetchedAt: now(),
      };
    } finally {
      run.dispose();
    }
  }

  /** One request for `url`, on a slot of its host. */
  private async request(url: URL, run: UrlRun): Promise<RobotsAnswer> {
    const { limiter, connections } = this.parts;
    this.parts.checkLiteral(url);
    run.throwIfStopped();
    const release = limiter.tryAcquire(url.hostname) ?? (await this.parts.waitForSlot(url, run));
    const waitMs = limiter.book(url.hostname);
    if (waitMs > 0) await this.parts.paced(waitMs, run, release);
    run.start();
    const answer: RobotsAnswer = { status: 0, location: null, body: undefined };
    const sentAt = Date.now();
    const planner: ResponsePlanner = (status, headers, flow) => {
      answer.status = status;
      this.parts.notePace(url.hostname, status, headers['retry-after'], sentAt);
      const location = headers.location;
      answer.location = redirectLocation(status, (Array.isArray(location) ? location[0] : location) ?? null);
      if (answer.location !== null || status < 200 || status >= 300) return 'discard';
      return new BodyReader(headers, LIMITS, flow);
    };
    const connection = connections.take(url.origin);
    const done: Release = () => {
      connections.give(connection);
      release();
    };
    let exchange: Exchange;
    try {
      exchange = new Exchange(run, done, planner, this.parts.tally);
    } catch (err) {
      done();
      throw err;
    }
    connection.dispatch(
      {
        origin: connection.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: this.headers,
        headersTimeout: this.parts.headersTimeoutMs,
        bodyTimeout: this.parts.bodyTimeoutMs,
      },
      exchange,
    );
    try {
      const outcome = await exchange.result;
      answer.body = outcome?.stored && lenientUtf8.decode(outcome.stored);
    } catch (err) {
      // Past ROBOTS_MAX_BYTES the body ends: what was read is parsed.
      if (!(err instanceof BodyCutError)) throw err;
      answer.body = err.outcome.stored && lenientUtf8.decode(err.outcome.stored);
    }
    return answer;
  }
}

function now(): string {
  return new Date().toISOString();
}
