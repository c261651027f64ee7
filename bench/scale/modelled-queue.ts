import type { ChunkMessage, ChunkQueue } from '../../lambda/core/ports.js';
import { AWS_LATENCY_MS, AWS_LIMITS } from './aws-figures.js';
import type { VirtualClock } from './virtual-clock.js';

/** A message handed to a worker: its body and the handle that deletes it. */
export interface Received {
  message: ChunkMessage;
  receiptHandle: string;
}

export interface QueueCounters {
  sendBatches: number;
  sent: number;
  receives: number;
  deletes: number;
  /** Receives refused because ~120,000 messages were in flight (OverLimit). */
  overLimit: number;
  /** The most messages in flight at once. */
  peakInFlight: number;
}

/** An SQS standard queue error: OverLimit, or a message over 256 KiB. */
export class QueueLimitError extends Error {
  constructor(
    readonly code: 'OverLimit' | 'MessageTooLong',
    message: string,
  ) {
    super(message);
    this.name = 'QueueLimitError';
  }
}

/**
 * SQS in memory, on the model's clock: SendMessageBatch of at most 10 messages of at most
 * 256 KiB each, ReceiveMessage (one message: the stack's batch size), DeleteMessage, each with
 * its latency; at most ~120,000 messages in flight (received, not yet deleted): past that a
 * receive gets OverLimit. With `keep: false` the queue only counts what it is sent.
 */
export class ModelledQueue implements ChunkQueue {
  readonly counters: QueueCounters = {
    sendBatches: 0,
    sent: 0,
    receives: 0,
    deletes: 0,
    overLimit: 0,
    peakInFlight: 0,
  };
  private readonly ready: ChunkMessage[] = [];
  private head = 0;
  private readonly inFlight = new Map<string, ChunkMessage>();
  private handles = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly options: { keep?: boolean; inFlightLimit?: number } = {},
  ) {}

  async send(messages: readonly ChunkMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += AWS_LIMITS.sqsBatchMessages) {
      const batch = messages.slice(i, i + AWS_LIMITS.sqsBatchMessages);
      for (const message of batch) {
        const bytes = Buffer.byteLength(JSON.stringify(message));
        if (bytes > AWS_LIMITS.sqsMessageBytes) {
          throw new QueueLimitError(
            'MessageTooLong',
            `chunk ${message.chunkId} is ${bytes} bytes, over SQS's ${AWS_LIMITS.sqsMessageBytes}`,
          );
        }
      }
      await this.clock.sleep(AWS_LATENCY_MS.sqsSend);
      this.counters.sendBatches += 1;
      this.counters.sent += batch.length;
      if (this.options.keep !== false) this.ready.push(...batch);
    }
  }

  /** Enqueues messages without a request (a bench's set-up). */
  preload(messages: readonly ChunkMessage[]): void {
    for (const message of messages) this.ready.push(message);
  }

  /** ReceiveMessage for one message: null when none is ready. Throws OverLimit at the in-flight cap. */
  async receive(): Promise<Received | null> {
    await this.clock.sleep(AWS_LATENCY_MS.sqsReceive);
    this.counters.receives += 1;
    if (this.inFlight.size >= (this.options.inFlightLimit ?? AWS_LIMITS.sqsInFlightMessages)) {
      this.counters.overLimit += 1;
      throw new QueueLimitError('OverLimit', `${this.inFlight.size} messages in flight`);
    }
    if (this.head >= this.ready.length) return null;
    const message = this.ready[this.head] as ChunkMessage;
    this.ready[this.head] = undefined as unknown as ChunkMessage;
    this.head += 1;
    const receiptHandle = `r${this.handles++}`;
    this.inFlight.set(receiptHandle, message);
    this.counters.peakInFlight = Math.max(this.counters.peakInFlight, this.inFlight.size);
    return { message, receiptHandle };
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.clock.sleep(AWS_LATENCY_MS.sqsDelete);
    this.counters.deletes += 1;
    this.inFlight.delete(receiptHandle);
  }

  /** ChangeMessageVisibility: the message is ready again at once (0), or after `afterSeconds`. */
  async release(receiptHandle: string, afterSeconds: number): Promise<void> {
    await this.clock.sleep(AWS_LATENCY_MS.sqsDelete);
    const message = this.inFlight.get(receiptHandle);
    if (!message) return;
    this.inFlight.delete(receiptHandle);
    if (afterSeconds === 0) this.ready.push(message);
    else void this.clock.sleep(afterSeconds * 1000).then(() => this.ready.push(message));
  }

  /** Messages waiting to be received. */
  get backlog(): number {
    return this.ready.length - this.head;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
