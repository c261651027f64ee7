import type { InputItem, ResultRecord } from '../record.js';
import type { ConcurrencyLimiter, Release, SlotTicket, SlotWaiter } from './limiter.js';

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

/** One chunk: starts every item, queues those without a slot, gathers the records. */
class ChunkRun {
  readonly promise: Promise<ResultRecord[]>;
  private readonly records: ResultRecord[];
  private remaining: number;
  private resolve!: (records: ResultRecord[]) => void;
  /** Items still waiting for their first slot. */
  private readonly waiting = new Set<QueuedItem>();
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
    const { limiter } = fetcher;
    for (let index = 0; index < items.length; index += 1) {
      const item = items[index] as InputItem;
      const url = fetcher.targetOf(item, signal);
      if (url === null) {
        this.collect(index, fetcher.fetchOne(item, signal));
        continue;
      }
      const release = limiter.tryAcquire(url.hostname);
      if (release) {
        this.collect(index, fetcher.fetchOne(item, signal, { url, release }));
        continue;
      }
      const waiter = new QueuedItem(this, index, url);
      this.waiting.add(waiter);
      waiter.ticket = limiter.enqueue(url.hostname, waiter);
    }
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

  /** The job was cancelled: items still waiting for a slot end now, as CANCELLED. */
  private cancelWaiting(): void {
    for (const waiter of this.waiting) {
      if (!waiter.ticket?.cancel()) continue;
      this.collect(waiter.index, this.fetcher.fetchOne(this.items[waiter.index] as InputItem, this.signal));
    }
    this.waiting.clear();
  }
}
