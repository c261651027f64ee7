import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isFifoQueue } from '../adapters/aws/sqs-chunk-queue.js';

/** A Lambda handler for SQS events, as the worker exports it. */
export type SqsHandler = (
  event: SQSEvent,
  context: { getRemainingTimeInMillis(): number },
) => Promise<SQSBatchResponse | undefined>;

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /**
   * Builds the handler of each concurrent invocation slot, as Lambda runs each in an
   * instance of its own (its own module scope: SDK clients, connections, retry quota).
   * @default every slot calls `handler`
   */
  newInstance?: () => SqsHandler;
  /** Messages per invocation, as the event source mapping's BatchSize. @default 1 */
  batchSize?: number;
  /** Invocations running at once (the function's concurrency). @default 2 */
  concurrency?: number;
  /** The function timeout the handler sees through getRemainingTimeInMillis (ms). @default 60000 */
  functionTimeoutMs?: number;
  /** Long-poll wait per receive (s). @default 1 */
  waitTimeSeconds?: number;
  region?: string;
}

/** The ARN Lambda would put in eventSourceARN, derived from a queue URL. */
function queueArn(queueUrl: string, region: string): string {
  const [account = '000000000000', name = 'queue'] = new URL(queueUrl).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

/** An SQS record of the shape Lambda delivers. */
export function toSqsRecord(message: Message, arn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/**
 * Drives a real SQS handler against a real queue the way Lambda's event source mapping
 * does: long-polls, hands over batches of real SQS records, deletes what succeeded,
 * and leaves the reported failures (or the whole batch, when the handler throws) to
 * reappear after the visibility timeout, so the queue's own redrive policy applies.
 */
export class SqsEventSource {
  /** Messages per invocation at most (the event source mapping's BatchSize). */
  readonly batchSize: number;
  private readonly concurrency: number;
  private readonly functionTimeoutMs: number;
  private readonly waitTimeSeconds: number;
  private readonly region: string;
  private readonly arn: string;
  /** Invocations so far, and the messages they were given. */
  invocations = 0;
  delivered = 0;

  constructor(private readonly options: EventSourceOptions) {
    this.batchSize = options.batchSize ?? 1;
    this.concurrency = options.concurrency ?? 2;
    this.functionTimeoutMs = options.functionTimeoutMs ?? 60_000;
    this.waitTimeSeconds = options.waitTimeSeconds ?? 1;
    this.region = options.region ?? 'us-east-1';
    this.arn = queueArn(options.queueUrl, this.region);
  }

  /**
   * The receive before this one, on a FIFO queue. moto answers concurrent receives from a view
   * of the message groups in flight taken when each began, so two pollers receiving at once can
   * both get a message of one group, which SQS never allows; one receive at a time keeps the
   * groups' exclusivity the stack relies on (a receive returns as soon as it has a message).
   */
  private receiving: Promise<unknown> = Promise.resolve();

  /** Set by stop(): receives not yet made are skipped. */
  private stopped = false;

  /** Stops polling: receives waiting for their turn are not made (a close need not wait for each). */
  stop(): void {
    this.stopped = true;
  }

  private receive(): Promise<ReceiveMessageCommandOutput> {
    const { sqs, queueUrl } = this.options;
    const call = async (): Promise<ReceiveMessageCommandOutput> =>
      this.stopped
        ? { $metadata: {} }
        : sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: this.batchSize,
              WaitTimeSeconds: this.waitTimeSeconds,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          );
    if (!isFifoQueue(queueUrl)) return call();
    const turn = this.receiving.then(call, call);
    this.receiving = turn.catch(() => {});
    return turn;
  }

  /** One receive and one invocation; resolves to the number of messages handed over. */
  async pollOnce(handler: SqsHandler = this.options.handler): Promise<number> {
    const { sqs, queueUrl } = this.options;
    const received = await this.receive();
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    this.invocations += 1;
    this.delivered += messages.length;
    const records = messages.map((m) => toSqsRecord(m, this.arn, this.region));
    const deadline = Date.now() + this.functionTimeoutMs;
    let failed: Set<string>;
    try {
      const response = await handler(
        { Records: records },
        { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) },
      );
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    return messages.length;
  }

  /** Messages visible plus in flight, as SQS reports them (approximate). */
  async backlog(): Promise<number> {
    const { Attributes = {} } = await this.options.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  /**
   * Polls with `concurrency` parallel pollers until `isDone` says so, or `maxPolls`
   * receives have been made in all (a bound for tests). Resolves to whether isDone held.
   * A failed receive or delete ends the run, unless `onPollError` takes it (and the poller
   * goes on once it resolves), as Lambda's pollers go on after an error.
   */
  async runUntil(
    isDone: () => Promise<boolean>,
    maxPolls = 10_000,
    onPollError?: (err: unknown) => Promise<void>,
  ): Promise<boolean> {
    let polls = 0;
    let finished = false;
    const poller = async () => {
      const handler = this.options.newInstance?.() ?? this.options.handler;
      while (!finished && polls < maxPolls) {
        polls += 1;
        try {
          await this.pollOnce(handler);
        } catch (err) {
          if (!onPollError) throw err;
          await onPollError(err);
        }
        if (await isDone()) finished = true;
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, poller));
    return finished;
  }
}
