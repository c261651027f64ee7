import { FetchError } from '../errors.js';
import { toFetchError } from './error-map.js';

/** Why a run stopped early; the record names it, whatever error the stop caused. */
const STOPPED = new Error('the URL run was stopped');

/**
 * The deadlines of the runs under way, oldest first, behind one timer. Every run of an
 * engine has the same time budget, so the runs expire in the order they started: a list
 * in start order is also the list in deadline order, and the timer only ever needs the
 * first one. That costs a URL two pointer updates instead of a timer of its own.
 */
export class DeadlineList {
  private head: UrlRun | null = null;
  private tail: UrlRun | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time). */
  private timerAt = 0;

  constructor(readonly timeoutMs: number) {}

  /** Starts `run`'s clock now. */
  add(run: UrlRun, now: number): void {
    run.deadlineAt = now + this.timeoutMs;
    run.prev = this.tail;
    run.next = null;
    if (this.tail) this.tail.next = run;
    else this.head = run;
    this.tail = run;
    if (this.timer === undefined) this.arm(now);
  }

  /** Takes a finished run off the list. */
  remove(run: UrlRun): void {
    if (run.prev === null && this.head !== run) return; // not listed
    if (run.prev) run.prev.next = run.next;
    else this.head = run.next;
    if (run.next) run.next.prev = run.prev;
    else this.tail = run.prev;
    run.prev = null;
    run.next = null;
    // With nothing left to time, no timer may hold the process open.
    if (this.head === null && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm(now: number): void {
    const head = this.head as UrlRun;
    this.timerAt = head.deadlineAt;
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(head.deadlineAt - now)));
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    // setTimeout may fire a hair early; what is due within a millisecond is due. Fixed
    // before the loop: an expiring run frees its slot, and the URL that takes it starts
    // its run (and arms the timer) from inside this loop; that run is not due.
    const due = Math.max(now, this.timerAt) + 0.5;
    while (this.head && this.head.deadlineAt <= due) {
      const run = this.head;
      this.remove(run);
      run.expire();
    }
    if (this.head && this.timer === undefined) this.arm(now);
  }
}

/**
 * One URL's time budget and cancellation. The deadline starts with the first attempt,
 * not while the URL waits for a slot, so a long queue does not eat a URL's budget.
 *
 * It holds no AbortController: whatever the URL waits on (a slot, a response, a
 * backoff) registers one interrupt with `waitOn`, and the deadline or the job's
 * cancellation calls it. That keeps a URL's bookkeeping to a few fields.
 */
export class UrlRun {
  private startedAt: number | undefined;
  private interrupt: ((reason: Error) => void) | null = null;
  /** Wall-clock time of the first attempt. */
  startedAtWall: number | undefined;
  deadlineHit = false;
  cancelled = false;
  /** Kept by DeadlineList. */
  deadlineAt = 0;
  prev: UrlRun | null = null;
  next: UrlRun | null = null;

  constructor(private readonly deadlines: DeadlineList) {}

  /** True once the deadline passed or the job was cancelled. */
  get stopped(): boolean {
    return this.deadlineHit || this.cancelled;
  }

  start(): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = performance.now();
    this.startedAtWall = Date.now();
    this.deadlines.add(this, this.startedAt);
  }

  remainingMs(): number {
    const { timeoutMs } = this.deadlines;
    return this.startedAt === undefined ? timeoutMs : timeoutMs - (performance.now() - this.startedAt);
  }

  /** Time since the first attempt started; 0 when none did (cancelled while queued). */
  elapsedMs(): number {
    return this.startedAt === undefined ? 0 : performance.now() - this.startedAt;
  }

  /** The job was cancelled: whatever the URL waits on is interrupted. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.stop();
  }

  /** The deadline passed (called by the deadline list). */
  expire(): void {
    if (this.deadlineHit) return;
    this.deadlineHit = true;
    this.stop();
  }

  /** Throws when the deadline passed or the job was cancelled. */
  throwIfStopped(): void {
    if (this.stopped) throw STOPPED;
  }

  /**
   * Registers how to interrupt the current wait (one at a time); throws at once when
   * the run is already stopped. `done` unregisters it.
   */
  waitOn(interrupt: (reason: Error) => void): void {
    if (this.stopped) throw STOPPED;
    this.interrupt = interrupt;
  }

  /** The current wait is over. */
  done(): void {
    this.interrupt = null;
  }

  /** Waits `ms` (a backoff), interrupted by the deadline or cancellation. */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waitOn((reason) => {
        clearTimeout(timer);
        reject(reason);
      });
      const timer = setTimeout(() => {
        this.done();
        resolve();
      }, ms);
    });
  }

  /** Names an error, preferring cancellation and the deadline over whatever they caused. */
  classify(err: unknown, url: string): FetchError {
    if (this.cancelled) return new FetchError('CANCELLED', 'cancelled before the URL finished', { url });
    if (this.deadlineHit) {
      return new FetchError('DEADLINE', `no complete response within ${this.deadlines.timeoutMs} ms`, {
        url,
      });
    }
    return toFetchError(err, url);
  }

  dispose(): void {
    this.deadlines.remove(this);
    this.interrupt = null;
  }

  private stop(): void {
    const interrupt = this.interrupt;
    this.interrupt = null;
    interrupt?.(STOPPED);
  }
}

/**
 * The runs each cancellation signal stops, so a signal carries one listener, not one
 * per URL: its abort cancels every run registered under it.
 */
export class RunsBySignal {
  private readonly bySignal = new WeakMap<AbortSignal, Set<UrlRun>>();
  /** The signal looked up last, and its runs: a chunk's URLs share one. */
  private lastSignal: AbortSignal | undefined;
  private lastRuns: Set<UrlRun> | undefined;

  /** The runs `signal` cancels; add a run while it is under way, delete it when done. */
  runsOf(signal: AbortSignal): Set<UrlRun> {
    if (signal === this.lastSignal && this.lastRuns) return this.lastRuns;
    let runs = this.bySignal.get(signal);
    if (!runs) {
      const set = new Set<UrlRun>();
      runs = set;
      this.bySignal.set(signal, set);
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
}
