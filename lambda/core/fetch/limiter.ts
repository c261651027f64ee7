/**
 * Caps requests in flight: globally per process and per host name. A waiter takes its
 * host slot before its global slot, so requests queued behind a busy host never hold
 * global slots that other hosts could use.
 */

import { HostPacer, type HostPaceState } from './host-pace.js';

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

/** Whoever waits for a slot: told once, when it has one. */
export interface SlotWaiter {
  granted(release: Release): void;
}

/** A place in the queues; `cancel` leaves them (false when the slot was already given). */
export interface SlotTicket {
  cancel(): boolean;
}

/** A promise-shaped wait for a slot: `granted` settles with the slot; `cancel` leaves the queue instead. */
export interface SlotWait {
  granted: Promise<Release>;
  /** Leaves the queue and rejects `granted` with `reason`; nothing once the slot was given. */
  cancel(reason: unknown): void;
}

/** What a semaphore queues: `waiting` is false once it was served or left. */
interface Waiter {
  waiting: boolean;
  grant(): void;
}

/**
 * A counting semaphore with a FIFO queue; cancelled waiters are skipped when their turn
 * comes. A waiter leaves the queue's array as it is served: the array is compacted only
 * now and then, and a served waiter left in it would keep its whole request alive until
 * then (long enough to be promoted out of V8's young generation).
 */
class Semaphore {
  private used = 0;
  private queue: Array<Waiter | undefined> = [];
  private head = 0;

  constructor(private cap: number) {}

  get limit(): number {
    return this.cap;
  }

  get inUse(): number {
    return this.used;
  }

  get idle(): boolean {
    return this.used === 0 && this.head === this.queue.length;
  }

  /** Changes the cap; raising it admits waiters at once, lowering it takes effect as slots come back. */
  setLimit(cap: number): void {
    this.cap = cap;
    while (this.used < this.cap) {
      const next = this.next();
      if (!next) break;
      this.used += 1;
      next.grant();
    }
  }

  /** Takes a slot if one is free and nobody waits before us. */
  tryTake(): boolean {
    if (this.used >= this.cap || this.head < this.queue.length) return false;
    this.used += 1;
    return true;
  }

  enqueue(waiter: Waiter): void {
    waiter.waiting = true;
    this.queue.push(waiter);
  }

  release(): void {
    const next = this.used <= this.cap ? this.next() : undefined;
    if (next) next.grant();
    else this.used -= 1;
  }

  /** The first waiter still waiting, taken off the queue. */
  private next(): Waiter | undefined {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head] as Waiter;
      this.queue[this.head] = undefined;
      this.head += 1;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (waiter.waiting) {
        waiter.waiting = false;
        return waiter;
      }
    }
    return undefined;
  }
}

/**
 * One waiter's way through the two queues: its host's, then the global one. A single
 * object for both, so a queued request costs the limiter one allocation.
 */
class Ticket implements Waiter, SlotTicket {
  waiting = false;
  /** Holds its host slot (and waits for, or holds, the global one). */
  holdsHost = false;
  done = false;

  constructor(
    private readonly limiter: ConcurrencyLimiter,
    readonly host: string,
    readonly slot: Semaphore,
    private readonly waiter: SlotWaiter,
  ) {}

  grant(): void {
    if (!this.holdsHost) {
      this.holdsHost = true;
      this.limiter.queueGlobal(this);
      return;
    }
    this.done = true;
    this.waiter.granted(this.limiter.releaser(this.host, this.slot));
  }

  cancel(): boolean {
    if (this.done || !this.waiting) return false;
    this.waiting = false;
    this.done = true;
    this.limiter.abandon(this);
    return true;
  }
}

/** Adapts a ticket to a promise for callers that await their slot. */
class PromisedSlot implements SlotWaiter {
  resolve!: (release: Release) => void;
  reject!: (reason: unknown) => void;
  readonly promise = new Promise<Release>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  granted(release: Release): void {
    this.resolve(release);
  }
}

/**
 * Global and per-host in-flight caps. The global cap adapts when the process runs out
 * of file descriptors or sockets: it halves on each such failure and grows back by one
 * after every `limit` successes (AIMD), never above the configured cap. A host's cap and the
 * spacing of its request starts come from its pace (host-pace.ts): hostRate, Crawl-delay, and
 * the slow-down after 429/503.
 */
export class ConcurrencyLimiter {
  private readonly global: Semaphore;
  private readonly hosts = new Map<string, Semaphore>();
  private successes = 0;

  constructor(
    readonly globalCap: number,
    readonly perHostCap: number,
    private readonly pace: HostPacer = new HostPacer({ perHost: perHostCap, hostRate: 0 }),
  ) {
    this.global = new Semaphore(globalCap);
  }

  /**
   * Books the start of a request to `host` whose slots are held: the ms it must wait first
   * (0: start now). See HostPacer.book.
   */
  book(host: string): number {
    return this.pace.book(host);
  }

  /** `host` answered 429/503 or sent Retry-After (ms) to a request sent at `sentAt` (epoch ms): slow it down (HostPacer.slowDown). */
  slowDown(host: string, retryAfterMs: number | null, sentAt: number): void {
    if (this.pace.slowDown(host, retryAfterMs, sentAt)) this.resize(host);
  }

  /** `host` answered normally: it may recover (HostPacer.answered). */
  answered(host: string): void {
    if (this.pace.answered(host)) this.resize(host);
  }

  /** robots.txt's Crawl-delay for `host` (ms, already capped). */
  setCrawlDelay(host: string, ms: number): void {
    this.pace.setCrawlDelay(host, ms);
    this.resize(host);
  }

  /** The pace of hosts not at the job's plain one, for whoever fetches them next. */
  hostPaces(hosts?: Iterable<string>): Record<string, HostPaceState> {
    return this.pace.snapshot(hosts);
  }

  /** Goes on from the pace hosts' previous owner saved. */
  restoreHostPaces(states: Record<string, HostPaceState>): void {
    for (const host of this.pace.restore(states)) this.resize(host);
  }

  /** A host's cap changed: its semaphore, if it has one now, follows. */
  private resize(host: string): void {
    this.hosts.get(host)?.setLimit(this.pace.capOf(host));
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

  /** A slot for `host` if both caps have room now (and nobody waits before us), else null. */
  tryAcquire(host: string): Release | null {
    const slot = this.hostSlot(host);
    if (!slot.tryTake()) {
      if (slot.idle) this.hosts.delete(host);
      return null;
    }
    if (!this.global.tryTake()) {
      this.releaseHost(host, slot);
      return null;
    }
    return this.releaser(host, slot);
  }

  /**
   * Queues `waiter` for a slot for `host`: the host slot first, then the global one.
   * `waiter.granted` is called once both are held (at once, when both are free).
   */
  enqueue(host: string, waiter: SlotWaiter): SlotTicket {
    const slot = this.hostSlot(host);
    const ticket = new Ticket(this, host, slot, waiter);
    if (slot.tryTake()) ticket.grant();
    else slot.enqueue(ticket);
    return ticket;
  }

  /** Waits for a slot for `host`, as a promise. */
  wait(host: string): SlotWait {
    const promised = new PromisedSlot();
    const ticket = this.enqueue(host, promised);
    return {
      granted: promised.promise,
      cancel: (reason) => {
        if (ticket.cancel()) promised.reject(reason);
      },
    };
  }

  /** A ticket that holds its host slot now waits for (or takes) a global one. */
  queueGlobal(ticket: Ticket): void {
    if (this.global.tryTake()) ticket.grant();
    else this.global.enqueue(ticket);
  }

  /** A cancelled ticket leaves: a host slot it held goes to the next waiter. */
  abandon(ticket: Ticket): void {
    if (ticket.holdsHost) this.releaseHost(ticket.host, ticket.slot);
    else if (ticket.slot.idle) this.hosts.delete(ticket.host);
  }

  releaser(host: string, slot: Semaphore): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.global.release();
      this.releaseHost(host, slot);
    };
  }

  private hostSlot(host: string): Semaphore {
    let slot = this.hosts.get(host);
    if (!slot) {
      slot = new Semaphore(this.pace.capOf(host));
      this.hosts.set(host, slot);
    }
    return slot;
  }

  private releaseHost(host: string, slot: Semaphore): void {
    slot.release();
    if (slot.idle) this.hosts.delete(host);
  }
}
