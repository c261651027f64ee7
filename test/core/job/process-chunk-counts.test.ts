import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { FetchEngine } from '../../../lambda/core/fetch/engine.js';
import { decodeJsonlGz, encodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { encodePart } from '../../../lambda/core/job/part-file.js';
import { processChunk } from '../../../lambda/core/job/process-chunk.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { makeFailure, makeRecord } from '../../helpers/factories.js';
import { startTargetServer, type TargetServer } from '../../helpers/target-server.js';

/** Called whenever /slow receives a request (the test decides what that means). */
let onSlow: () => void = () => {};
/** Called whenever the server has sent a whole /ok response. */
let onOkAnswered: () => void = () => {};

let server: TargetServer;
beforeAll(async () => {
  server = await startTargetServer({
    '/ok': (_req, res) => {
      res.on('finish', () => onOkAnswered());
      res.end('ok');
    },
    '/fail': (_req, res) => res.writeHead(500).end(),
    '/slow': (_req, res) => {
      const timer = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(timer));
      onSlow();
    },
  });
});
afterAll(() => server.close());

const options = resolveOptions({ allow: ['127.0.0.1/32'], retries: 0 });
const engines: FetchEngine[] = [];
afterEach(async () => {
  onSlow = () => {};
  onOkAnswered = () => {};
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

/** A job of one chunk holding `paths`, dispatched; markChunkDone is spied on. */
async function setup(paths: string[]) {
  const store = new MemoryObjectStore();
  const jobs = new MemoryJobStore();
  await jobs.create('j', new Date());
  await jobs.setTotal('j', { chunks: 1, accepted: paths.length, invalid: 0 });
  const markChunkDone = vi.spyOn(jobs, 'markChunkDone');
  const engine = new FetchEngine({ options });
  engines.push(engine);
  const message: ChunkMessage = {
    jobId: 'j',
    chunkId: '00000000',
    options,
    items: paths.map((path, i) => ({ line: i + 1, url: server.url(path) })),
  };
  return { store, jobs, engine, message, markChunkDone };
}

const partOf = (store: MemoryObjectStore) =>
  decodeJsonlGz<ResultRecord>(store.objects.get(jobKeys.part('j', '00000000')) ?? Buffer.alloc(0));

/** Resolves once `fire` has been called `times` times. */
function countdown(times: number): { fire: () => void; done: Promise<void> } {
  let left = times;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    fire: () => {
      left -= 1;
      if (left === 0) resolve();
    },
    done,
  };
}

describe('processChunk passes URL counts to markChunkDone', () => {
  it('a fetched chunk: every URL, and the ones with an error', async () => {
    const { store, jobs, engine, message, markChunkDone } = await setup([
      '/ok',
      '/fail',
      '/ok',
      '/fail',
      '/ok',
    ]);
    const outcome = await processChunk({ store, jobs, engine }, message);
    expect(outcome).toEqual({ part: 'written', records: 5, claimedFinalize: true });
    expect(markChunkDone).toHaveBeenCalledTimes(1);
    expect(markChunkDone).toHaveBeenCalledWith('j', '00000000', { urls: 5, failed: 2 });
    expect(await jobs.get('j')).toMatchObject({ chunksDone: 1, urlsDone: 5, urlsFailed: 2 });
  });

  it.each([
    ['with its digest', (records: ResultRecord[]) => encodePart(records).data],
    ['written before digests', (records: ResultRecord[]) => encodeJsonlGz(records)],
  ])(
    'a redelivery whose part exists (%s): the counts come from the stored part, nothing is fetched',
    async (_style, encode) => {
      const { store, jobs, engine, message, markChunkDone } = await setup(['/ok', '/ok', '/ok']);
      // The part an earlier delivery wrote before dying (its records say what happened then).
      const stored = [
        makeRecord({ line: 1 }),
        makeFailure('DNS', { line: 2 }),
        makeFailure('TLS', { line: 3 }),
      ];
      await store.put(jobKeys.part('j', '00000000'), encode(stored));
      const hits = server.hits('/ok');
      const outcome = await processChunk({ store, jobs, engine }, message);
      expect(outcome).toEqual({ part: 'exists', records: 0, claimedFinalize: true });
      expect(server.hits('/ok')).toBe(hits);
      expect(markChunkDone).toHaveBeenCalledWith('j', '00000000', { urls: 3, failed: 2 });
      expect(await jobs.get('j')).toMatchObject({ urlsDone: 3, urlsFailed: 2 });
    },
  );

  it('a delivery that lost the race to write the part counts the winner’s part, not its own records', async () => {
    const { jobs, engine, message, markChunkDone } = await setup(['/ok', '/ok']);
    const winner = [makeFailure('CONNECTION_RESET', { line: 1 }), makeRecord({ line: 2 })];
    const store = new MemoryObjectStore();
    // The other delivery's part lands while this one is fetching.
    const putIfAbsent = store.putIfAbsent.bind(store);
    store.putIfAbsent = async (key, body) => {
      await store.put(key, encodeJsonlGz(winner));
      return putIfAbsent(key, body);
    };
    const outcome = await processChunk({ store, jobs, engine }, message);
    expect(outcome.part).toBe('exists');
    expect(markChunkDone).toHaveBeenCalledWith('j', '00000000', { urls: 2, failed: 1 });
    expect(partOf(store).map((r) => r.error?.code ?? null)).toEqual(['CONNECTION_RESET', null]);
  });

  it('the same chunk processed twice is counted once', async () => {
    const { store, jobs, engine, message } = await setup(['/ok', '/fail']);
    await processChunk({ store, jobs, engine }, message);
    const again = await processChunk({ store, jobs, engine }, message);
    expect(again).toEqual({ part: 'exists', records: 0, claimedFinalize: false });
    expect(await jobs.get('j')).toMatchObject({ chunksDone: 1, urlsDone: 2, urlsFailed: 1 });
  });

  it('a job cancelled before the chunk starts: every URL counts as failed, none is fetched', async () => {
    const { store, jobs, engine, message, markChunkDone } = await setup(['/ok', '/ok', '/ok']);
    await jobs.requestCancel('j');
    const hits = server.hits('/ok');
    await processChunk({ store, jobs, engine }, message);
    expect(server.hits('/ok')).toBe(hits);
    expect(markChunkDone).toHaveBeenCalledWith('j', '00000000', { urls: 3, failed: 3 });
    expect(partOf(store).map((r) => r.error?.code)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
  });
});

describe('processChunk with cancelPollMs', () => {
  it('a cancel requested while the chunk is fetching ends the unfinished URLs as CANCELLED; the part is written', async () => {
    const { store, jobs, engine, message, markChunkDone } = await setup(['/ok', '/slow', '/slow']);
    const slowArrived = countdown(2);
    const okAnswered = countdown(1);
    onSlow = slowArrived.fire;
    onOkAnswered = okAnswered.fire;
    const slowHits = server.hits('/slow');

    const outcome = processChunk({ store, jobs, engine }, message, { cancelPollMs: 100 });
    // Cancel once every URL is under way and /ok has its answer.
    await Promise.all([slowArrived.done, okAnswered.done]);
    await jobs.requestCancel('j');

    expect(await outcome).toEqual({ part: 'written', records: 3, claimedFinalize: true });
    expect(server.hits('/slow') - slowHits).toBe(2);
    const part = partOf(store);
    expect(part.map((r) => [r.line, r.status, r.error?.code ?? null])).toEqual([
      [1, 200, null],
      [2, null, 'CANCELLED'],
      [3, null, 'CANCELLED'],
    ]);
    expect(markChunkDone).toHaveBeenCalledWith('j', '00000000', { urls: 3, failed: 2 });
    expect(await jobs.get('j')).toMatchObject({ chunksDone: 1, urlsDone: 3, urlsFailed: 2 });
    expect(await store.exists(jobKeys.checkpoint('j', '00000000'))).toBe(false);
  });

  it('without cancelPollMs, a cancel requested mid-chunk is not seen by that chunk', async () => {
    const { store, jobs, engine, message } = await setup(['/slow']);
    const slowArrived = countdown(1);
    onSlow = slowArrived.fire;
    const outcome = processChunk({ store, jobs, engine }, message);
    await slowArrived.done;
    await jobs.requestCancel('j');
    expect((await outcome).part).toBe('written');
    expect(partOf(store).map((r) => [r.status, r.error])).toEqual([[200, null]]);
  });
});
