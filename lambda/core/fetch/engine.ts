import { AddressPolicy, ipLiteral } from '../address/address-policy.js';
import type { Resolver } from '../address/guarded-lookup.js';
import { BlockedAddressError, BodyTooLargeError, type FetchError } from '../errors.js';
import { noReferences, type ReadReference } from '../headers/header-values.js';
import { redactHeaders } from '../headers/redact-headers.js';
import type { JobOptions } from '../job-options.js';
import { blankRecord, type InputItem, type ResultRecord, type WarcLocation } from '../record.js';
import type { ChunkWarc } from '../warc/chunk-warc.js';
import { ACCEPT_ENCODING, type BodyLimits, type BodyOutcome, BodyReader } from './body-reader.js';
import { type FirstAttempt, type ItemFetcher, scheduleChunk } from './chunk-scheduler.js';
import { type AbandonedTally, Exchange, type ResponsePlanner } from './exchange.js';
import { HostPacer } from './host-pace.js';
import { isoTime } from './iso-time.js';
import { ConcurrencyLimiter, type Release } from './limiter.js';
import { OriginClients } from './origin-clients.js';
import { nextHop, redirectLocation } from './redirect-policy.js';
import { RequestHeaders, type UrlHeaders } from './request-headers.js';
import { isRetryableStatus, parseRetryAfter, RetryPolicy } from './retry-policy.js';
import { productToken } from './robots.js';
import { RobotsFetcher } from './robots-fetch.js';
import { RobotsGate, type RobotsStore, type RobotsTicket, type RobotsWaiter } from './robots-gate.js';
import { parseTarget } from './target-url.js';
import { DeadlineList, RunsBySignal, UrlRun } from './url-run.js';

/** Options the engine reads: a job's options (see job-options.ts). */
export type EngineOptions = Pick<
  JobOptions,
  | 'concurrency'
  | 'perHost'
  | 'hostRate'
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
  | 'robots'
  | 'headers'
  | 'sensitiveHeaders'
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
  /** The job's robots.txt verdicts, shared by its workers; without it the engine keeps its own. */
  robotsStore?: RobotsStore;
  /** Reads the headers' `env:`/`secret:` references; without it, a header given by reference fails its URL. */
  readReference?: ReadReference;
}

/** The chunk's WARC, and where one URL's latest response record is (null until one is written). */
interface ArchiveHops {
  warc: ChunkWarc;
  last: Promise<WarcLocation | null> | null;
}

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
 * backoff (retry-policy.ts), redirects followed by hand, each hop re-checked
 * (redirect-policy.ts), timeouts, body caps. The chunk scheduler (chunk-scheduler.ts)
 * runs a chunk's items with the limiter; this file is one URL's fetch. `fetchAll` never
 * throws for anything a URL or its server does: every item gets exactly one record.
 */
export class FetchEngine implements ItemFetcher {
  readonly limiter: ConcurrencyLimiter;
  private readonly policy: AddressPolicy;
  private readonly retry: RetryPolicy;
  private readonly connections: OriginClients;
  private readonly options: EngineOptions;
  private readonly headers: RequestHeaders;
  private readonly limits: BodyLimits;
  private readonly cancels = new RunsBySignal();
  private readonly tally: AbandonedTally = { abandoned: 0 };
  private readonly deadlines: DeadlineList;
  /** robots.txt per origin; null with option robots 'ignore'. */
  private readonly robots: RobotsGate | null;

  constructor(private readonly settings: EngineSettings) {
    this.options = settings.options;
    this.policy = new AddressPolicy({ allowPrivate: this.options.allowPrivate, allow: this.options.allow });
    const { concurrency, perHost, hostRate } = this.options;
    this.limiter = new ConcurrencyLimiter(concurrency, perHost, new HostPacer({ perHost, hostRate }));
    this.retry = new RetryPolicy({ ...this.options, random: settings.random });
    this.deadlines = new DeadlineList(this.options.timeoutMs);
    this.connections = new OriginClients({
      policy: this.policy,
      resolver: settings.resolver,
      connectTimeoutMs: this.options.connectTimeoutMs,
    });
    this.headers = new RequestHeaders(
      { 'user-agent': this.options.userAgent, 'accept-encoding': ACCEPT_ENCODING, accept: '*/*' },
      this.options.headers,
      this.options.sensitiveHeaders,
      settings.readReference ?? noReferences,
    );
    this.limits = {
      mode: this.options.body,
      maxBodyBytes: this.options.maxBodyBytes,
      inlineMaxBytes: this.options.inlineMaxBytes,
    };
    this.robots = this.options.robots === 'ignore' ? null : this.robotsGate(settings.robotsStore);
  }

  /**
   * Fetches every item of a chunk; records come back in item order. `signal` cancels:
   * what has not finished gets code CANCELLED. With `warc` (body mode 'warc'), every
   * exchange's records go to the chunk's WARC and each record names its last response's.
   */
  fetchAll(items: readonly InputItem[], signal?: AbortSignal, warc?: ChunkWarc): Promise<ResultRecord[]> {
    if (!warc) return scheduleChunk(this, items, signal);
    const fetcher: ItemFetcher = {
      limiter: this.limiter,
      targetOf: (item, s) => this.targetOf(item, s),
      robotsAllows: (url) => this.robotsAllows(url),
      robotsWait: (url, waiter) => this.robotsWait(url, waiter),
      fetchOne: (item, s, first) => this.fetchOne(item, s, first, warc),
    };
    return scheduleChunk(fetcher, items, signal);
  }

  /**
   * An item's target when it may queue for a slot: a valid http(s) URL whose IP
   * literal, if any, is allowed. null when it needs no slot (fetchOne then records why,
   * or records the cancellation). For the chunk scheduler.
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

  /** Whether robots.txt lets `url` be fetched: null while its origin's robots.txt is not known (see robotsWait). */
  robotsAllows(url: URL): boolean | null {
    const rules = this.robots?.rulesFor(url);
    if (rules === undefined) return true;
    if (rules === null) return null;
    try {
      return rules.allows(url);
    } catch {
      return false; // fetchOne records why
    }
  }

  /** Calls `waiter.known()` once robots.txt of `url`'s origin is known. */
  robotsWait(url: URL, waiter: RobotsWaiter): RobotsTicket {
    return (this.robots as RobotsGate).wait(url, waiter);
  }

  /** Fetches one item, for the chunk scheduler; `first` is its first attempt's target and slot, when it got them. */
  async fetchOne(
    item: InputItem,
    signal?: AbortSignal,
    first?: FirstAttempt,
    warc?: ChunkWarc,
  ): Promise<ResultRecord> {
    const createdAt = Date.now();
    const record = blankRecord(item, '');
    const run = new UrlRun(this.deadlines);
    const runs = signal ? this.cancels.runsOf(signal) : undefined;
    if (signal?.aborted) run.cancel();
    else runs?.add(run);
    const archive: ArchiveHops | undefined = warc && { warc, last: null };
    try {
      await this.fetchInto(record, item, run, first, archive);
    } catch (err) {
      const failure = run.classify(err, item.url);
      record.error = errorOf(failure);
      if (failure instanceof BodyTooLargeError) record.bytes = failure.bytes;
    } finally {
      runs?.delete(run);
      run.dispose();
      record.timings.start = isoTime(run.startedAtWall ?? createdAt);
      record.timings.totalMs = round(run.elapsedMs());
    }
    if (archive?.last) {
      // A failed WARC write fails the chunk when its WARC is sealed, not this record.
      const place = await archive.last.catch(() => null);
      if (place) record.warc = place;
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

  private async fetchInto(
    record: ResultRecord,
    item: InputItem,
    run: UrlRun,
    first: FirstAttempt | undefined,
    archive: ArchiveHops | undefined,
  ): Promise<void> {
    const o = this.options;
    let current = first?.url ?? parseTarget(item.url, 'INVALID_URL');
    let held = first?.release;
    let headers: UrlHeaders;
    try {
      const forUrl = this.headers.forUrl(item.headers);
      headers = forUrl instanceof Promise ? await forUrl : forUrl;
    } catch (err) {
      held?.();
      throw err;
    }
    const origin = current.origin;
    // Once a redirect leaves the URL's origin, its sensitive headers stay behind (curl, browsers).
    let sent = headers.sameOrigin;
    for (;;) {
      // The scheduler asked robots.txt before it took the held slot; other hops ask here.
      // A blocked IP literal is left to the attempt, which records it (asking nothing).
      if (!held && this.robots && this.literalAllowed(current)) {
        const asking = this.obeyRobots(this.robots, current, run);
        if (asking) await asking;
      }
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
        // The host's pace (hostRate, Crawl-delay, a slow-down) may ask this start to wait.
        const waitMs = this.limiter.book(current.hostname);
        if (waitMs > 0) await this.paced(waitMs, run, release);
        run.start();
        exchange = this.exchange(record, current, run, release, plan, sent, archive);
        body = await exchange.result;
      } catch (err) {
        // The response came and its body failed: final, like the old stream read.
        if (exchange?.responded) throw err;
        const failure = run.classify(err, current.href);
        if (failure.code === 'RESOURCE_EXHAUSTED') this.limiter.backOff();
        const decision = failure.retryable
          ? this.retry.afterFailure(record.attempts, run.remainingMs())
          : null;
        if (!decision?.retry) throw failure;
        await run.pause(decision.delayMs);
        continue;
      }
      if (plan.redirect !== null) {
        current = nextHop(plan.redirect, current, record.redirects, o.maxRedirects);
        if (current.origin !== origin) sent = headers.crossOrigin;
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

  /** Throws ROBOTS_DISALLOWED when robots.txt disallows `url`; a promise while its origin's robots.txt is not known. */
  private obeyRobots(gate: RobotsGate, url: URL, run: UrlRun): Promise<void> | undefined {
    const rules = gate.rulesFor(url);
    if (rules) {
      if (!rules.allows(url)) throw rules.denial(url);
      return undefined;
    }
    const asking = gate.rules(url);
    run.waitOn((reason) => asking.cancel(reason));
    return asking.known.then(
      (known) => {
        run.done();
        if (!known.allows(url)) throw known.denial(url);
      },
      (err: unknown) => {
        run.done();
        throw err;
      },
    );
  }

  private robotsGate(store: RobotsStore | undefined): RobotsGate {
    const o = this.options;
    const fetcher = new RobotsFetcher({
      limiter: this.limiter,
      connections: this.connections,
      checkLiteral: (url) => this.checkLiteral(url),
      waitForSlot: (url, run) => this.waitForSlot(url, run),
      paced: (waitMs, run, release) => this.paced(waitMs, run, release),
      notePace: (host, status, retryAfter, sentAt) => this.notePace(host, status, retryAfter, sentAt),
      retry: this.retry,
      deadlines: this.deadlines,
      tally: this.tally,
      userAgent: o.userAgent,
      headersTimeoutMs: o.headersTimeoutMs,
      bodyTimeoutMs: o.bodyTimeoutMs,
    });
    return new RobotsGate({
      token: productToken(o.userAgent),
      fetch: (origin) => fetcher.verdictOf(origin),
      store,
      onRules: (url, rules) => {
        if (rules.crawlDelayMs > 0) this.limiter.setCrawlDelay(url.hostname, rules.crawlDelayMs);
      },
    });
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

  /** Waits for a booked start, holding the slots; a cancellation or the deadline gives them back. */
  private async paced(waitMs: number, run: UrlRun, release: Release): Promise<void> {
    try {
      await run.pause(waitMs);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Sends one request; the plan decided from the response's headers lands in `plan`. */
  private exchange(
    record: ResultRecord,
    url: URL,
    run: UrlRun,
    release: Release,
    plan: AttemptPlan,
    headers: Record<string, string>,
    archive: ArchiveHops | undefined,
  ): Exchange {
    const startedAt = performance.now();
    const sentAt = Date.now();
    const planner: ResponsePlanner = (status, headers, flow) => {
      this.limiter.recover();
      record.timings.ttfbMs = round(performance.now() - startedAt);
      record.status = status;
      record.finalUrl = url.href;
      record.contentType = headerValue(headers['content-type']);
      this.notePace(url.hostname, status, headers['retry-after'], sentAt);
      plan.redirect = redirectLocation(status, headerValue(headers.location));
      if (plan.redirect !== null) return 'discard';
      if (isRetryableStatus(status)) {
        const remainingMs = run.remainingMs();
        const decision = this.retry.afterStatus(status, record.attempts, headers['retry-after'], remainingMs);
        if (decision.retry) {
          plan.retryDelayMs = decision.delayMs;
          return 'discard';
        }
        plan.statusFailure = decision.failure;
      }
      return new BodyReader(headers, this.limits, flow);
    };
    const connection = this.connections.take(url.origin);
    // undici is done with the request: the connection carries the next one, the slot too.
    const done: Release = () => {
      this.connections.give(connection);
      release();
    };
    const o = this.options;
    const capture = archive?.warc.capture({
      url,
      method: o.method,
      // The archive keeps a sensitive header's name, never its value.
      headers: redactHeaders(headers, o.sensitiveHeaders),
      date: new Date(sentAt),
      remoteAddress: () => connection.remoteAddress,
    });
    let exchange: Exchange;
    try {
      exchange = new Exchange(run, done, planner, this.tally, capture);
    } catch (err) {
      capture?.end(null);
      done();
      throw err;
    }
    // A hop that got no response keeps the last response's place: the record names that one.
    if (archive && capture) {
      const previous = archive.last;
      archive.last = capture.written.then((place) => place ?? previous);
    }
    connection.dispatch(
      {
        origin: connection.origin,
        path: `${url.pathname}${url.search}`,
        method: o.method,
        headers,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
      },
      exchange,
    );
    return exchange;
  }

  /**
   * A 429 or 503, or any error status with Retry-After, slows the host down (for the whole job:
   * its pace goes to the host's next owner), once per round of requests; another answer below
   * 500 lets it recover.
   */
  private notePace(
    host: string,
    status: number,
    retryAfter: string | string[] | undefined,
    sentAt: number,
  ): void {
    const waitMs = status >= 400 ? parseRetryAfter(retryAfter) : null;
    if (status === 429 || status === 503 || waitMs !== null) {
      const pauseMs = waitMs === null ? null : Math.min(waitMs, this.options.maxRetryAfterMs);
      this.limiter.slowDown(host, pauseMs, sentAt);
    } else if (status < 500) this.limiter.answered(host);
  }

  private literalAllowed(url: URL): boolean {
    try {
      this.checkLiteral(url);
      return true;
    } catch {
      return false;
    }
  }

  private checkLiteral(url: URL): void {
    const ip = ipLiteral(url.hostname);
    if (ip === null) return;
    const reason = this.policy.check(ip);
    if (reason !== null) throw new BlockedAddressError(ip, reason, url.href);
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
