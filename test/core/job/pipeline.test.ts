import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryChunkQueue } from '../../../lambda/adapters/memory-chunk-queue.js';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { FetchEngine } from '../../../lambda/core/fetch/engine.js';
import { dispatchJob } from '../../../lambda/core/job/dispatch.js';
import { finalizeJob } from '../../../lambda/core/job/finalize.js';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonl, decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { ChunkDeadlineError, processChunk } from '../../../lambda/core/job/process-chunk.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';
import type { InvalidLine, ResultRecord } from '../../../lambda/core/record.js';
import type { JobSummary } from '../../../lambda/core/summary.js';
import { startTargetServer, type TargetServer } from '../../helpers/target-server.js';

let server: TargetServer;
beforeAll(async () => {
  server = await startTargetServer({
    '/ok': (_req, res) => res.end('ok'),
    '/fail': (_req, res) => res.writeHead(500).end(),
    '/slow': (_req, res) => {
      const timer = setTimeout(() => res.end('late'), 1500);
      res.on('close', () => clearTimeout(timer));
    },
  });
});
afterAll(() => server.close());

const options = resolveOptions({ allow: ['127.0.0.1/32'], chunkSize: 4, retries: 0 });
const engines: FetchEngine[] = [];
afterEach(async () => Promise.all(engines.splice(0).map((e) => e.close())));

/** A queue that keeps what was sent, so the test delivers messages itself (twice, concurrently, …). */
class RecordingQueue {
  readonly sent: ChunkMessage[] = [];
  async send(messages: readonly ChunkMessage[]) {
    this.sent.push(...messages);
  }
}

async function* bytes(text: string) {
  yield Buffer.from(text);
}

function setup(lines: string[]) {
  const store = new MemoryObjectStore();
  const jobs = new MemoryJobStore();
  const queue = new RecordingQueue();
  const engine = new FetchEngine({ options });
  engines.push(engine);
  const request: JobRequest = {
    jobId: 'job1',
    source: 'list.txt',
    format: 'auto',
    options,
    submittedAt: new Date().toISOString(),
  };
  const dispatch = () => dispatchJob({ store, queue, jobs }, request, bytes(`${lines.join('\n')}\n`));
  const work = (message: ChunkMessage) => processChunk({ store, jobs, engine }, message);
  return { store, jobs, queue, request, dispatch, work };
}

const okLines = (n: number) => Array.from({ length: n }, (_, i) => server.url(`/ok?i=${i}`));

function results(store: MemoryObjectStore): ResultRecord[] {
  return decodeJsonlGz<ResultRecord>(store.objects.get(jobKeys.results('job1')) ?? Buffer.alloc(0));
}

describe('dispatch → chunks → parts → finalize', () => {
  it('every accepted line is in results exactly once; invalid lines are reported with reasons', async () => {
    const lines = ['# a comment', ...okLines(9), 'not a url', server.url('/fail'), '', 'ftp://x/'];
    const { store, queue, dispatch, work, jobs } = setup(lines);
    const { manifest, claimedFinalize } = await dispatch();
    expect(claimedFinalize).toBe(false);
    expect(manifest).toMatchObject({ accepted: 10, invalid: 2, chunks: 3 });
    expect(queue.sent.map((m) => m.items.length)).toEqual([4, 4, 2]);
    const outcomes = [];
    for (const message of queue.sent) outcomes.push(await work(message));
    expect(outcomes.map((o) => o.claimedFinalize)).toEqual([false, false, true]);
    const summary = await finalizeJob({ store, jobs }, 'job1');
    const records = results(store);
    expect(records.map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 12]);
    expect(summary).toMatchObject({
      status: 'completed_with_errors',
      urls: { accepted: 10, invalid: 2, ok: 9, failed: 1 },
    });
    const invalid = decodeJsonlGz<InvalidLine>(store.objects.get(jobKeys.invalid('job1')) ?? Buffer.alloc(0));
    expect(invalid.map((i) => [i.line, i.code])).toEqual([
      [11, 'INVALID_URL'],
      [14, 'UNSUPPORTED_SCHEME'],
    ]);
    const failed = decodeJsonl<{ url: string; error: { code: string } }>(
      (store.objects.get(jobKeys.failed('job1')) ?? '').toString(),
    );
    expect(failed).toEqual([
      { url: server.url('/fail'), error: { code: 'HTTP_STATUS', message: expect.any(String) } },
    ]);
    expect(store.objects.has(jobKeys.success('job1'))).toBe(true);
    expect((await jobs.get('job1'))?.status).toBe('completed_with_errors');
  });

  it('a chunk delivered twice is fetched once, counted once, and finalize is claimed once', async () => {
    const { store, jobs, queue, dispatch, work } = setup(okLines(8));
    await dispatch();
    const [first, second] = queue.sent as [ChunkMessage, ChunkMessage];
    const hitsBefore = server.hits('/ok');
    const a = await work(first);
    const again = await work(first);
    expect(a.part).toBe('written');
    expect(again).toMatchObject({ part: 'exists', records: 0, claimedFinalize: false });
    expect(server.hits('/ok') - hitsBefore).toBe(4);
    const last = await work(second);
    expect(last.claimedFinalize).toBe(true);
    expect((await work(second)).claimedFinalize).toBe(false);
    await finalizeJob({ store, jobs }, 'job1');
    expect(results(store).map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('two workers on the same chunk at once: one part, one count', async () => {
    const { store, jobs, queue, dispatch, work } = setup(okLines(4));
    await dispatch();
    const [message] = queue.sent as [ChunkMessage];
    const outcomes = await Promise.all([work(message), work(message)]);
    expect(outcomes.map((o) => o.part).sort()).toEqual(['exists', 'written']);
    expect(outcomes.filter((o) => o.claimedFinalize)).toHaveLength(1);
    expect((await jobs.get('job1'))?.chunksDone).toBe(1);
    await finalizeJob({ store, jobs }, 'job1');
    expect(results(store)).toHaveLength(4);
  });

  it('a worker that died after writing its part but before counting: the redelivery counts it without refetching', async () => {
    const { store, jobs, queue, dispatch, work } = setup(okLines(4));
    await dispatch();
    const [message] = queue.sent as [ChunkMessage];
    // The first worker's part landed, then it died: simulate by writing the part and never counting.
    const engine = new FetchEngine({ options });
    engines.push(engine);
    const records = await engine.fetchAll(message.items);
    const { encodeJsonlGz } = await import('../../../lambda/core/job/jsonl.js');
    await store.putIfAbsent(jobKeys.part('job1', message.chunkId), encodeJsonlGz(records));
    const hits = server.hits('/ok');
    const redelivered = await work(message);
    expect(redelivered).toMatchObject({ part: 'exists', claimedFinalize: true });
    expect(server.hits('/ok')).toBe(hits);
    await finalizeJob({ store, jobs }, 'job1');
    expect(results(store).map((r) => r.line)).toEqual([1, 2, 3, 4]);
  });

  it('when the last chunk finishes before dispatch records the total, the dispatcher finalizes', async () => {
    const store = new MemoryObjectStore();
    const jobs = new MemoryJobStore();
    const engine = new FetchEngine({ options });
    engines.push(engine);
    // A queue whose consumer finishes each chunk before send() returns.
    const queue = {
      send: async (messages: readonly ChunkMessage[]) =>
        void (await Promise.all(messages.map((m) => processChunk({ store, jobs, engine }, m)))),
    };
    const request: JobRequest = {
      jobId: 'job1',
      source: 'x.txt',
      format: 'auto',
      options,
      submittedAt: new Date().toISOString(),
    };
    const { claimedFinalize } = await dispatchJob(
      { store, queue, jobs },
      request,
      bytes(okLines(6).join('\n')),
    );
    expect(claimedFinalize).toBe(true);
    const summary: JobSummary = await finalizeJob({ store, jobs }, 'job1');
    expect(summary.urls.accepted).toBe(6);
  });

  it('results.jsonl.gz is the parts concatenated, readable by any gunzip', async () => {
    const { store, jobs, queue, dispatch, work } = setup(okLines(10));
    await dispatch();
    for (const m of queue.sent) await work(m);
    await finalizeJob({ store, jobs }, 'job1');
    const text = gunzipSync(store.objects.get(jobKeys.results('job1')) ?? Buffer.alloc(0)).toString();
    expect(text.trim().split('\n')).toHaveLength(10);
  });

  it('an input of only blank lines and comments is an EMPTY_INPUT error', async () => {
    const { dispatch } = setup(['', '# nothing', '   ']);
    await expect(dispatch()).rejects.toMatchObject({ code: 'EMPTY_INPUT' });
  });

  it('an input of only invalid lines finalizes with zero chunks', async () => {
    const { store, jobs, dispatch } = setup(['nope', 'also nope']);
    const { manifest, claimedFinalize } = await dispatch();
    expect(manifest).toMatchObject({ accepted: 0, invalid: 2, chunks: 0 });
    expect(claimedFinalize).toBe(true);
    const summary = await finalizeJob({ store, jobs }, 'job1');
    expect(summary.urls).toEqual({ accepted: 0, invalid: 2, duplicates: 0, ok: 0, failed: 0, cancelled: 0 });
  });

  it('a failed upload of the rejected lines fails the dispatch with its error, without reading the rest', async () => {
    const { store, jobs, queue, request } = setup([]);
    const refused = new Error('the store refused invalid.jsonl.gz');
    store.putStream = async (key, body) => {
      if (key !== jobKeys.invalid('job1'))
        return MemoryObjectStore.prototype.putStream.call(store, key, body);
      await new Promise((resolve) => setImmediate(resolve));
      throw refused;
    };
    let batchesRead = 0;
    async function* invalidLines() {
      for (; batchesRead < 1000; batchesRead += 1) {
        yield Buffer.from(`${Array.from({ length: 100 }, (_, i) => `not a url ${i}`).join('\n')}\n`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await expect(dispatchJob({ store, queue, jobs }, request, invalidLines())).rejects.toBe(refused);
    expect(batchesRead).toBeLessThan(10);
    expect(store.objects.has(jobKeys.invalid('job1'))).toBe(false);
  });
});

describe('MemoryChunkQueue', () => {
  it('send waits while the queue is full', async () => {
    const queue = new MemoryChunkQueue(1);
    const message = (chunkId: string): ChunkMessage => ({ jobId: 'j', chunkId, options, items: [] });
    await queue.send([message('0')]);
    let sent = false;
    const pending = queue.send([message('1')]).then(() => {
      sent = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    expect((await queue.receive())?.chunkId).toBe('0');
    await pending;
    expect(sent).toBe(true);
    queue.close();
    expect((await queue.receive())?.chunkId).toBe('1');
    expect(await queue.receive()).toBeNull();
  });
});

describe('job ids', () => {
  it('re-dispatching the same request under the same id is allowed (resume)', async () => {
    const { dispatch } = setup(okLines(2));
    await dispatch();
    await expect(dispatch()).resolves.toBeDefined();
  });

  it('a different request under an existing id is refused with JOB_EXISTS', async () => {
    const store = new MemoryObjectStore();
    const jobs = new MemoryJobStore();
    const queue = new RecordingQueue();
    const request: JobRequest = {
      jobId: 'same',
      source: 'a.txt',
      format: 'auto',
      options,
      submittedAt: new Date().toISOString(),
    };
    await dispatchJob({ store, queue, jobs }, request, bytes(okLines(2).join('\n')));
    const other = { ...request, options: { ...options, retries: 5 } };
    await expect(dispatchJob({ store, queue, jobs }, other, bytes('https://e.com/'))).rejects.toMatchObject({
      code: 'JOB_EXISTS',
    });
  });
});

describe('worker deadline and cancellation', () => {
  it('a worker out of time saves what it fetched; the next delivery fetches only the rest', async () => {
    const lines = [
      server.url('/ok?d=1'),
      server.url('/slow?d=2'),
      server.url('/ok?d=3'),
      server.url('/slow?d=4'),
    ];
    const { store, jobs, queue, dispatch, work } = setup(lines);
    await dispatch();
    const [message] = queue.sent as [ChunkMessage];
    const engine = new FetchEngine({ options });
    engines.push(engine);
    const deadline = AbortSignal.timeout(300);
    await expect(processChunk({ store, jobs, engine }, message, { deadline })).rejects.toBeInstanceOf(
      ChunkDeadlineError,
    );
    expect(await store.exists(jobKeys.part('job1', message.chunkId))).toBe(false);
    expect((await jobs.get('job1'))?.chunksDone).toBe(0);
    const checkpoint = decodeJsonlGz<ResultRecord>(
      store.objects.get(jobKeys.checkpoint('job1', message.chunkId)) ?? Buffer.alloc(0),
    );
    expect(checkpoint.map((r) => r.line)).toEqual([1, 3]);

    const okHits = server.hits('/ok');
    const slowHits = server.hits('/slow');
    const outcome = await work(message);
    expect(outcome).toMatchObject({ part: 'written', claimedFinalize: true });
    expect(server.hits('/ok')).toBe(okHits);
    expect(server.hits('/slow') - slowHits).toBe(2);
    await finalizeJob({ store, jobs }, 'job1');
    const records = results(store);
    expect(records.map((r) => [r.line, r.status])).toEqual([
      [1, 200],
      [2, 200],
      [3, 200],
      [4, 200],
    ]);
  });

  it('after a cancel request, a chunk is recorded as CANCELLED without fetching', async () => {
    const { store, jobs, queue, dispatch, work } = setup(okLines(4));
    await dispatch();
    await jobs.requestCancel('job1');
    const hits = server.hits('/ok');
    const outcome = await work(queue.sent[0] as ChunkMessage);
    expect(outcome.claimedFinalize).toBe(true);
    expect(server.hits('/ok')).toBe(hits);
    await finalizeJob({ store, jobs }, 'job1');
    expect(results(store).map((r) => r.error?.code)).toEqual([
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
    ]);
  });
});
