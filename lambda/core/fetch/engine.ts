import { AddressPolicy, ipLiteral } from '../address/address-policy.js';
import type { Resolver } from '../address/guarded-lookup.js';
import type { JobOptions } from '../defaults.js';
import { BlockedAddressError, FetchError } from '../errors.js';
import { blankRecord, type InputItem, type ResultRecord } from '../record.js';
import { ACCEPT_ENCODING, type BodyLimits, type BodyOutcome, BodyReader } from './body-reader.js';
import { type AbandonedTally, Exchange, type ResponsePlanner } from './exchange.js';
import { isoTime } from './iso-time.js';
import { ConcurrencyLimiter, type Release, type SlotTicket, type SlotWaiter } from './limiter.js';
import { OriginClients } from './origin-clients.js';
import { decideRetry, isRetryableStatus, parseRetryAfter } from './retry-policy.js';
import { DeadlineList, UrlRun } from './url-run.js';

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
  /** Called with each URL's record as soon as it is made (live progress, URL by URL). */
  onRecord?: (record: ResultRecord) => void;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** What an attempt's response asked for, decided when its headers arrived. */
interface AttemptPlan {
  /** A redirect to follow (the Location header). */
  redirect: string | null;
  /** A retryable status to try again after this many ms. */
  retryDelayMs: number | null;
  /** A retryable status that gets no more attempts: the record's HTTP_STATUS message. */
  statusFailure: string | null;
}

/**
 * Fetches URLs with bounded concurrency over keep-alive connections: retries with
 * backoff, redirects followed by hand (each hop re-checked), timeouts, body caps.
 * `fetchItem` never throws for anything a URL or its server does: every item gets
 * exactly one record.
 */
export class FetchEngine {
  readonly limiter: ConcurrencyLimiter;
  private readonly policy: AddressPolicy;
  private readonly connections: OriginClients;
  private readonly options: EngineOptions;
  private readonly headers: Record<string, string>;
  private readonly limits: BodyLimits;
  /** The runs each cancellation signal stops, so a signal carries one listener, not one per URL. */
  private readonly runsBySignal = new WeakMap<AbortSignal, Set<UrlRun>>();
  private readonly tally: AbandonedTally = { abandoned: 0 };
  private readonly deadlines: DeadlineList;
  /** The signal looked up last, and its runs: a chunk's URLs share one. */
  private lastSignal: AbortSignal | undefined;
  private lastRuns: Set<UrlRun> | undefined;

  constructor(private readonly settings: EngineSettings) {
    this.options = settings.options;
    this.policy = new AddressPolicy({ allowPrivate: this.options.allowPrivate, allow: this.options.allow });
    this.limiter = new ConcurrencyLimiter(this.options.concurrency, this.options.perHost);
    this.deadlines = new DeadlineList(this.options.timeoutMs);
    this.connections = new OriginClients({
      policy: this.policy,
      resolver: settings.resolver,
      connectTimeoutMs: this.options.connectTimeoutMs,
    });
    this.headers = {
      'user-agent': this.options.userAgent,
      'accept-encoding': ACCEPT_ENCODING,
      accept: '*/*',
    };
    this.limits = {
      mode: this.options.body,
      maxBodyBytes: this.options.maxBodyBytes,
      inlineMaxBytes: this.options.inlineMaxBytes,
    };
  }

  /**
   * Fetches every item of a chunk; records come back in item order. An item waiting
   * for its first slot is a small queue entry, not a fetch under way: a chunk of
   * thousands holds no promise, timer or record per waiting URL.
   */
  fetchAll(items: readonly InputItem[], signal?: AbortSignal): Promise<ResultRecord[]> {
    return new ChunkFetch(this, items, signal).promise;
  }

  /** Fetches one item and returns its record; `signal` cancels (code CANCELLED). */
  fetchItem(item: InputItem, signal?: AbortSignal): Promise<ResultRecord> {
    return this.fetchOne(item, signal);
  }

  /**
   * An item's target when it may queue for a slot: a valid http(s) URL whose IP
   * literal, if any, is allowed. null when it needs no slot (fetchOne then records why,
   * or records the cancellation). For ChunkFetch.
   */
  targetOf(item: InputItem, signal: AbortSignal | undefined): URL | null {
    if (signal?.aborted) return null;
    try {
      const url = parseTarget(item.url, 'INVALID_URL');
      this.checkLiteral(url);
      return url;
    } catch {
      return null;
    }
  }

  /** Fetches one item; `first` is its first attempt's target and slot, when ChunkFetch got them. */
  async fetchOne(item: InputItem, signal?: AbortSignal, first?: FirstAttempt): Promise<ResultRecord> {
    const createdAt = Date.now();
    const record = blankRecord(item, '');
    const run = new UrlRun(this.deadlines);
    const runs = signal ? this.runsOf(signal) : undefined;
    if (signal?.aborted) run.cancel();
    else runs?.add(run);
    try {
      await this.fetchInto(record, item.url, run, first);
    } catch (err) {
      record.error = errorOf(run.classify(err, item.url));
    } finally {
      runs?.delete(run);
      run.dispose();
      record.timings.start = isoTime(run.startedAtWall ?? createdAt);
      record.timings.totalMs = round(run.elapsedMs());
    }
    this.settings.onRecord?.(record);
    return record;
  }

  /** Closes the engine's sockets. */
  async close(): Promise<void> {
    // A request abandoned while connecting would hold close() until its connect ends.
    if (this.tally.abandoned > 0) await this.connections.destroy();
    else await this.connections.close();
  }

  private runsOf(signal: AbortSignal): Set<UrlRun> {
    if (signal === this.lastSignal && this.lastRuns) return this.lastRuns;
    let runs = this.runsBySignal.get(signal);
    if (!runs) {
      const set = new Set<UrlRun>();
      runs = set;
      this.runsBySignal.set(signal, set);
      signal.addEventListener(
        'abort',
        () => {
          for (const run of set) run.cancel();
          set.clear();
        },
        { once: true },
      );
    }
    this.lastSignal = signal;
    this.lastRuns = runs;
    return runs;
  }

  private async fetchInto(
    record: ResultRecord,
    input: string,
    run: UrlRun,
    first: FirstAttempt | undefined,
  ): Promise<void> {
    const o = this.options;
    let current = first?.url ?? parseTarget(input, 'INVALID_URL');
    let held = first?.release;
    for (;;) {
      record.attempts += 1;
      const plan: AttemptPlan = { redirect: null, retryDelayMs: null, statusFailure: null };
      let exchange: Exchange | undefined;
      let body: BodyOutcome | null;
      try {
        let release: Release;
        if (held) {
          // Checked and granted before the run began: only a cancellation since then stops it.
          release = held;
          held = undefined;
          if (run.stopped) release();
          run.throwIfStopped();
        } else {
          this.checkLiteral(current);
          run.throwIfStopped();
          release = this.limiter.tryAcquire(current.hostname) ?? (await this.waitForSlot(current, run));
        }
        run.start();
        exchange = this.exchange(record, current, run, release, plan);
        body = await exchange.result;
      } catch (err) {
        // The response came and its body failed: final, like the old stream read.
        if (exchange?.responded) throw err;
        const failure = run.classify(err, current.href);
        if (failure.code === 'RESOURCE_EXHAUSTED') this.limiter.backOff();
        const decision = failure.retryable ? this.retryDecision(record.attempts, null, run) : null;
        if (!decision?.retry) throw failure;
        await run.pause(decision.delayMs);
        continue;
      }
      if (plan.redirect !== null) {
        if (record.redirects >= o.maxRedirects) {
          throw new FetchError('TOO_MANY_REDIRECTS', `more than ${o.maxRedirects} redirects`);
        }
        current = parseTarget(plan.redirect, 'BAD_REDIRECT', current);
        record.redirects += 1;
        record.attempts -= 1;
        continue;
      }
      if (plan.retryDelayMs !== null) {
        await run.pause(plan.retryDelayMs);
        continue;
      }
      if (body) {
        // Only body mode 'store' has anything to wait for: the rest costs no promise.
        const storing = this.keepBody(record, body);
        if (storing) await storing;
      }
      if (plan.statusFailure !== null) record.error = { code: 'HTTP_STATUS', message: plan.statusFailure };
      return;
    }
  }

  /** Waits for a slot for the URL's host; the run's deadline or cancellation ends the wait. */
  private async waitForSlot(url: URL, run: UrlRun): Promise<Release> {
    const wait = this.limiter.wait(url.hostname);
    run.waitOn((reason) => wait.cancel(reason));
    try {
      return await wait.granted;
    } finally {
      run.done();
    }
  }

  /** Sends one request; the plan decided from the response's headers lands in `plan`. */
  private exchange(
    record: ResultRecord,
    url: URL,
    run: UrlRun,
    release: Release,
    plan: AttemptPlan,
  ): Exchange {
    const startedAt = performance.now();
    const planner: ResponsePlanner = (status, headers, flow) => {
      this.limiter.recover();
      record.timings.ttfbMs = round(performance.now() - startedAt);
      record.status = status;
      record.finalUrl = url.href;
      record.contentType = headerValue(headers['content-type']);
      const location = headerValue(headers.location);
      if (REDIRECT_STATUSES.has(status) && location !== null) {
        plan.redirect = location;
        return 'discard';
      }
      if (isRetryableStatus(status)) {
        const decision = this.retryDecision(record.attempts, parseRetryAfter(headers['retry-after']), run);
        if (decision.retry) {
          plan.retryDelayMs = decision.delayMs;
          return 'discard';
        }
        plan.statusFailure = statusFailure(status, record.attempts, decision.reason);
      }
      return new BodyReader(headers, this.limits, flow);
    };
    const connection = this.connections.take(url.origin);
    // undici is done with the request: the connection carries the next one, the slot too.
    const done: Release = () => {
      this.connections.give(connection);
      release();
    };
    let exchange: Exchange;
    try {
      exchange = new Exchange(run, done, planner, this.tally);
    } catch (err) {
      done();
      throw err;
    }
    const o = this.options;
    connection.dispatch(
      {
        origin: connection.origin,
        path: `${url.pathname}${url.search}`,
        method: o.method,
        headers: this.headers,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
      },
      exchange,
    );
    return exchange;
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

  /** Puts what the body mode keeps into the record; for mode 'store', the write to the store. */
  private keepBody(record: ResultRecord, body: BodyOutcome): Promise<void> | undefined {
    record.bytes = body.bytes;
    record.sha256 = body.sha256;
    if (body.inline) {
      record.body = body.inline.body;
      record.bodyEncoding = body.inline.encoding;
      if (body.inline.truncated) record.bodyTruncated = true;
    }
    if (body.stored && body.sha256 && this.settings.storeBody) {
      return this.settings.storeBody(body.sha256, body.stored);
    }
    return undefined;
  }
}

/** A first attempt's target and slot, taken before the fetch began. */
interface FirstAttempt {
  url: URL;
  release: Release;
}

/** An item of a chunk waiting for its first slot. */
class QueuedItem implements SlotWaiter {
  ticket: SlotTicket | null = null;

  constructor(
    private readonly chunk: ChunkFetch,
    readonly index: number,
    readonly url: URL,
  ) {}

  granted(release: Release): void {
    this.chunk.started(this, release);
  }
}

/** One fetchAll call: starts every item, queues those without a slot, gathers the records. */
class ChunkFetch {
  readonly promise: Promise<ResultRecord[]>;
  private readonly records: ResultRecord[];
  private remaining: number;
  private resolve!: (records: ResultRecord[]) => void;
  /** Items still waiting for their first slot. */
  private readonly waiting = new Set<QueuedItem>();
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly engine: FetchEngine,
    private readonly items: readonly InputItem[],
    private readonly signal: AbortSignal | undefined,
  ) {
    this.records = new Array<ResultRecord>(items.length);
    this.remaining = items.length;
    this.promise = new Promise((resolve) => {
      this.resolve = resolve;
    });
    if (this.remaining === 0) {
      this.resolve(this.records);
      return;
    }
    if (signal && !signal.aborted) {
      this.onAbort = () => this.cancelWaiting();
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    for (let index = 0; index < items.length; index += 1) {
      const item = items[index] as InputItem;
      const url = engine.targetOf(item, signal);
      if (url === null) {
        this.collect(index, engine.fetchOne(item, signal));
        continue;
      }
      const release = engine.limiter.tryAcquire(url.hostname);
      if (release) {
        this.collect(index, engine.fetchOne(item, signal, { url, release }));
        continue;
      }
      const waiter = new QueuedItem(this, index, url);
      this.waiting.add(waiter);
      waiter.ticket = engine.limiter.enqueue(url.hostname, waiter);
    }
  }

  started(waiter: QueuedItem, release: Release): void {
    this.waiting.delete(waiter);
    const item = this.items[waiter.index] as InputItem;
    this.collect(waiter.index, this.engine.fetchOne(item, this.signal, { url: waiter.url, release }));
  }

  private collect(index: number, fetching: Promise<ResultRecord>): void {
    fetching.then((record) => {
      this.records[index] = record;
      this.remaining -= 1;
      if (this.remaining > 0) return;
      if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
      this.resolve(this.records);
    });
  }

  /** The job was cancelled: items still waiting for a slot end now, as CANCELLED. */
  private cancelWaiting(): void {
    for (const waiter of this.waiting) {
      if (!waiter.ticket?.cancel()) continue;
      this.collect(waiter.index, this.engine.fetchOne(this.items[waiter.index] as InputItem, this.signal));
    }
    this.waiting.clear();
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

function errorOf(err: FetchError): NonNullable<ResultRecord['error']> {
  return { code: err.code, message: err.message };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
