import { hostGroupOf } from './host-group.js';
import type { InputItem } from './record.js';

/** A slice of a job's accepted URLs: one queue message, one part. */
export interface Chunk {
  /** Zero-padded sequence number: the same input and options give the same ids. */
  chunkId: string;
  /** The host group of every URL in it (hostGroupOf): one worker at a time fetches a group. */
  group: number;
  items: InputItem[];
}

/** Width of chunk ids; lexical order equals numeric order up to 10^8 chunks. */
const CHUNK_ID_WIDTH = 8;

/** The id of the chunk at position `index` (0-based). */
export function chunkIdAt(index: number): string {
  return String(index).padStart(CHUNK_ID_WIDTH, '0');
}

/** Printable ASCII but `"` and `\`: a string of these serialises to itself in quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Serialised size of an item as it sits in a chunk message (JSON plus a comma). */
export function itemBytes(item: InputItem): number {
  // The common item, {line, url} with a plain ASCII URL, serialises to
  // {"line":<line>,"url":"<url>"} whose size is known without serialising it.
  if (item.id === undefined && item.meta === undefined && PLAIN.test(item.url)) {
    return item.url.length + String(item.line).length + 19;
  }
  return Buffer.byteLength(JSON.stringify(item)) + 1;
}

/** The items of one host group not yet in a chunk, as a paused dispatch saves them. */
export interface PendingGroup {
  group: number;
  items: InputItem[];
}

/** One group's chunk being filled. */
interface Filling {
  items: InputItem[];
  bytes: number;
}

/**
 * Groups items into chunks by host group: each chunk holds the URLs of one group, at most
 * `size` items and at most `maxBytes` of serialised items, in input order within the group;
 * chunk ids count up across groups in the order chunks fill. An item bigger than `maxBytes` on
 * its own still travels, alone in its chunk (the input's line cap keeps that bounded). Memory:
 * at most one chunk being filled per group.
 */
export class Chunker {
  private readonly filling = new Map<number, Filling>();
  private held = 0;
  private next: number;

  /**
   * `first` is the index of the next chunk and `pending` the items a paused dispatch left in
   * groups (a dispatch resumed after `first` chunks makes the chunks one long run would).
   */
  constructor(
    private readonly size: number,
    private readonly maxBytes: number,
    private readonly groups: number,
    first = 0,
    pending: readonly PendingGroup[] = [],
  ) {
    this.next = first;
    for (const { group, items } of pending) {
      const bytes = items.reduce((sum, item) => sum + itemBytes(item), 0);
      this.filling.set(group, { items: [...items], bytes });
      this.held += items.length;
    }
  }

  /** Items waiting for their chunk. */
  get pending(): number {
    return this.held;
  }

  /** Chunks emitted so far (counting from index 0). */
  get count(): number {
    return this.next;
  }

  /** Adds an item; returns its group's chunk when this item completes or overflows it. */
  add(item: InputItem): Chunk | null {
    const group = hostGroupOf(item.url, this.groups);
    const bytes = itemBytes(item);
    let filling = this.filling.get(group);
    let full: Chunk | null = null;
    if (filling && filling.bytes + bytes > this.maxBytes) {
      full = this.emit(group, filling);
      filling = undefined;
    }
    if (!filling) {
      filling = { items: [], bytes: 0 };
      this.filling.set(group, filling);
    }
    filling.items.push(item);
    filling.bytes += bytes;
    this.held += 1;
    // Both cannot happen for one item: a byte flush leaves one item, and size 1 never byte-flushes.
    if (filling.items.length >= this.size) full = this.emit(group, filling);
    return full;
  }

  /** Emits the partial chunk of the lowest group that has one (the end of the input); null when none has. */
  flushOne(): Chunk | null {
    let lowest: number | undefined;
    for (const group of this.filling.keys()) if (lowest === undefined || group < lowest) lowest = group;
    return lowest === undefined ? null : this.emit(lowest, this.filling.get(lowest) as Filling);
  }

  /** Emits every group's partial chunk, in group order (the end of the input). */
  flush(): Chunk[] {
    const chunks: Chunk[] = [];
    for (let chunk = this.flushOne(); chunk; chunk = this.flushOne()) chunks.push(chunk);
    return chunks;
  }

  /** The items waiting in groups, for a paused dispatch's checkpoint. */
  pendingGroups(): PendingGroup[] {
    return [...this.filling.entries()]
      .sort(([a], [b]) => a - b)
      .map(([group, { items }]) => ({ group, items }));
  }

  private emit(group: number, filling: Filling): Chunk {
    const chunk = { chunkId: chunkIdAt(this.next), group, items: filling.items };
    this.next += 1;
    this.held -= filling.items.length;
    this.filling.delete(group);
    return chunk;
  }
}
