/**
 * Caps requests in flight: globally per process and per host name. A waiter takes its
 * host slot before its global slot, so requests queued behind a busy host never hold
 * global slots that other hosts could use.
 */

type Waiter = { resolve: () => void; reject: (err: unknown) => void };

/** A counting semaphore with a FIFO queue and abortable waits. */
class Semaphore {
  private used = 0;
  private readonly queue: Waiter[] = [];
  constructor(private cap: number) {}

  get limit(): number {
    return this.cap;
  }

  /** Changes the cap; raising it admits waiters at once, lowering it takes effect as slots come back. */
  setLimit(cap: number): void {
    this.cap = cap;
    while (this.used < this.cap) {
      const next = this.queue.shift();
      if (!next) break;
      this.used += 1;
      next.resolve();
    }
  }

  get inUse(): number {
    return this.used;
  }

  get idle(): boolean {
    return this.used === 0 && this.queue.length === 0;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.used < this.cap) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  release(): void {
    const next = this.used <= this.cap ? this.queue.shift() : undefined;
    if (next) next.resolve();
    else this.used -= 1;
  }
}

/**
 * Global and per-host in-flight caps. The global cap adapts when the process runs out
 * of file descriptors or sockets: it halves on each such failure and grows back by one
 * after every `limit` successes (AIMD), never above the configured cap.
 */
export class ConcurrencyLimiter {
  private readonly global: Semaphore;
  private readonly hosts = new Map<string, Semaphore>();
  private successes = 0;

  constructor(
    readonly globalCap: number,
    readonly perHostCap: number,
  ) {
    this.global = new Semaphore(globalCap);
  }

  /** The global cap in force now (at most globalCap). */
  get limit(): number {
    return this.global.limit;
  }

  /** The process is out of descriptors or sockets: halve the global cap. */
  backOff(): void {
    this.global.setLimit(Math.max(1, Math.floor(Math.min(this.global.limit, this.global.inUse) / 2)));
    this.successes = 0;
  }

  /** A request went through: after a full cap's worth of them, allow one more in flight. */
  recover(): void {
    if (this.global.limit >= this.globalCap) return;
    this.successes += 1;
    if (this.successes >= this.global.limit) {
      this.successes = 0;
      this.global.setLimit(this.global.limit + 1);
    }
  }

  /** Requests holding a global slot now. */
  get inFlight(): number {
    return this.global.inUse;
  }

  /** Waits for a slot for `host`; resolves to the function that gives it back (call it once). */
  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    let hostSlot = this.hosts.get(host);
    if (!hostSlot) {
      hostSlot = new Semaphore(this.perHostCap);
      this.hosts.set(host, hostSlot);
    }
    const slot = hostSlot;
    await slot.acquire(signal);
    try {
      await this.global.acquire(signal);
    } catch (err) {
      this.releaseHost(host, slot);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.global.release();
      this.releaseHost(host, slot);
    };
  }

  private releaseHost(host: string, slot: Semaphore): void {
    slot.release();
    if (slot.idle) this.hosts.delete(host);
  }
}
