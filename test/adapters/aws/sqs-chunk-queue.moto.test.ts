import { CreateQueueCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseChunkMessage, SqsChunkQueue } from '../../../lambda/adapters/aws/sqs-chunk-queue.js';
import { DEFAULT_OPTIONS } from '../../../lambda/core/options.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';
import { uniqueName, useMoto } from './moto-fixture.js';

const clients = useMoto();

async function newQueue(): Promise<string> {
  const { QueueUrl } = await clients().sqs.send(new CreateQueueCommand({ QueueName: uniqueName('chunks') }));
  if (!QueueUrl) throw new Error('no queue URL');
  return QueueUrl;
}

async function receiveAll(queueUrl: string, expected: number): Promise<Message[]> {
  const received: Message[] = [];
  for (let polls = 0; received.length < expected && polls < 50; polls += 1) {
    const { Messages } = await clients().sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    received.push(...(Messages ?? []));
  }
  return received;
}

function chunk(index: number, urls: number, urlBytes = 30): ChunkMessage {
  return {
    jobId: 'job-sqs',
    chunkId: String(index).padStart(8, '0'),
    options: { ...DEFAULT_OPTIONS },
    items: Array.from({ length: urls }, (_, i) => ({
      line: index * urls + i + 1,
      url: `https://example.com/${index}/${i}/${'p'.repeat(urlBytes)}`,
      ...(i % 2 === 0 ? { id: `id-${i}`, meta: { row: i } } : {}),
    })),
  };
}

describe('SqsChunkQueue against moto', () => {
  let queueUrl: string;
  beforeAll(async () => {
    queueUrl = await newQueue();
  });

  it('sends 25 chunks that come back whole, with jobId and chunkId attributes', async () => {
    const sent = Array.from({ length: 25 }, (_, i) => chunk(i, 5));
    await new SqsChunkQueue({ client: clients().sqs, queueUrl }).send(sent);
    const received = await receiveAll(queueUrl, 25);
    expect(received).toHaveLength(25);
    const parsed = received.map((m) => parseChunkMessage(m.Body ?? ''));
    parsed.sort((a, b) => a.chunkId.localeCompare(b.chunkId));
    expect(parsed).toEqual(sent);
    for (const message of received) {
      const body = parseChunkMessage(message.Body ?? '');
      expect(message.MessageAttributes?.jobId?.StringValue).toBe('job-sqs');
      expect(message.MessageAttributes?.chunkId?.StringValue).toBe(body.chunkId);
    }
  });

  it('sends chunks near the 200 KiB chunk limit, split across batches', async () => {
    const bigQueue = await newQueue();
    const sent = Array.from({ length: 6 }, (_, i) => chunk(i, 200, 1000));
    await new SqsChunkQueue({ client: clients().sqs, queueUrl: bigQueue }).send(sent);
    const parsed = (await receiveAll(bigQueue, 6)).map((m) => parseChunkMessage(m.Body ?? ''));
    expect(parsed.map((m) => m.chunkId).sort()).toEqual(sent.map((m) => m.chunkId));
  });

  it('carries characters SQS refuses raw (U+FFFF) through JSON escapes', async () => {
    const oddQueue = await newQueue();
    const message: ChunkMessage = {
      jobId: 'job-odd',
      chunkId: '00000000',
      options: { ...DEFAULT_OPTIONS },
      items: [{ line: 1, url: 'https://example.com/\uFFFF/é/😀' }],
    };
    await new SqsChunkQueue({ client: clients().sqs, queueUrl: oddQueue }).send([message]);
    const [received] = await receiveAll(oddQueue, 1);
    expect(parseChunkMessage(received?.Body ?? '')).toEqual(message);
  });
});
