import { randomUUID } from 'node:crypto';
import {
  type BatchResultErrorEntry,
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ChunkMessage, ChunkQueue } from '../../core/ports.js';
import { awsErrorOf, backoff } from './retry.js';

/** SendMessageBatch takes at most 10 entries. */
const MAX_BATCH_ENTRIES = 10;
/** SQS's 256 KiB cap on a batch's bodies and attributes, less a margin for what we do not count. */
const MAX_BATCH_BYTES = 262_144 - 8_192;
const BACKOFF_MAX_MS = 5_000;
/** Entry failures that are worth another attempt even when SQS blames the sender. */
const RETRYABLE_CODES = new Set([
  'ThrottlingException',
  'RequestThrottled',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'KmsThrottled',
]);

/** Options of {@link SqsChunkQueue}. */
export interface SqsChunkQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** Attempts per message, the first included. @default 8 */
  maxAttempts?: number;
  /** First backoff step between attempts; doubled per attempt, full jitter (ms). @default 100 */
  backoffBaseMs?: number;
}

/** SQS's rule: a FIFO queue's name (and so its URL) ends in `.fifo`. */
export function isFifoQueue(nameOrUrl: string): boolean {
  return nameOrUrl.endsWith('.fifo');
}

interface Entry {
  chunkId: string;
  /** The FIFO message group: the job's host group, which one worker at a time receives. */
  groupId: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  bytes: number;
}

interface Lost {
  chunkId: string;
  reason: string;
}

/**
 * The chunk queue on SQS: each chunk one message, sent in batches that respect SQS's limits.
 * On a FIFO queue (its name ends in `.fifo`, as the stack's does) each chunk goes to the message
 * group of its job and host group, so one worker at a time fetches a host (docs/architecture.md,
 * "Politeness"); each send has a fresh deduplication id, since a chunk sent again on purpose (a
 * dispatch retried, a job re-run) must arrive, and workers already take a chunk only once.
 */
export class SqsChunkQueue implements ChunkQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly fifo: boolean;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;

  constructor(options: SqsChunkQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.fifo = isFifoQueue(options.queueUrl);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
  }

  /** Sends every message; throws naming the chunks that could not be sent. */
  async send(messages: readonly ChunkMessage[]): Promise<void> {
    const lost: Lost[] = [];
    for (const batch of batchEntries(messages.map(toEntry))) lost.push(...(await this.sendBatch(batch)));
    if (lost.length > 0) {
      const ids = lost.map((l) => l.chunkId).join(', ');
      const reasons = lost.map((l) => `${l.chunkId}: ${l.reason}`).join('; ');
      throw new Error(`could not send chunks ${ids} to ${this.queueUrl}: ${reasons}`);
    }
  }

  /** Sets the message's visibility timeout to `afterSeconds`, so a receive may take it then. */
  async release(receiptHandle: string, afterSeconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: afterSeconds,
      }),
    );
  }

  /** Sends one batch, retrying only the entries SQS failed; returns those that never went. */
  private async sendBatch(batch: readonly Entry[]): Promise<Lost[]> {
    const lost: Lost[] = [];
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const byId = new Map(pending.map((entry, index) => [entryId(entry.chunkId, index), entry]));
      let failed: BatchResultErrorEntry[];
      try {
        const res = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: [...byId].map(([id, entry]) => this.requestEntry(id, entry)),
          }),
        );
        const answered = new Set([...(res.Successful ?? []), ...(res.Failed ?? [])].map((e) => e.Id));
        // An entry in neither list is treated as failed: it must not be lost silently.
        failed = [
          ...(res.Failed ?? []),
          ...[...byId.keys()]
            .filter((id) => !answered.has(id))
            .map((id) => ({ Id: id, Code: 'Unanswered', SenderFault: false })),
        ];
      } catch (err) {
        const { name } = awsErrorOf(err);
        const reason = `${name || 'Error'} (${(err as Error).message})`;
        return [...lost, ...pending.map((entry) => ({ chunkId: entry.chunkId, reason }))];
      }
      const retry: Entry[] = [];
      for (const failure of failed) {
        const entry = byId.get(failure.Id ?? '');
        if (!entry) continue;
        const reason = `${failure.Code ?? 'Unknown'}${failure.Message ? ` (${failure.Message})` : ''}`;
        const retryable = !failure.SenderFault || RETRYABLE_CODES.has(failure.Code ?? '');
        if (retryable && attempt < this.maxAttempts) retry.push(entry);
        else
          lost.push({
            chunkId: entry.chunkId,
            reason: retryable ? `${reason} after ${attempt} attempts` : reason,
          });
      }
      pending = retry;
      if (pending.length > 0) await backoff(attempt, this.backoffBaseMs, BACKOFF_MAX_MS);
    }
    return lost;
  }

  private requestEntry(id: string, entry: Entry): SendMessageBatchRequestEntry {
    return {
      Id: id,
      MessageBody: entry.body,
      MessageAttributes: entry.attributes,
      ...(this.fifo && { MessageGroupId: entry.groupId, MessageDeduplicationId: randomUUID() }),
    };
  }
}

/**
 * The FIFO message group of a chunk: its job and host group, in SQS's alphabet and 128
 * characters (a job id too long to fit is cut: two such jobs then share groups, which only makes
 * them politer).
 */
export function messageGroupOf(message: Pick<ChunkMessage, 'jobId' | 'group'>): string {
  const job = message.jobId.replace(/[^\x21-\x7e]/g, '_').slice(0, 110);
  return `${job}/${message.group ?? 0}`;
}

function toEntry(message: ChunkMessage): Entry {
  // SQS refuses U+FFFE and U+FFFF in bodies; inside JSON strings an escape means the same.
  const body = JSON.stringify(message).replace(
    /[\uFFFE\uFFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
  const attributes: Record<string, MessageAttributeValue> = {
    jobId: { DataType: 'String', StringValue: message.jobId },
    chunkId: { DataType: 'String', StringValue: message.chunkId },
  };
  let bytes = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '');
  }
  return { chunkId: message.chunkId, groupId: messageGroupOf(message), body, attributes, bytes };
}

/** Groups entries in order into batches of at most 10 entries and MAX_BATCH_BYTES (an oversize entry goes alone). */
function batchEntries(entries: readonly Entry[]): Entry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (
      current.length > 0 &&
      (current.length >= MAX_BATCH_ENTRIES || bytes + entry.bytes > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** A batch entry id: the chunk id in SQS's alphabet, prefixed by the position so it is unique in the batch. */
function entryId(chunkId: string, index: number): string {
  return `${index}-${chunkId.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 80);
}

/** Parses and checks a chunk message body; a malformed (poison) message throws an Error saying what is wrong. */
export function parseChunkMessage(body: string): ChunkMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new Error(`chunk message is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new Error('chunk message must be a JSON object');
  const { jobId, chunkId, options, items } = value;
  if (typeof jobId !== 'string' || jobId === '')
    throw new Error('chunk message: jobId must be a non-empty string');
  const where = `chunk message (job ${jobId})`;
  if (typeof chunkId !== 'string' || chunkId === '')
    throw new Error(`${where}: chunkId must be a non-empty string`);
  if (!isObject(options)) throw new Error(`${where} chunk ${chunkId}: options must be an object`);
  if (!Array.isArray(items)) throw new Error(`${where} chunk ${chunkId}: items must be an array`);
  items.forEach((item: unknown, index) => {
    const problem = itemProblem(item);
    if (problem) throw new Error(`${where} chunk ${chunkId}: items[${index}] ${problem}`);
  });
  return value as unknown as ChunkMessage;
}

function itemProblem(item: unknown): string | null {
  if (!isObject(item)) return 'must be an object';
  if (typeof item.line !== 'number' || !Number.isFinite(item.line)) return 'line must be a number';
  if (typeof item.url !== 'string') return 'url must be a string';
  if (item.id !== undefined && typeof item.id !== 'string') return 'id must be a string when present';
  if (item.meta !== undefined && !isObject(item.meta)) return 'meta must be an object when present';
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
