import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lambda/adapters/aws/clients.js';
import { ensureResources } from '../../lambda/adapters/aws/provision.js';
import { decodeJsonl, decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import { readConfig } from '../../lambda/handlers/config.js';
import { makeDeadLetterHandler } from '../../lambda/handlers/dead-letters.js';
import { makeDispatcherHandler, uploadJobId } from '../../lambda/handlers/dispatcher.js';
import { awsServices, type Services } from '../../lambda/handlers/services.js';
import { makeWorkerHandler } from '../../lambda/handlers/worker.js';
import { SqsEventSource } from '../../lambda/local/sqs-event-source.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { type MotoServer, motoEnv, startMoto } from '../support/moto-server.js';

// The AWS pipeline on a real S3/SQS/DynamoDB wire protocol (moto's server): an uploaded
// list goes through the real dispatcher and worker handlers, driven by the local SQS
// event source, and comes out as results.jsonl.gz with every URL exactly once.

let moto: MotoServer;
let target: TargetServer;
let clients: AwsClients;
let services: Services;
let queueUrl: string;
let dlqUrl: string;
const BUCKET = 'fanout-it';

beforeAll(async () => {
  // Serialized: several workers count chunks of one job at once (see startMoto).
  moto = await startMoto({ serialized: true });
  target = await startTargetServer({
    '/ok': (_req, res) => res.end('fine'),
    '/gone': (_req, res) => res.writeHead(410).end(),
  });
  Object.assign(process.env, motoEnv(moto.endpoint));
  clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
  const queues = await ensureResources(clients, {
    bucket: BUCKET,
    queueName: 'fanout-chunks',
    dlqName: 'fanout-chunks-dlq',
    tableName: 'fanout-jobs',
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 5,
  });
  queueUrl = queues.queueUrl;
  dlqUrl = queues.dlqUrl;
  const config = readConfig({
    FANOUT_BUCKET: BUCKET,
    FANOUT_TABLE: 'fanout-jobs',
    FANOUT_QUEUE_URL: queueUrl,
    FANOUT_DEADLINE_MARGIN_MS: '1000',
    FANOUT_JOB_DEFAULTS: JSON.stringify({ allow: ['127.0.0.1/32'], chunkSize: 250, retries: 0 }),
  });
  services = awsServices(config, clients);
}, 120_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
});

function s3Event(key: string, eTag: string): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'inputs',
          bucket: { name: BUCKET, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 0, eTag, sequencer: '0' },
        },
      },
    ],
  };
}

async function upload(key: string, body: string): Promise<string> {
  const put = await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return put.ETag ?? '';
}

async function runWorkers(jobId: string, maxPolls = 400): Promise<void> {
  const worker = makeWorkerHandler(() => services);
  const source = new SqsEventSource({
    sqs: clients.sqs,
    queueUrl,
    handler: worker,
    batchSize: 1,
    concurrency: 3,
    waitTimeSeconds: 1,
  });
  const finished = await source.runUntil(async () => {
    const job = await services.jobs.get(jobId);
    return job !== null && ['succeeded', 'completed_with_errors', 'failed'].includes(job.status);
  }, maxPolls);
  expect(finished, `job ${jobId} did not finish within ${maxPolls} polls`).toBe(true);
}

async function readObject(key: string): Promise<Buffer> {
  const data = await services.store.get(key);
  if (!data) throw new Error(`${key} is missing`);
  return data;
}

describe('an uploaded list through dispatcher → SQS → workers → finalize', () => {
  it('5,000 URLs: results.jsonl.gz holds each accepted line exactly once and summary.json agrees', async () => {
    const lines: string[] = ['# uploaded by the integration test'];
    for (let i = 0; i < 5000; i += 1) lines.push(target.url(i % 50 === 0 ? `/gone?i=${i}` : `/ok?i=${i}`));
    lines.push('not a url', 'ftp://nope/');
    const key = 'inputs/five-thousand.txt';
    const eTag = await upload(key, `${lines.join('\n')}\n`);
    const dispatcher = makeDispatcherHandler(() => services);
    await dispatcher(s3Event(key, eTag));
    const jobId = uploadJobId(key, eTag);

    const manifest = JSON.parse((await readObject(jobKeys.manifest(jobId))).toString());
    expect(manifest).toMatchObject({ accepted: 5000, invalid: 2, chunks: 20 });

    await runWorkers(jobId);
    const records = decodeJsonlGz<ResultRecord>(await readObject(jobKeys.results(jobId)));
    expect(records).toHaveLength(5000);
    expect(new Set(records.map((r) => r.line)).size).toBe(5000);
    expect(records.map((r) => r.line)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 2));
    const summary = JSON.parse((await readObject(jobKeys.summary(jobId))).toString()) as JobSummary;
    const count = (status: number) => records.filter((r) => r.status === status).length;
    expect(summary.urls).toEqual({ accepted: 5000, invalid: 2, ok: 5000, failed: 0 });
    expect(summary.statusCodes).toEqual({ '200': count(200), '410': count(410) });
    expect(count(410)).toBe(100);
    expect(await services.store.exists(jobKeys.success(jobId))).toBe(true);
    expect((await services.jobs.get(jobId))?.status).toBe('completed_with_errors');
    const failed = decodeJsonl((await readObject(jobKeys.failed(jobId))).toString());
    expect(failed).toEqual([]);
  }, 180_000);

  it('the same upload event delivered twice (Lambda retry) is one job, each chunk enqueued once in effect', async () => {
    const key = 'inputs/twice.txt';
    const eTag = await upload(
      key,
      Array.from({ length: 600 }, (_, i) => target.url(`/ok?t=${i}`)).join('\n'),
    );
    const dispatcher = makeDispatcherHandler(() => services);
    await dispatcher(s3Event(key, eTag));
    await dispatcher(s3Event(key, eTag));
    const jobId = uploadJobId(key, eTag);
    await runWorkers(jobId);
    const records = decodeJsonlGz<ResultRecord>(await readObject(jobKeys.results(jobId)));
    expect(records.map((r) => r.line)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect((await services.jobs.get(jobId))?.chunksDone).toBe(3);
  }, 120_000);
});

describe('a poison message', () => {
  it('ends in the DLQ after maxReceiveCount deliveries, and its job ends failed with that chunk named', async () => {
    const jobId = 'poisoned-job';
    await services.jobs.create(jobId, new Date());
    await services.jobs.setTotal(jobId, { chunks: 1, accepted: 1, invalid: 0 });
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ jobId, chunkId: '00000000', items: 'not a list' }),
      }),
    );
    const worker = makeWorkerHandler(() => services);
    const chunks = new SqsEventSource({
      sqs: clients.sqs,
      queueUrl,
      handler: worker,
      waitTimeSeconds: 1,
      concurrency: 1,
    });
    const deadLetters = makeDeadLetterHandler(() => services);
    const dlq = new SqsEventSource({
      sqs: clients.sqs,
      queueUrl: dlqUrl,
      handler: async (event) => {
        await deadLetters(event);
        return { batchItemFailures: [] };
      },
      waitTimeSeconds: 1,
      concurrency: 1,
    });
    // Bounded: each round is one long poll of each queue; the visibility timeout is 5 s.
    for (let round = 0; round < 40; round += 1) {
      await chunks.pollOnce();
      await dlq.pollOnce();
      if ((await services.jobs.get(jobId))?.status === 'failed') break;
    }
    const job = await services.jobs.get(jobId);
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatch(/chunk 00000000 failed every delivery and went to the dead-letter queue/);
    expect(chunks.delivered).toBe(3);
  }, 120_000);
});
