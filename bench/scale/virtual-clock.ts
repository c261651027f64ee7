import { setTimeout as sleepReal, setImmediate as turn } from 'node:timers/promises';

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

/**
 * Simulated time for the cloud model: a modelled request waits on this clock, not on a real
 * timer, so a job of 10^5 chunks runs in seconds. `run` drives it: whenever the code under test
 * has nothing left to do but wait, the clock jumps to the next wake-up. Real CPU time spent by
 * the code does not move the clock; the bench measures it apart.
 */
export class VirtualClock {
  /** Simulated milliseconds since the clock started. */
  now = 0;
  private readonly heap: Timer[] = [];
  private seq = 0;

  /** Resolves once the clock has moved `ms` on (at the next turn when `ms` ≤ 0). */
  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.push({ at: this.now + Math.max(0, ms), seq: this.seq++, wake }));
  }

  /** Timers still waiting. */
  get pending(): number {
    return this.heap.length;
  }

  /**
   * Runs `main` to its end, moving the clock from wake-up to wake-up. Fails when `main` waits
   * on something that is neither this clock nor quick real work (a deadlock in the model).
   */
  async run<T>(main: () => Promise<T>): Promise<T> {
    let settled = false;
    let value: T | undefined;
    let failure: unknown;
    let failed = false;
    main().then(
      (v) => {
        settled = true;
        value = v;
      },
      (err: unknown) => {
        settled = true;
        failed = true;
        failure = err;
      },
    );
    let idle = 0;
    while (!settled) {
      await turn();
      if (settled) break;
      const next = this.pop();
      if (!next) {
        // Real asynchronous work (the thread pool, a stream's own timers) may still be under way.
        idle += 1;
        if (idle > 200) throw new Error('the modelled run is stuck: nothing waits on the clock');
        await sleepReal(idle < 20 ? 0 : 5);
        continue;
      }
      idle = 0;
      this.now = next.at;
      next.wake();
      // Every timer due at the same instant wakes in the same turn.
      while (this.heap.length > 0 && (this.heap[0] as Timer).at <= this.now) (this.pop() as Timer).wake();
    }
    if (failed) throw failure;
    return value as T;
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Timer, h[parent] as Timer)) break;
      [h[i], h[parent]] = [h[parent] as Timer, h[i] as Timer];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Timer, h[m] as Timer)) m = l;
        if (r < h.length && before(h[r] as Timer, h[m] as Timer)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A token bucket on simulated time: `rate` tokens a second, at most `burst` saved up. A request
 * that finds too few tokens is refused (S3's 503 SlowDown, DynamoDB's throttling); the caller
 * retries as the SDK would.
 */
export class TokenBucket {
  private tokens: number;
  private at = 0;
  /** Requests refused so far. */
  refused = 0;

  constructor(
    readonly rate: number,
    readonly burst = rate,
  ) {
    this.tokens = burst;
  }

  /** Takes `cost` tokens at simulated time `nowMs`; false (and counted) when there are too few. */
  take(nowMs: number, cost = 1): boolean {
    this.refill(nowMs);
    if (this.tokens < cost) {
      this.refused += 1;
      return false;
    }
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds from `nowMs` until `cost` tokens are there (0: now). */
  waitMsAt(nowMs: number, cost = 1): number {
    this.refill(nowMs);
    return this.tokens >= cost ? 0 : ((cost - this.tokens) * 1000) / this.rate;
  }

  private refill(nowMs: number): void {
    if (nowMs <= this.at) return;
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.at) * this.rate) / 1000);
    this.at = nowMs;
  }
}
