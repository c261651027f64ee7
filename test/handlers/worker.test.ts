import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_DEFAULTS } from '../../lambda/core/contract.js';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { makeDispatcherHandler } from '../../lambda/handlers/dispatcher.js';
import { makeWorkerHandler } from '../../lambda/handlers/worker.js';
import { makeSqsRecord } from '../helpers/factories.js';
import { memoryServices } from '../helpers/memory-services.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

let server: TargetServer;
beforeAll(async () => {
  server = await startTargetServer({
    '/ok': (_req, res) => res.end('ok'),
    '/slow': (_req, res) => {
      const timer = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(timer));
    },
  });
});
afterAll(() => server.close());

const options = resolveOptions({ allow: ['127.0.0.1/32'], retries: 0 });

const services = () => memoryServices({ FANOUT_DEADLINE_MARGIN_MS: '200' });

async function prepare(s: ReturnType<typeof services>, chunks: string[][]): Promise<ChunkMessage[]> {
  await s.store.put(
    jobKeys.request('j'),
    JSON.stringify({
      jobId: 'j',
      source: 'x',
      format: 'auto',
      options,
      submittedAt: new Date().toISOString(),
    }),
  );
  await s.jobs.create('j', new Date());
  const messages = chunks.map((paths, index) => ({
    jobId: 'j',
    chunkId: String(index).padStart(8, '0'),
    options,
    items: paths.map((path, i) => ({ line: index * 100 + i + 1, url: server.url(path) })),
  }));
  const accepted = chunks.flat().length;
  await s.store.put(
    jobKeys.manifest('j'),
    JSON.stringify({
      jobId: 'j',
      lines: accepted,
      accepted,
      invalid: 0,
      chunks: chunks.length,
      chunkSize: 100,
      dispatchedAt: '',
    }),
  );
  await s.jobs.setTotal('j', { chunks: chunks.length, accepted, invalid: 0 });
  return messages;
}

const context = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('worker handler', () => {
  it('processes a batch; the worker that counts the last chunk starts the fan-in, it does not run finalize', async () => {
    const s = services();
    const messages = await prepare(s, [['/ok', '/ok'], ['/ok']]);
    const handler = makeWorkerHandler(() => s);
    const response = await handler(
      { Records: messages.map((m) => makeSqsRecord(JSON.stringify(m))) },
      context(60_000),
    );
    expect(response.batchItemFailures).toEqual([]);
    // Claimed, handed to a fan-in invocation of the dispatcher, and nothing finalized in the worker.
    expect((await s.jobs.get('j'))?.status).toBe('finalizing');
    expect(s.finalizes).toEqual(['j']);
    expect(await s.store.exists(jobKeys.results('j'))).toBe(false);
    expect(await s.store.exists(jobKeys.success('j'))).toBe(false);

    await makeDispatcherHandler(() => s)({ jobId: 'j', finalize: true }, context(900_000));
    expect((await s.jobs.get('j'))?.status).toBe('succeeded');
    expect(s.announced.map((summary) => summary.jobId)).toEqual(['j']);
    const results = decodeJsonlGz<ResultRecord>((await s.store.get(jobKeys.results('j'))) ?? Buffer.alloc(0));
    expect(results.map((r) => r.line)).toEqual([1, 2, 101]);
  });

  it('a poison message is a batch item failure; those before it succeed, those after go back untouched (FIFO order)', async () => {
    const s = services();
    const [first, last] = await prepare(s, [['/ok'], ['/ok']]);
    const good = makeSqsRecord(JSON.stringify(first), 'good');
    const poison = makeSqsRecord('{"not":"a chunk"}', 'poison');
    const after = makeSqsRecord(JSON.stringify(last), 'after');
    const response = await makeWorkerHandler(() => s)({ Records: [good, poison, after] }, context(60_000));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }, { itemIdentifier: 'after' }]);
    expect((await s.jobs.get('j'))?.chunksDone).toBe(1);
    expect(s.released).toEqual(['rh-poison', 'rh-after']);
  });

  it('AWS still failing after the SDK retried (an HTML 5xx): failed and released after a backoff; a 4xx at once', async () => {
    const s = services();
    const [message] = await prepare(s, [['/ok']]);
    const failWith = (status: number) => {
      s.jobs.markChunkDone = async () => {
        throw Object.assign(new SyntaxError("Unexpected token '<'"), {
          $metadata: { httpStatusCode: status },
        });
      };
    };
    failWith(500);
    const record = makeSqsRecord(JSON.stringify(message), 'busy');
    const response = await makeWorkerHandler(() => s)({ Records: [record] }, context(60_000));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'busy' }]);
    expect(s.released).toEqual(['rh-busy']);
    const base = RUNTIME_DEFAULTS.awsFailureBackoffSeconds;
    expect(s.releaseDelays).toEqual([base]);
    // Each further receive doubles the wait, up to its maximum.
    const again = makeSqsRecord(JSON.stringify(message), 'busy');
    again.attributes.ApproximateReceiveCount = '3';
    await makeWorkerHandler(() => s)({ Records: [again] }, context(60_000));
    expect(s.releaseDelays).toEqual([base, base * 4]);
    again.attributes.ApproximateReceiveCount = '9';
    await makeWorkerHandler(() => s)({ Records: [again] }, context(60_000));
    expect(s.releaseDelays).toEqual([base, base * 4, RUNTIME_DEFAULTS.awsFailureBackoffMaxSeconds]);
    failWith(400);
    await makeWorkerHandler(() => s)(
      { Records: [makeSqsRecord(JSON.stringify(message), 'bad')] },
      context(60_000),
    );
    // A 4xx fails the same way every time: it comes back at once, on its way to the dead-letter
    // queue, rather than holding its FIFO group for maxReceiveCount visibility timeouts.
    expect(s.released).toEqual(['rh-busy', 'rh-busy', 'rh-busy', 'rh-bad']);
    expect(s.releaseDelays.at(-1)).toBe(0);
  });

  it('near the deadline: the chunk in progress checkpoints and fails, later records are returned untouched', async () => {
    const s = services();
    const [slow, later] = await prepare(s, [['/ok', '/slow'], ['/ok']]);
    const records = [
      makeSqsRecord(JSON.stringify(slow), 'slow'),
      makeSqsRecord(JSON.stringify(later), 'later'),
    ];
    const response = await makeWorkerHandler(() => s)({ Records: records }, context(900));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'slow' }, { itemIdentifier: 'later' }]);
    // Both are made visible again at once: they wait for time, not for the visibility timeout.
    expect(s.released).toEqual(['rh-slow', 'rh-later']);
    expect(s.releaseDelays).toEqual([0, 0]);
    expect(await s.store.exists(jobKeys.checkpoint('j', '00000000'))).toBe(true);
    expect((await s.jobs.get('j'))?.chunksDone).toBe(0);

    // The redelivery (receive count 2) resumes from the checkpoint: /ok is not fetched again.
    const okHits = server.hits('/ok');
    const again = makeSqsRecord(JSON.stringify(slow), 'slow-again');
    again.attributes.ApproximateReceiveCount = '2';
    const retry = await makeWorkerHandler(() => s)({ Records: [again] }, context(60_000));
    expect(retry.batchItemFailures).toEqual([]);
    expect(server.hits('/ok')).toBe(okHits);
    expect((await s.jobs.get('j'))?.chunksDone).toBe(1);
  });
});
