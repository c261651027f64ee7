import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambda/adapters/aws/clients.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { FaultProxy, type FaultRule } from '../support/fault-proxy.js';
import { type MotoServer, motoEnv, startMoto } from '../support/moto-server.js';
import { scoreResults } from '../support/queue-checker.js';
import { isolatedDeployment, submitUrls } from './deployment-fixture.js';

// Broken infrastructure, scored like a queue checker (expected lines vs the records in
// results.jsonl.gz: lost, duplicated and unexpected must all be 0) on the moto-backed
// pipeline: S3 500/503 and 409 on puts, SendMessageBatch entries failing and DynamoDB 500s
// injected by a fault proxy in front of moto; a dispatcher crashing half-way and run again;
// workers past their deadline mid-chunk.

let moto: MotoServer;
let target: TargetServer;

beforeAll(async () => {
  moto = await startMoto({ serialized: true });
  target = await startTargetServer({
    '/ok': (_req, res) => res.end('fine'),
    '/slow': (_req, res) => {
      const timer = setTimeout(() => res.end('late'), 250);
      res.on('close', () => clearTimeout(timer));
    },
  });
  Object.assign(process.env, motoEnv(moto.endpoint));
}, 120_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
});

// Many deliveries per chunk (every fault forces some): the DLQ must not end these jobs.
const DEPLOYMENT = { workers: 3, maxReceiveCount: 30 };
const clients = () => createAwsClients({ endpoint: moto.endpoint });

const CLEAN = { lost: 0, duplicated: 0, unexpected: 0 };
const urlsOf = (tag: string, n: number, path = '/ok') =>
  Array.from({ length: n }, (_, i) => target.url(`${path}?${tag}=${i}`));

const s3Put = (pathPart: string) => (r: { method: string; path: string }) =>
  r.method === 'PUT' && r.path.includes(pathPart) && !r.path.includes('uploadId=');
const s3Error = (status: number, code: string) => ({
  kind: 'respond' as const,
  status,
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`,
});

describe('the pipeline behind a faulty endpoint', () => {
  it('S3 503/500/409 on puts, failed SendMessageBatch entries and DynamoDB 500s lose and duplicate nothing', async () => {
    const rules: FaultRule[] = [
      { name: 's3 503 on parts', matches: s3Put('/parts/'), every: 3, fault: s3Error(503, 'SlowDown') },
      {
        name: 's3 409 on conditional puts',
        matches: (r) => s3Put('/parts/')(r) && r.headers['if-none-match'] === '*',
        every: 4,
        fault: s3Error(409, 'ConditionalRequestConflict'),
      },
      {
        name: 's3 500 on finalize',
        matches: s3Put('/summary.json'),
        times: 2,
        fault: s3Error(500, 'InternalError'),
      },
      {
        name: 'SendMessageBatch entry failed',
        matches: (r) => r.target === 'AmazonSQS.SendMessageBatch',
        every: 2,
        // The first entry is not sent at all, and the answer reports it failed.
        fault: {
          kind: 'rewrite',
          request: (body) => {
            const batch = JSON.parse(body.toString()) as { Entries: Array<{ Id: string }> };
            dropped.push(...batch.Entries.slice(0, 1).map((e) => e.Id));
            return Buffer.from(JSON.stringify({ ...batch, Entries: batch.Entries.slice(1) }));
          },
          response: (body) => {
            const answer = JSON.parse(body.toString()) as { Successful?: unknown[]; Failed?: unknown[] };
            const id = dropped.shift();
            const failed = [...(answer.Failed ?? []), { Id: id, Code: 'InternalError', SenderFault: false }];
            return Buffer.from(JSON.stringify({ ...answer, Failed: failed }));
          },
        },
      },
      {
        name: 'DynamoDB 500',
        matches: (r) => r.target === 'DynamoDB_20120810.TransactWriteItems',
        every: 5,
        fault: {
          kind: 'respond',
          status: 500,
          contentType: 'application/x-amz-json-1.0',
          body: JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: 'injected',
          }),
        },
      },
    ];
    const dropped: string[] = [];
    const proxy = await new FaultProxy(moto.endpoint, rules).start();
    try {
      const { deployment } = await isolatedDeployment(
        createAwsClients({ endpoint: proxy.endpoint }),
        DEPLOYMENT,
      );
      const jobId = await submitUrls(deployment, urlsOf('faulty', 2000), { chunkSize: 50 });
      const state = await deployment.runUntilFinished(jobId, { maxPolls: 600 });
      expect(state?.status).toBe('succeeded');
      expect(await scoreResults(deployment.services.store, jobId, 2000)).toMatchObject(CLEAN);
      expect(state).toMatchObject({ chunksDone: 40, totalChunks: 40, urlsDone: 2000, urlsFailed: 0 });
      for (const rule of rules) expect(proxy.injected.get(rule.name), rule.name).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  }, 240_000);
});

describe('a dispatcher that crashes half-way', () => {
  it('is run again (Lambda retries the invocation) and the job comes out whole', async () => {
    const { deployment } = await isolatedDeployment(clients(), DEPLOYMENT);
    const { queue } = deployment.services;
    const send = queue.send.bind(queue);
    let sends = 0;
    queue.send = async (messages: readonly ChunkMessage[]) => {
      sends += 1;
      if (sends === 3) throw new Error('injected dispatcher crash');
      await send(messages);
    };
    const jobId = await submitUrls(deployment, urlsOf('crashdispatch', 1000), { chunkSize: 20 });
    const state = await deployment.runUntilFinished(jobId, { maxPolls: 600 });
    expect(sends).toBeGreaterThan(5);
    expect(state?.status).toBe('succeeded');
    expect(await scoreResults(deployment.services.store, jobId, 1000)).toMatchObject(CLEAN);
    expect(state).toMatchObject({ chunksDone: 50, totalChunks: 50, urlsDone: 1000 });
  }, 180_000);
});

describe('workers past their deadline mid-chunk', () => {
  it('save what they fetched; the redelivery fetches only the rest', async () => {
    // A 2 s function with a 0.5 s margin: a chunk of 60 URLs at 250 ms, 10 at a time, needs ~1.5 s.
    const { deployment } = await isolatedDeployment(clients(), {
      ...DEPLOYMENT,
      workerTimeoutMs: 1200,
      env: { FANOUT_DEADLINE_MARGIN_MS: '400' },
    });
    const before = target.requests.filter((r) => r.path === '/slow').length;
    const jobId = await submitUrls(deployment, urlsOf('deadline', 240, '/slow'), {
      chunkSize: 60,
      concurrency: 10,
    });
    const state = await deployment.runUntilFinished(jobId, { maxPolls: 600 });
    expect(state?.status).toBe('succeeded');
    expect(await scoreResults(deployment.services.store, jobId, 240)).toMatchObject(CLEAN);
    const checkpoints = await Promise.all(
      ['00000000', '00000001', '00000002', '00000003'].map((c) =>
        deployment.services.store.exists(jobKeys.checkpoint(jobId, c)),
      ),
    );
    expect(checkpoints.some(Boolean)).toBe(true);
    // Each delivery past the first of a chunk follows one cut. A cut refetches only the URLs
    // that were in flight (at most the concurrency, 10), never the finished ones.
    const cuts = deployment.chunks.delivered - 4;
    expect(cuts).toBeGreaterThanOrEqual(1);
    const fetched = target.requests.filter((r) => r.path === '/slow').length - before;
    expect(fetched).toBeGreaterThanOrEqual(240);
    expect(fetched).toBeLessThanOrEqual(240 + cuts * 10);
  }, 180_000);
});
