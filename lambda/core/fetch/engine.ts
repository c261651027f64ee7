import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { AddressPolicy, ipLiteral } from '../address/address-policy.js';
import type { Resolver } from '../address/guarded-lookup.js';
import type { JobOptions } from '../defaults.js';
import { BlockedAddressError, FetchError } from '../errors.js';
import { blankRecord, type InputItem, type ResultRecord } from '../record.js';
import { ACCEPT_ENCODING, readBody } from './body-reader.js';
import { toFetchError } from './error-map.js';
import { createAgent } from './http-agent.js';
import { ConcurrencyLimiter } from './limiter.js';
import { decideRetry, isRetryableStatus, parseRetryAfter } from './retry-policy.js';

/** Options the engine reads: a job's options (see defaults.ts). */
export type EngineOptions = Pick<
  JobOptions,
  | 'concurrency'
  | 'perHost'
  | 'timeoutMs'
  | 'connectTimeoutMs'
  | 'headersTimeoutMs'
  | 'bodyTimeoutMs'
  | 'retries'
  | 'backoffBaseMs'
  | 'backoffMaxMs'
  | 'maxRetryAfterMs'
  | 'maxRedirects'
  | 'maxBodyBytes'
  | 'body'
  | 'inlineMaxBytes'
  | 'method'
  | 'userAgent'
  | 'allowPrivate'
  | 'allow'
>;

export interface EngineSettings {
  options: EngineOptions;
  /** Name resolution for every connection; the system resolver by default. */
  resolver?: Resolver;
  /** Keeps a body for body mode 'store', content-addressed by its sha256. */
  storeBody?: (sha256: string, body: Buffer) => Promise<void>;
  /** Jitter source, for tests. */
  random?: () => number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Response = Dispatcher.ResponseData;

/**
 * Fetches URLs with bounded concurrency over one keep-alive agent: retries with
 * backoff, redirects followed by hand (each hop re-checked), timeouts, body caps.
 * `fetchItem` never throws for anything a URL or its server does: every item gets
 * exactly one record.
 */
export class FetchEngine {
  readonly limiter: ConcurrencyLimiter;
  private readonly policy: AddressPolicy;
  private readonly agent: Dispatcher;
  private readonly options: EngineOptions;
  private readonly headers: Record<string, string>;

  constructor(private readonly settings: EngineSettings) {
    this.options = settings.options;
    this.policy = new AddressPolicy({ allowPrivate: this.options.allowPrivate, allow: this.options.allow });
    this.limiter = new ConcurrencyLimiter(this.options.concurrency, this.options.perHost);
    this.agent = createAgent({
      policy: this.policy,
      resolver: settings.resolver,
      connectTimeoutMs: this.options.connectTimeoutMs,
      perHost: this.options.perHost,
    });
    this.headers = {
      'user-agent': this.options.userAgent,
      'accept-encoding': ACCEPT_ENCODING,
      accept: '*/*',
    };
  }

  /** Fetches every item of a chunk; records come back in item order. */
  fetchAll(items: readonly InputItem[], signal?: AbortSignal): Promise<ResultRecord[]> {
    return Promise.all(items.map((item) => this.fetchItem(item, signal)));
  }

  /** Fetches one item and returns its record; `signal` cancels (code CANCELLED). */
  async fetchItem(item: InputItem, signal?: AbortSignal): Promise<ResultRecord> {
    const record = blankRecord(item);
    const run = new UrlRun(this.options.timeoutMs, signal);
    try {
      await this.fetchInto(record, item.url, run);
    } catch (err) {
      record.error = errorOf(run.classify(err, item.url));
    } finally {
      run.dispose();
      if (run.startedAtWall !== undefined) record.timings.start = new Date(run.startedAtWall).toISOString();
      record.timings.totalMs = round(run.elapsedMs());
    }
    return record;
  }

  /** Closes the agent's sockets. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async fetchInto(record: ResultRecord, input: string, run: UrlRun): Promise<void> {
    const o = this.options;
    let current = parseTarget(input, 'INVALID_URL');
    for (;;) {
      record.attempts += 1;
      let response: Response;
      let release = noop;
      let attemptStart = 0;
      try {
        this.checkLiteral(current);
        release = await this.limiter.acquire(current.hostname, run.signal);
        run.start();
        attemptStart = performance.now();
        response = await this.agent.request({
          origin: current.origin,
          path: `${current.pathname}${current.search}`,
          method: o.method,
          headers: this.headers,
          headersTimeout: o.headersTimeoutMs,
          bodyTimeout: o.bodyTimeoutMs,
          signal: run.signal,
        });
      } catch (err) {
        release();
        const failure = run.classify(err, current.href);
        if (failure.code === 'RESOURCE_EXHAUSTED') this.limiter.backOff();
        const decision = failure.retryable ? this.retryDecision(record.attempts, null, run) : null;
        if (!decision?.retry) throw failure;
        await run.pause(decision.delayMs);
        continue;
      }
      this.limiter.recover();
      try {
        record.timings.ttfbMs = round(performance.now() - attemptStart);
        record.status = response.statusCode;
        record.finalUrl = current.href;
        record.contentType = headerValue(response.headers['content-type']);
        const location = headerValue(response.headers.location);
        if (REDIRECT_STATUSES.has(response.statusCode) && location !== null) {
          await discard(response);
          if (record.redirects >= o.maxRedirects) {
            throw new FetchError('TOO_MANY_REDIRECTS', `more than ${o.maxRedirects} redirects`);
          }
          current = parseTarget(location, 'BAD_REDIRECT', current);
          record.redirects += 1;
          record.attempts -= 1;
          continue;
        }
        if (isRetryableStatus(response.statusCode)) {
          const retryAfter = parseRetryAfter(response.headers['retry-after']);
          const decision = this.retryDecision(record.attempts, retryAfter, run);
          if (decision.retry) {
            await discard(response);
            release();
            await run.pause(decision.delayMs);
            continue;
          }
          await this.readInto(record, response);
          record.error = {
            code: 'HTTP_STATUS',
            message: statusFailure(response.statusCode, record.attempts, decision.reason),
          };
          return;
        }
        await this.readInto(record, response);
        return;
      } finally {
        release();
      }
    }
  }

  private checkLiteral(url: URL): void {
    const ip = ipLiteral(url.hostname);
    if (ip === null) return;
    const reason = this.policy.check(ip);
    if (reason !== null) throw new BlockedAddressError(ip, reason, url.href);
  }

  private retryDecision(attempt: number, retryAfterMs: number | null, run: UrlRun) {
    const o = this.options;
    return decideRetry({
      attempt,
      retries: o.retries,
      retryAfterMs,
      maxRetryAfterMs: o.maxRetryAfterMs,
      backoffBaseMs: o.backoffBaseMs,
      backoffMaxMs: o.backoffMaxMs,
      remainingMs: run.remainingMs(),
      random: this.settings.random,
    });
  }

  private async readInto(record: ResultRecord, response: Response): Promise<void> {
    const o = this.options;
    const body = await readBody(response.body, response.headers, {
      mode: o.body,
      maxBodyBytes: o.maxBodyBytes,
      inlineMaxBytes: o.inlineMaxBytes,
    });
    record.bytes = body.bytes;
    record.sha256 = body.sha256;
    if (body.inline) {
      record.body = body.inline.body;
      record.bodyEncoding = body.inline.encoding;
      if (body.inline.truncated) record.bodyTruncated = true;
    }
    if (body.stored && body.sha256 && this.settings.storeBody)
      await this.settings.storeBody(body.sha256, body.stored);
  }
}

/**
 * One URL's time budget and cancellation. The deadline starts with the first attempt,
 * not while the URL waits for a slot, so a long queue does not eat a URL's budget.
 */
class UrlRun {
  private readonly deadline = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private startedAt: number | undefined;
  /** Wall-clock time of the first attempt. */
  startedAtWall: number | undefined;
  readonly signal: AbortSignal;

  constructor(
    private readonly timeoutMs: number,
    private readonly cancel?: AbortSignal,
  ) {
    this.signal = cancel ? AbortSignal.any([cancel, this.deadline.signal]) : this.deadline.signal;
  }

  start(): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = performance.now();
    this.startedAtWall = Date.now();
    this.timer = setTimeout(() => this.deadline.abort(), this.timeoutMs);
  }

  remainingMs(): number {
    return this.startedAt === undefined
      ? this.timeoutMs
      : this.timeoutMs - (performance.now() - this.startedAt);
  }

  /** Time since the first attempt started; 0 when none did (cancelled while queued). */
  elapsedMs(): number {
    return this.startedAt === undefined ? 0 : performance.now() - this.startedAt;
  }

  pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.signal });
  }

  /** Names an error, preferring cancellation and the deadline over whatever they caused. */
  classify(err: unknown, url: string): FetchError {
    if (this.cancel?.aborted)
      return new FetchError('CANCELLED', 'cancelled before the URL finished', { url });
    if (this.deadline.signal.aborted) {
      return new FetchError('DEADLINE', `no complete response within ${this.timeoutMs} ms`, { url });
    }
    return toFetchError(err, url);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

function parseTarget(text: string, code: 'INVALID_URL' | 'BAD_REDIRECT', base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new FetchError(code, `not a valid URL: ${text.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError(code, `scheme ${url.protocol} is not allowed (http and https only)`);
  }
  return url;
}

function noop(): void {}

function statusFailure(
  status: number,
  attempts: number,
  reason: 'exhausted' | 'deadline' | 'retry-after-too-long',
): string {
  const why = {
    exhausted: `after ${attempts} attempts`,
    deadline: 'and no time left for another attempt',
    'retry-after-too-long': 'with a Retry-After longer than allowed',
  }[reason];
  return `HTTP ${status} ${why}`;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Drains a small body so the socket can be reused; a large one closes the socket instead. */
async function discard(response: Response): Promise<void> {
  try {
    await response.body.dump({ limit: 64 * 1024 });
  } catch {
    // The socket is gone either way; nothing of the record depends on it.
  }
}

function errorOf(err: FetchError): NonNullable<ResultRecord['error']> {
  return { code: err.code, message: err.message };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
