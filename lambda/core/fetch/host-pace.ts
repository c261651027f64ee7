/**
 * How fast one host may be asked: the least spacing between request starts (the job's
 * hostRate, robots.txt's Crawl-delay, a slow-down after 429/503) and how many requests it may
 * have in flight (perHost, lowered while it struggles). Pure bookkeeping over a clock: the
 * limiter applies it, and a worker saves and restores it so the next owner of a host goes on
 * from where this one stopped (docs/architecture.md, "Politeness").
 */

/** The slow-down rule's constants (AIMD, after Scrapy's AutoThrottle and TCP). */
export const HOST_BACKOFF = {
  /** The first spacing a struggling host gets (ms); each further 429/503 doubles it. */
  firstSpacingMs: 250,
  /** The widest spacing the slow-down reaches (ms). */
  maxSpacingMs: 60_000,
} as const;

/** What a worker saves of a host whose pace is not the job's plain one. */
export interface HostPaceState {
  /** Requests it may have in flight now (below perHost while it struggles). */
  cap: number;
  /** The slow-down's spacing between request starts (ms); 0 when none. */
  backoffMs: number;
  /** No request starts before this time (epoch ms): a Retry-After, or the spacing of the last start. */
  notBefore: number;
}

/** Bookings between two sweeps of entries no longer needed: memory stays bounded by the hosts in play. */
const SWEEP_EVERY = 4096;

interface HostPace extends HostPaceState {
  /** robots.txt's Crawl-delay (ms), already capped. */
  crawlDelayMs: number;
  /** When the host was last slowed down (epoch ms): answers to requests sent before then do not slow it again. */
  slowedAt: number;
  /** Plain answers since the cap or spacing last changed. */
  streak: number;
}

export interface HostPacerSettings {
  perHost: number;
  /** Requests per second per host; 0: none. */
  hostRate: number;
  /** The clock (epoch ms), for tests. @default Date.now */
  now?: () => number;
}

/** Pace of every host a job's engine asks; a host with the job's plain pace holds no entry. */
export class HostPacer {
  private readonly hosts = new Map<string, HostPace>();
  private readonly rateSpacingMs: number;
  private readonly perHost: number;
  private readonly now: () => number;
  private bookings = 0;

  constructor(settings: HostPacerSettings) {
    this.perHost = settings.perHost;
    // Rounded up to the next whole millisecond, plus one: timers and clocks count in whole
    // milliseconds, and a start a hair early must not let a second hold one request too many.
    this.rateSpacingMs = settings.hostRate > 0 ? Math.ceil(1000 / settings.hostRate) + 1 : 0;
    this.now = settings.now ?? Date.now;
  }

  /** Requests `host` may have in flight now: perHost, less while it struggles or is paced slowly. */
  capOf(host: string): number {
    const pace = this.hosts.get(host);
    const spacing = this.spacingOf(pace);
    const cap = pace?.cap ?? this.perHost;
    // A paced host needs no more in flight than it may start in a second: a request holding
    // its slots while it waits for its start holds them for at most about that long.
    return spacing > 0 ? Math.min(cap, Math.max(1, Math.ceil(1000 / spacing))) : cap;
  }

  /**
   * Books the next request start to `host` (its slots are held): the ms to wait before it may
   * start, 0 at once. Starts are at least the host's spacing apart, so any one-second window
   * holds at most hostRate of them, plus one.
   */
  book(host: string): number {
    this.bookings += 1;
    if (this.bookings % SWEEP_EVERY === 0) this.sweep();
    let pace = this.hosts.get(host);
    if (!pace) {
      if (this.rateSpacingMs === 0) return 0;
      pace = this.entry(host);
    }
    const now = this.now();
    const start = Math.max(now, pace.notBefore);
    pace.notBefore = start + this.spacingOf(pace);
    return start - now;
  }

  /**
   * `host` answered 429 or 503, or asked to wait (Retry-After, ms), to a request sent at
   * `sentAt` (epoch ms): start nothing before the Retry-After has passed, and, once per round
   * (answers to requests sent before the last slow-down do not count again, as TCP halves its
   * window once per round trip), halve its cap (at least 1) and double its spacing (from
   * HOST_BACKOFF.firstSpacingMs up to maxSpacingMs). True when its cap changed.
   */
  slowDown(host: string, retryAfterMs: number | null, sentAt = this.now()): boolean {
    const pace = this.entry(host);
    const now = this.now();
    if (retryAfterMs !== null) pace.notBefore = Math.max(pace.notBefore, now + retryAfterMs);
    if (sentAt < pace.slowedAt) return false;
    pace.slowedAt = now;
    const before = pace.cap;
    pace.cap = Math.max(1, Math.floor(pace.cap / 2));
    pace.backoffMs = Math.min(
      HOST_BACKOFF.maxSpacingMs,
      Math.max(HOST_BACKOFF.firstSpacingMs, pace.backoffMs * 2),
    );
    pace.streak = 0;
    return pace.cap !== before;
  }

  /**
   * `host` answered normally: after as many plain answers in a row as its cap, raise the cap by
   * one and halve the slow-down's spacing (below the first step: none), until the host is back
   * at the job's plain pace. True when its cap changed.
   */
  answered(host: string): boolean {
    const pace = this.hosts.get(host);
    if (!pace || (pace.cap >= this.perHost && pace.backoffMs === 0)) return false;
    pace.streak += 1;
    if (pace.streak < pace.cap) return false;
    pace.streak = 0;
    const before = pace.cap;
    pace.cap = Math.min(this.perHost, pace.cap + 1);
    pace.backoffMs = pace.backoffMs / 2 < HOST_BACKOFF.firstSpacingMs ? 0 : pace.backoffMs / 2;
    this.forgetIfPlain(host, pace);
    return pace.cap !== before;
  }

  /** robots.txt asked for this spacing (ms, already capped). */
  setCrawlDelay(host: string, ms: number): void {
    const pace = this.entry(host);
    pace.crawlDelayMs = ms;
    this.forgetIfPlain(host, pace);
  }

  /** The pace of the hosts not at the job's plain one (of `hosts`, or all), for the next owner. */
  snapshot(hosts?: Iterable<string>): Record<string, HostPaceState> {
    const out: Record<string, HostPaceState> = {};
    const now = this.now();
    for (const host of hosts ?? this.hosts.keys()) {
      const pace = this.hosts.get(host);
      if (!pace) continue;
      if (pace.cap >= this.perHost && pace.backoffMs === 0 && pace.notBefore <= now) continue;
      out[host] = { cap: pace.cap, backoffMs: pace.backoffMs, notBefore: pace.notBefore };
    }
    return out;
  }

  /** Takes over hosts' pace as their last owner saved it (its crawl delays come from robots.txt again). */
  restore(states: Record<string, HostPaceState>): string[] {
    const changed: string[] = [];
    for (const [host, state] of Object.entries(states)) {
      const pace = this.entry(host);
      const cap = Math.min(this.perHost, Math.max(1, Math.floor(state.cap)));
      if (cap !== pace.cap) changed.push(host);
      pace.cap = cap;
      pace.backoffMs = Math.min(HOST_BACKOFF.maxSpacingMs, Math.max(0, state.backoffMs));
      pace.notBefore = Math.max(pace.notBefore, state.notBefore);
      pace.streak = 0;
    }
    return changed;
  }

  private spacingOf(pace: HostPace | undefined): number {
    if (!pace) return this.rateSpacingMs;
    return Math.max(this.rateSpacingMs, pace.crawlDelayMs, pace.backoffMs);
  }

  private entry(host: string): HostPace {
    let pace = this.hosts.get(host);
    if (!pace) {
      pace = { cap: this.perHost, backoffMs: 0, notBefore: 0, crawlDelayMs: 0, slowedAt: 0, streak: 0 };
      this.hosts.set(host, pace);
    }
    return pace;
  }

  /**
   * A host back at the plain pace whose last booked start is behind us needs no entry: a new
   * one would book the same. Checked as a host changes and, every SWEEP_EVERY bookings, for all.
   */
  private forgetIfPlain(host: string, pace: HostPace, now = this.now()): void {
    if (pace.cap < this.perHost || pace.backoffMs > 0 || pace.crawlDelayMs > 0) return;
    if (pace.notBefore > now) return;
    this.hosts.delete(host);
  }

  private sweep(): void {
    const now = this.now();
    for (const [host, pace] of this.hosts) this.forgetIfPlain(host, pace, now);
  }
}
