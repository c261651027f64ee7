import type { ChunkMessage, ChunkQueue } from '../core/ports.js';

/**
 * A bounded in-memory queue: `send` waits while the queue is full, so a fast
 * dispatcher never runs ahead of the workers by more than `capacity` chunks.
 */
export class MemoryChunkQueue implements ChunkQueue {
  private readonly buffer: ChunkMessage[] = [];
  private readonly receivers: Array<(m: ChunkMessage | null) => void> = [];
  private readonly senders: Array<() => void> = [];
  private closed = false;

  constructor(private readonly capacity: number) {}

  async send(messages: readonly ChunkMessage[]): Promise<void> {
    for (const message of messages) {
      if (this.closed) throw new Error('chunk queue is closed');
      const receiver = this.receivers.shift();
      if (receiver) {
        receiver(message);
        continue;
      }
      while (this.buffer.length >= this.capacity) {
        await new Promise<void>((resolve) => this.senders.push(resolve));
        if (this.closed) throw new Error('chunk queue is closed');
      }
      this.buffer.push(message);
    }
  }

  /** The next message; null once the queue is closed and drained. */
  receive(): Promise<ChunkMessage | null> {
    const message = this.buffer.shift();
    if (message) {
      this.senders.shift()?.();
      return Promise.resolve(message);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.receivers.push(resolve));
  }

  /** No more messages will be sent; waiting receivers get null once the buffer is empty. */
  close(): void {
    this.closed = true;
    for (const receiver of this.receivers.splice(0)) receiver(null);
    for (const sender of this.senders.splice(0)) sender();
  }

  get size(): number {
    return this.buffer.length;
  }
}
