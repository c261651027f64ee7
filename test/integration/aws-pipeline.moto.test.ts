import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lambda/adapters/aws/clients.js';
import { decodeJsonl, decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys, uploadJobId } from '../../lambda/core/job/keys.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import type { Services } from '../../lambda/handlers/services.js';
import { LocalDeployment } from '../../lambda/local/local-deployment.js';
import { makeApiEvent } from '../helpers/api-events.js';
import { makeS3Event } from '../helpers/factories.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { EMULATORS, emulatorEnv, type RunningEmulators } from '../support/emulators.js';
import { submitUrls } from './deployment-fixture.js';

// The AWS pipeline on a real S3/SQS/DynamoDB wire protocol, once all on moto's server, once with
// S3 and SQS on LocalStack (test/support/emulators.ts): jobs submitted to the real API handler
// or uploaded under inputs/ go through the real dispatcher, worker, dead-letter and finalize
// code, driven the way Lambda drives them (LocalDeployment: async dispatcher invocations, SQS
// event sources with partial batch responses and redrive).

describe.each(EMULATORS)('on $name', (emulator) => {
  let emulators: RunningEmulators;
  let target: TargetServer;
  let clients: AwsClients;
  let deployment: LocalDeployment;
  let services: Services;
  const BUCKET = 'fanout-it';
  const lambdaContext = { getRemainingTimeInMillis: () => 900_000 };

  beforeAll(async () => {
    // Serialized: several workers count chunks of one job at once (see startMoto).
    emulators = await emulator.start({ serialized: true });
    target = await startTargetServer({
      '/ok': (_req, res) => res.end('fine'),
      '/gone': (_req, res) => res.writeHead(410).end(),
      '/slow': (_req, res) => {
        const timer = setTimeout(() => res.end('late'), 150);
        res.on('close', () => clearTimeout(timer));
      },
    });
    Object.assign(process.env, emulatorEnv(emulators.endpoints));
    clients = emulators.clients();
    deployment = await LocalDeployment.start({
      clients,
      names: { bucket: BUCKET, maxReceiveCount: 3, visibilityTimeoutSeconds: 5 },
      workers: 3,
      env: {
        FANOUT_DEADLINE_MARGIN_MS: '1000',
        FANOUT_CANCEL_POLL_MS: '200',
        // Uploaded lists get the defaults, so they may reach the 127.0.0.1 targets too.
        FANOUT_JOB_DEFAULTS: JSON.stringify({ chunkSize: 250, retries: 0, allow: ['127.0.0.1/32'] }),
        // The targets are on 127.0.0.1: this deployment lets callers allow loopback.
        FANOUT_JOB_MAXIMA: JSON.stringify({ allowPrivate: true, concurrency: 256 }),
      },
    });
    services = deployment.services;
  }, 120_000);

  afterAll(async () => {
    await target?.close();
    await emulators?.stop();
  });

  const LOOPBACK = { allow: ['127.0.0.1/32'] };

  /** One API Gateway proxy request to the real API handler; the parsed JSON body back. */
  async function api(method: string, path: string, body?: unknown) {
    const json = body === undefined ? null : JSON.stringify(body);
    const res = await deployment.api(makeApiEvent(method, path, { body: json, shape: 'proxy' }));
    return {
      status: res.statusCode, // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
      body: JSON.parse(res.body) as Record<string, any>,
    };
  }

  async function upload(key: string, body: string): Promise<string> {
    const put = await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return put.ETag ?? '';
  }

  async function runWorkers(jobId: string, maxPolls = 400): Promise<void> {
    const state = await deployment.runUntilFinished(jobId, { maxPolls });
    expect(state?.status, `job ${jobId} did not finish within ${maxPolls} polls`).toMatch(
      /^(succeeded|completed_with_errors|failed|cancelled)$/,
    );
    // Duplicates of finished chunks may still be queued: deliver them too (they change nothing).
    for (let poll = 0; poll < 30 && (await deployment.chunks.backlog()) > 0; poll += 1) {
      await deployment.chunks.pollOnce();
    }
  }

  async function readObject(key: string): Promise<Buffer> {
    const data = await services.store.get(key);
    if (!data) throw new Error(`${key} is missing`);
    return data;
  }

  describe('a job submitted to the API → dispatcher → SQS → workers → finalize', () => {
    it('5,000 inline URLs: results.jsonl.gz holds each exactly once, summary.json agrees, GET shows it all', async () => {
      const urls = Array.from({ length: 5000 }, (_, i) =>
        target.url(i % 50 === 0 ? `/gone?i=${i}` : `/ok?i=${i}`),
      );
      const submitted = await api('POST', '/jobs', { urls: [...urls, 'not a url'], options: LOOPBACK });
      expect(submitted.status).toBe(202);
      const jobId = submitted.body.jobId as string;
      const running = await api('GET', `/jobs/${jobId}`);
      expect(running.status).toBe(200);
      expect(running.body.results.results).toEqual({ s3: `s3://${BUCKET}/jobs/${jobId}/results.jsonl.gz` });

      await runWorkers(jobId);
      const records = decodeJsonlGz<ResultRecord>(await readObject(jobKeys.results(jobId)));
      expect(records.map((r) => r.line)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      expect(records.map((r) => r.url)).toEqual(urls);
      const summary = JSON.parse((await readObject(jobKeys.summary(jobId))).toString()) as JobSummary;
      const count = (status: number) => records.filter((r) => r.status === status).length;
      expect(summary.urls).toEqual({
        accepted: 5000,
        invalid: 1,
        duplicates: 0,
        ok: 5000,
        failed: 0,
        cancelled: 0,
      });
      expect(summary.statusCodes).toEqual({ '200': count(200), '410': count(410) });
      expect(count(410)).toBe(100);

      const done = await api('GET', `/jobs/${jobId}`);
      expect(done.body).toMatchObject({
        status: 'completed_with_errors',
        progress: {
          chunksDone: 20,
          totalChunks: 20,
          accepted: 5000,
          invalid: 1,
          urlsDone: 5000,
          urlsFailed: 0,
        },
      });
      // The presigned URL reads the very object (the emulators check the signature's shape, not a real key).
      const viaLink = await fetch(done.body.results.summary.url as string);
      expect(viaLink.status).toBe(200);
      expect(JSON.parse(await viaLink.text())).toEqual(summary);
    }, 180_000);

    it('cancel: DELETE /jobs/{id} stops the fetching; every URL still has one record, the rest CANCELLED', async () => {
      const urls = Array.from({ length: 1500 }, (_, i) => target.url(`/slow?c=${i}`));
      const submitted = await api('POST', '/jobs', {
        urls,
        options: { ...LOOPBACK, concurrency: 20, chunkSize: 100 },
      });
      const jobId = submitted.body.jobId as string;
      let cancelled = false;
      const state = await deployment.runUntilFinished(jobId, {
        maxPolls: 400,
        onState: (job) => {
          if (!cancelled && job.urlsDone >= 100) {
            cancelled = true;
            void api('DELETE', `/jobs/${jobId}`).then((res) => expect(res.status).toBe(202));
          }
        },
      });
      expect(state?.status).toBe('cancelled');
      const records = decodeJsonlGz<ResultRecord>(await readObject(jobKeys.results(jobId)));
      expect(records.map((r) => r.line)).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
      const byCode = (code: string | undefined) => records.filter((r) => r.error?.code === code).length;
      expect(byCode(undefined)).toBeGreaterThanOrEqual(100);
      expect(byCode('CANCELLED')).toBeGreaterThan(0);
      expect(byCode(undefined) + byCode('CANCELLED')).toBe(1500);
      // Far fewer requests than URLs reached the server: the cancel stopped the fetching.
      expect(target.requests.filter((r) => r.path === '/slow').length).toBeLessThan(1500);
      expect((await api('DELETE', `/jobs/${jobId}`)).status).toBe(409);
    }, 180_000);

    it('API validation errors are 4xx naming the problem, and start nothing', async () => {
      const before = deployment.dispatches.length;
      const cases: Array<[unknown, number, RegExp]> = [
        [{}, 400, /exactly one of "urls".*"source"/],
        [{ urls: [] }, 400, /urls: must be a non-empty list/],
        [
          { urls: ['https://e.com/'], options: { concurrency: 5000 } },
          400,
          /options\.concurrency: .*1 to 256/,
        ],
        [{ source: 'http://not-s3/x' }, 400, /source: must be an s3:\/\/bucket\/key URL/],
        [{ urls: ['https://e.com/'], jobId: '../etc' }, 400, /jobId/],
      ];
      for (const [body, status, message] of cases) {
        const res = await api('POST', '/jobs', body);
        expect(res.status).toBe(status);
        expect(res.body.error.message).toMatch(message);
      }
      expect((await api('GET', '/jobs/no-such-job')).status).toBe(404);
      expect(deployment.dispatches.length).toBe(before);
    }, 60_000);
  });

  describe('an uploaded list through dispatcher → SQS → workers → finalize', () => {
    it('1,000 uploaded URLs: each accepted line exactly once, invalid lines reported', async () => {
      const lines: string[] = ['# uploaded by the integration test'];
      for (let i = 0; i < 1000; i += 1) lines.push(target.url(`/ok?u=${i}`));
      lines.push('not a url', 'ftp://nope/');
      const key = 'inputs/one-thousand.txt';
      const eTag = await upload(key, `${lines.join('\n')}\n`);
      await deployment.dispatcher(makeS3Event(BUCKET, key, eTag), lambdaContext);
      const jobId = uploadJobId(key, eTag);
      const manifest = JSON.parse((await readObject(jobKeys.manifest(jobId))).toString());
      expect(manifest).toMatchObject({ accepted: 1000, invalid: 2, chunks: 4 });

      await runWorkers(jobId);
      const records = decodeJsonlGz<ResultRecord>(await readObject(jobKeys.results(jobId)));
      expect(records.map((r) => r.line)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 2));
      expect(records.every((r) => r.status === 200)).toBe(true);
      const invalid = decodeJsonlGz<{ line: number; code: string }>(await readObject(jobKeys.invalid(jobId)));
      expect(invalid.map((r) => [r.line, r.code])).toEqual([
        [1002, 'INVALID_URL'],
        [1003, 'UNSUPPORTED_SCHEME'],
      ]);
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
      await deployment.dispatcher(makeS3Event(BUCKET, key, eTag), lambdaContext);
      await deployment.dispatcher(makeS3Event(BUCKET, key, eTag), lambdaContext);
      const jobId = uploadJobId(key, eTag);
      await runWorkers(jobId);
      const records = decodeJsonlGz<ResultRecord>(await readObject(jobKeys.results(jobId)));
      expect(records.map((r) => r.line)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect((await services.jobs.get(jobId))?.chunksDone).toBe(3);
    }, 120_000);
  });

  describe('the chunk queue', () => {
    it('is a high-throughput FIFO queue, as the stack declares: deduplication and throughput per message group', async () => {
      const { Attributes } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: services.config.queueUrl, AttributeNames: ['All'] }),
      );
      expect(Attributes).toMatchObject({
        FifoQueue: 'true',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      });
    });
  });

  describe('a poison message', () => {
    it('ends in the DLQ after maxReceiveCount deliveries, and its job ends failed with that chunk named', async () => {
      const jobId = 'poisoned-job';
      await services.jobs.create(jobId, new Date());
      await services.jobs.setTotal(jobId, { chunks: 1, accepted: 1, invalid: 0 });
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: services.config.queueUrl,
          MessageBody: JSON.stringify({ jobId, chunkId: '00000000', items: 'not a list' }),
          MessageGroupId: `${jobId}/0`,
          MessageDeduplicationId: 'poison-1',
        }),
      );
      const delivered = deployment.chunks.delivered;
      await runWorkers(jobId, 60);
      const job = await services.jobs.get(jobId);
      expect(job?.status).toBe('failed');
      expect(job?.error).toMatch(/chunk 00000000 failed every delivery and went to the dead-letter queue/);
      expect(deployment.chunks.delivered - delivered).toBe(3);
    }, 120_000);
  });

  describe('a dispatch too long for one invocation', () => {
    it('continues from checkpoints in further runs, with the same chunks and nothing lost', async () => {
      const continuing = await LocalDeployment.start({
        clients,
        names: {
          bucket: 'fanout-it-long',
          queueName: 'long-chunks',
          dlqName: 'long-dlq',
          tableName: 'long-jobs',
        },
        workers: 2,
        // Every run has 1 ms before the margin: it hands over after (about) every chunk.
        dispatcherTimeoutMs: 900_000,
        env: {
          FANOUT_DISPATCH_MARGIN_MS: '899999',
          FANOUT_JOB_MAXIMA: JSON.stringify({ allowPrivate: true }),
        },
      });
      const urls = Array.from({ length: 1000 }, (_, i) =>
        i % 97 === 5 ? 'bad url' : target.url(`/ok?l=${i}`),
      );
      const jobId = await submitUrls(continuing, urls, { ...LOOPBACK, chunkSize: 100 });
      const state = await continuing.runUntilFinished(jobId, { maxPolls: 400 });
      expect(state?.status).toBe('completed_with_errors');
      expect(continuing.dispatches.filter((d) => 'resume' in d && d.resume).length).toBeGreaterThanOrEqual(3);
      const store = continuing.services.store;
      const results = decodeJsonlGz<ResultRecord>(
        (await store.get(jobKeys.results(jobId))) ?? Buffer.alloc(0),
      );
      const good = urls.flatMap((url, i) => (url === 'bad url' ? [] : [i + 1]));
      expect(results.map((r) => r.line)).toEqual(good);
      const invalid = decodeJsonlGz<{ line: number }>(
        (await store.get(jobKeys.invalid(jobId))) ?? Buffer.alloc(0),
      );
      expect(invalid.map((r) => r.line)).toEqual(
        urls.flatMap((url, i) => (url === 'bad url' ? [i + 1] : [])),
      );
    }, 180_000);

    it('an uploaded plain list: each further run reads on from its offset (a ranged GET)', async () => {
      const bucket = 'fanout-it-long-plain';
      const continuing = await LocalDeployment.start({
        clients,
        names: { bucket, queueName: 'plain-chunks', dlqName: 'plain-dlq', tableName: 'plain-jobs' },
        workers: 2,
        dispatcherTimeoutMs: 900_000,
        env: {
          FANOUT_DISPATCH_MARGIN_MS: '899999',
          FANOUT_JOB_DEFAULTS: JSON.stringify({ ...LOOPBACK, chunkSize: 100, retries: 0 }),
        },
      });
      const urls = Array.from({ length: 600 }, (_, i) =>
        i % 97 === 5 ? 'bad url' : target.url(`/ok?p=${i}`),
      );
      const key = 'inputs/plain.txt';
      const put = await clients.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${urls.join('\r\n')}\r\n` }),
      );
      await continuing.dispatcher(makeS3Event(bucket, key, put.ETag ?? ''), {
        getRemainingTimeInMillis: () => 0,
      });
      const jobId = uploadJobId(key, put.ETag ?? '');
      const state = await continuing.runUntilFinished(jobId, { maxPolls: 400 });
      expect(state?.status).toBe('completed_with_errors');
      const resumes = continuing.dispatches.flatMap((d) => ('resume' in d && d.resume ? [d.resume] : []));
      expect(resumes.length).toBeGreaterThanOrEqual(3);
      for (const resume of resumes)
        expect(resume).toMatchObject({ offset: expect.any(Number), etag: put.ETag });
      const store = continuing.services.store;
      const results = decodeJsonlGz<ResultRecord>(
        (await store.get(jobKeys.results(jobId))) ?? Buffer.alloc(0),
      );
      expect(results.map((r) => r.line)).toEqual(
        urls.flatMap((url, i) => (url === 'bad url' ? [] : [i + 1])),
      );
    }, 180_000);
  });
});
