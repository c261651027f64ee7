import type { InputItem } from './record.js';

/** A slice of a job's accepted URLs: one queue message, one part. */
export interface Chunk {
  /** Zero-padded sequence number: the same input and options give the same ids. */
  chunkId: string;
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

/**
 * Groups items into chunks of at most `size` items and at most `maxBytes` of
 * serialised items, in input order. An item bigger than `maxBytes` on its own
 * still travels, alone in its chunk (the input's line cap keeps that bounded).
 */
export class Chunker {
  private items: InputItem[] = [];
  private bytes = 0;
  private next: number;

  /** `first` is the index of the first chunk (a dispatch resumed after `first` chunks). */
  constructor(
    private readonly size: number,
    private readonly maxBytes: number,
    first = 0,
  ) {
    this.next = first;
  }

  /** Items waiting for the next chunk. */
  get pending(): number {
    return this.items.length;
  }

  /** Chunks emitted so far (counting from index 0). */
  get count(): number {
    return this.next;
  }

  /** Adds an item; returns a full chunk when this item completes or overflows one. */
  add(item: InputItem): Chunk | null {
    const bytes = itemBytes(item);
    let full: Chunk | null = null;
    if (this.items.length > 0 && this.bytes + bytes > this.maxBytes) full = this.flush();
    this.items.push(item);
    this.bytes += bytes;
    // Both cannot happen for one item: a byte flush leaves one item, and size 1 never byte-flushes.
    if (this.items.length >= this.size) full = this.flush();
    return full;
  }

  /** Emits the partial chunk, if any. */
  flush(): Chunk | null {
    if (this.items.length === 0) return null;
    const chunk = { chunkId: chunkIdAt(this.next), items: this.items };
    this.next += 1;
    this.items = [];
    this.bytes = 0;
    return chunk;
  }
}
