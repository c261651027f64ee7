import {
  type BatchResultErrorEntry,
  QueueDoesNotExist,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageBatchResult,
  type SendMessageBatchResultEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseChunkMessage, SqsChunkQueue } from '../../../lambda/adapters/aws/sqs-chunk-queue.js';
import { DEFAULT_OPTIONS } from '../../../lambda/core/options.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';

const sqs = mockClient(SQSClient);
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/chunks';
const queue = (maxAttempts?: number) =>
  new SqsChunkQueue({
    client: new SQSClient({ region: 'us-east-1' }),
    queueUrl,
    maxAttempts,
    backoffBaseMs: 1,
  });

beforeEach(() => sqs.reset());

function chunk(index: number, padBytes = 0, chunkId = String(index).padStart(8, '0')): ChunkMessage {
  return {
    jobId: 'job-1',
    chunkId,
    options: { ...DEFAULT_OPTIONS },
    items: [{ line: index + 1, url: `https://example.com/${index}?p=${'x'.repeat(padBytes)}` }],
  };
}

const entriesOf = (call: number): SendMessageBatchRequestEntry[] =>
  sqs.commandCalls(SendMessageBatchCommand)[call]?.args[0].input.Entries ?? [];
const chunkIdsOf = (call: number) =>
  entriesOf(call).map((e) => parseChunkMessage(e.MessageBody ?? '').chunkId);

/** Answers every entry as sent, except the failures the test names for the given chunk ids. */
function answer(failures: (chunkId: string) => { Code: string; SenderFault: boolean } | undefined) {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
    const Successful: SendMessageBatchResultEntry[] = [];
    const Failed: BatchResultErrorEntry[] = [];
    for (const entry of input.Entries) {
      const failure = failures(parseChunkMessage(entry.MessageBody ?? '').chunkId);
      if (failure) Failed.push({ Id: entry.Id, Message: 'no', ...failure });
      else Successful.push({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' });
    }
    return { Successful, Failed } satisfies SendMessageBatchResult;
  });
}

const entryBytes = (e: SendMessageBatchRequestEntry) =>
  Buffer.byteLength(e.MessageBody ?? '') +
  Object.entries(e.MessageAttributes ?? {}).reduce(
    (sum, [name, v]) => sum + Buffer.byteLength(name + (v.DataType ?? '') + (v.StringValue ?? '')),
    0,
  );

describe('SqsChunkQueue.send batching', () => {
  it('sends at most 10 entries per SendMessageBatch, in order, with jobId and chunkId attributes', async () => {
    answer(() => undefined);
    const messages = Array.from({ length: 25 }, (_, i) => chunk(i));
    await queue().send(messages);
    expect(sqs.commandCalls(SendMessageBatchCommand).map((_, i) => entriesOf(i).length)).toEqual([10, 10, 5]);
    expect([0, 1, 2].flatMap(chunkIdsOf)).toEqual(messages.map((m) => m.chunkId));
    const first = entriesOf(0)[0];
    expect(first?.MessageAttributes).toEqual({
      jobId: { DataType: 'String', StringValue: 'job-1' },
      chunkId: { DataType: 'String', StringValue: '00000000' },
    });
    expect(JSON.parse(first?.MessageBody ?? '')).toEqual(messages[0]);
  });

  it('keeps each batch under 256 KiB: 10 messages of 100 KB go two by two', async () => {
    answer(() => undefined);
    await queue().send(Array.from({ length: 10 }, (_, i) => chunk(i, 100_000)));
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(5);
    for (let i = 0; i < calls.length; i += 1) {
      expect(entriesOf(i).reduce((sum, e) => sum + entryBytes(e), 0)).toBeLessThanOrEqual(262_144);
    }
  });

  it('gives each entry an id from its chunk id that SQS accepts and that is unique in the batch', async () => {
    answer(() => undefined);
    const odd = ['a.b/c', 'a.b/c', 'x'.repeat(200), `${'x'.repeat(200)}y`, '00000004'];
    await queue().send(odd.map((id, i) => chunk(i, 0, id)));
    const ids = entriesOf(0).map((e) => e.Id ?? '');
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[4]).toContain('00000004');
  });
});

describe('SqsChunkQueue.send failures', () => {
  it('retries only the entries that failed, until they succeed', async () => {
    let failuresLeft = 2;
    answer((chunkId) =>
      chunkId === '00000003' && failuresLeft-- > 0
        ? { Code: 'InternalError', SenderFault: false }
        : undefined,
    );
    await queue().send(Array.from({ length: 5 }, (_, i) => chunk(i)));
    expect(sqs.commandCalls(SendMessageBatchCommand).map((_, i) => chunkIdsOf(i))).toEqual([
      ['00000000', '00000001', '00000002', '00000003', '00000004'],
      ['00000003'],
      ['00000003'],
    ]);
  });

  it.each([
    ['ThrottlingException', false],
    ['RequestThrottled', false],
    ['ThrottlingException', true],
  ])('retries throttling entries (%s, SenderFault %s)', async (Code, SenderFault) => {
    let failuresLeft = 3;
    answer((chunkId) => (chunkId === '00000001' && failuresLeft-- > 0 ? { Code, SenderFault } : undefined));
    await queue().send([chunk(0), chunk(1)]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
  });

  it('fails at once, naming the chunk, for a sender fault that cannot succeed', async () => {
    answer((chunkId) =>
      chunkId === '00000002' ? { Code: 'InvalidParameterValue', SenderFault: true } : undefined,
    );
    await expect(queue().send([chunk(0), chunk(1), chunk(2)])).rejects.toThrow(
      /could not send chunks 00000002 .*InvalidParameterValue/,
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('gives up after maxAttempts on an entry that keeps failing, and still sends the other batches', async () => {
    answer((chunkId) => (chunkId === '00000001' ? { Code: 'InternalError', SenderFault: false } : undefined));
    const error = await queue(3)
      .send(Array.from({ length: 12 }, (_, i) => chunk(i)))
      .catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /could not send chunks 00000001 .*InternalError .*after 3 attempts/,
    );
    expect(sqs.commandCalls(SendMessageBatchCommand).map((_, i) => chunkIdsOf(i).length)).toEqual([
      10, 1, 1, 2,
    ]);
  });

  it('retries an entry missing from both Successful and Failed', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
        Failed: [],
      }));
    await queue().send([chunk(0)]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('a failed request names every chunk of the batch', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new QueueDoesNotExist({ $metadata: {}, message: 'gone' }));
    await expect(queue().send([chunk(0), chunk(1)])).rejects.toThrow(
      /could not send chunks 00000000, 00000001 .*QueueDoesNotExist/,
    );
  });
});

describe('parseChunkMessage', () => {
  const good = chunk(0);
  const withItems = (items: unknown) => JSON.stringify({ ...good, items });

  it('accepts a well-formed message, optional id and meta included', () => {
    const message = { ...good, items: [{ line: 1, url: 'https://a/', id: 'x', meta: { k: 1 } }] };
    expect(parseChunkMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['not JSON', '{"jobId":', /not JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['no jobId', JSON.stringify({ ...good, jobId: undefined }), /jobId must be a non-empty string/],
    ['a numeric jobId', JSON.stringify({ ...good, jobId: 7 }), /jobId must be a non-empty string/],
    ['no chunkId', JSON.stringify({ ...good, chunkId: undefined }), /job job-1.*chunkId must be/],
    [
      'options missing',
      JSON.stringify({ ...good, options: undefined }),
      /chunk 00000000: options must be an object/,
    ],
    ['options an array', JSON.stringify({ ...good, options: [] }), /options must be an object/],
    ['items missing', JSON.stringify({ ...good, items: undefined }), /items must be an array/],
    ['an item not an object', withItems(['https://a/']), /items\[0\] must be an object/],
    ['an item without line', withItems([{ url: 'https://a/' }]), /items\[0\] line must be a number/],
    ['a string line', withItems([{ line: '1', url: 'https://a/' }]), /line must be a number/],
    ['an item without url', withItems([{ line: 1 }, { line: 2 }]), /items\[0\] url must be a string/],
    [
      'a numeric id',
      withItems([
        { line: 1, url: 'u' },
        { line: 2, url: 'u', id: 5 },
      ]),
      /items\[1\] id must be a string/,
    ],
    ['meta not an object', withItems([{ line: 1, url: 'u', meta: 'm' }]), /meta must be an object/],
  ])('rejects %s', (_case, body, message) => {
    expect(() => parseChunkMessage(body)).toThrow(message);
  });
});
