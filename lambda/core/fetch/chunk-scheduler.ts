import type { InputItem, ResultRecord } from '../record.js';
import type { ConcurrencyLimiter, Release, SlotTicket, SlotWaiter } from './limiter.js';
import type { RobotsTicket, RobotsWaiter } from './robots-gate.js';

/** A first attempt's target and slot, taken before the fetch began. */
export interface FirstAttempt {
  url: URL;
  release: Release;
}

/** What the scheduler runs a chunk's items with: the engine. */
export interface ItemFetcher {
  readonly limiter: ConcurrencyLimiter;
  /** The item's target when it may queue for a slot; null when it needs none (its fetch records why). */
  targetOf(item: InputItem, signal: AbortSignal | undefined): URL | null;
  /** Whether robots.txt lets the target be fetched (false: its fetch records why); null while not known yet. */
  robotsAllows(url: URL): boolean | null;
  /** Calls `waiter.known()` once robots.txt of the target's origin is known. */
  robotsWait(url: URL, waiter: RobotsWaiter): RobotsTicket;
  /** Fetches one item, never throwing; `first` is its first attempt's target and slot, when the scheduler got them. */
  fetchOne(item: InputItem, signal: AbortSignal | undefined, first?: FirstAttempt): Promise<ResultRecord>;
}

/**
 * Runs every item of a chunk with the limiter; the records come back in item order.
 * An item waiting for its first slot is a small queue entry, not a fetch under way: a
 * chunk of thousands holds no promise, timer or record per waiting URL.
 */
export function scheduleChunk(
  fetcher: ItemFetcher,
  items: readonly InputItem[],
  signal: AbortSignal | undefined,
): Promise<ResultRecord[]> {
  return new ChunkRun(fetcher, items, signal).promise;
}

/** An item of a chunk waiting for its first slot. */
class QueuedItem implements SlotWaiter {
  ticket: SlotTicket | null = null;

  constructor(
    private readonly chunk: ChunkRun,
    readonly index: number,
    readonly url: URL,
  ) {}

  granted(release: Release): void {
    this.chunk.started(this, release);
  }
}

/**
 * An item of a chunk waiting for its origin's robots.txt, before it queues for a slot:
 * the robots.txt request needs a slot of that host too (with perHost 1, the only one).
 */
class RobotsWaitingItem implements RobotsWaiter {
  ticket: RobotsTicket | null = null;

  constructor(
    private readonly chunk: ChunkRun,
    readonly index: number,
    readonly url: URL,
  ) {}

  known(): void {
    this.chunk.robotsKnown(this);
  }
}

/** One chunk: starts every item, queues those without a slot, gathers the records. */
class ChunkRun {
  readonly promise: Promise<ResultRecord[]>;
  private readonly records: ResultRecord[];
  private remaining: number;
  private resolve!: (records: ResultRecord[]) => void;
  /** Items still waiting for their first slot. */
  private readonly waiting = new Set<QueuedItem>();
  /** Items waiting for their origin's robots.txt. */
  private readonly askingRobots = new Set<RobotsWaitingItem>();
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly fetcher: ItemFetcher,
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
      const url = fetcher.targetOf(item, signal);
      if (url === null) this.collect(index, fetcher.fetchOne(item, signal));
      else this.admit(index, url);
    }
  }

  /** An item with a target: queued for a slot once robots.txt allows it. */
  private admit(index: number, url: URL): void {
    const allowed = this.fetcher.robotsAllows(url);
    if (allowed === null) {
      const asking = new RobotsWaitingItem(this, index, url);
      this.askingRobots.add(asking);
      asking.ticket = this.fetcher.robotsWait(url, asking);
      return;
    }
    if (!allowed) {
      this.collect(index, this.fetcher.fetchOne(this.items[index] as InputItem, this.signal));
      return;
    }
    const release = this.fetcher.limiter.tryAcquire(url.hostname);
    if (release) {
      this.collect(
        index,
        this.fetcher.fetchOne(this.items[index] as InputItem, this.signal, { url, release }),
      );
      return;
    }
    const waiter = new QueuedItem(this, index, url);
    this.waiting.add(waiter);
    waiter.ticket = this.fetcher.limiter.enqueue(url.hostname, waiter);
  }

  robotsKnown(asking: RobotsWaitingItem): void {
    if (!this.askingRobots.delete(asking)) return;
    this.admit(asking.index, asking.url);
  }

  started(waiter: QueuedItem, release: Release): void {
    this.waiting.delete(waiter);
    const item = this.items[waiter.index] as InputItem;
    this.collect(waiter.index, this.fetcher.fetchOne(item, this.signal, { url: waiter.url, release }));
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

  /** The job was cancelled: items still waiting for robots.txt or a slot end now, as CANCELLED. */
  private cancelWaiting(): void {
    for (const asking of this.askingRobots) {
      if (!asking.ticket?.cancel()) continue;
      this.collect(asking.index, this.fetcher.fetchOne(this.items[asking.index] as InputItem, this.signal));
    }
    this.askingRobots.clear();
    for (const waiter of this.waiting) {
      if (!waiter.ticket?.cancel()) continue;
      this.collect(waiter.index, this.fetcher.fetchOne(this.items[waiter.index] as InputItem, this.signal));
    }
    this.waiting.clear();
  }
}
