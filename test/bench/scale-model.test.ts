import { describe, expect, it } from 'vitest';
import { AWS_LATENCY_MS, AWS_LIMITS } from '../../bench/scale/aws-figures.js';
import { ModelledJobStore } from '../../bench/scale/modelled-job-store.js';
import { ModelledObjectStore } from '../../bench/scale/modelled-object-store.js';
import { ModelledQueue, QueueLimitError } from '../../bench/scale/modelled-queue.js';
import { TokenBucket, VirtualClock } from '../../bench/scale/virtual-clock.js';
import { counterShardOf } from '../../lambda/adapters/aws/dynamo-job-store.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';

describe('VirtualClock', () => {
  it('moves to each wake-up in order, and overlapping waits overlap', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const end = await clock.run(async () => {
      await Promise.all([
        clock.sleep(300).then(() => seen.push(`b@${clock.now}`)),
        clock.sleep(100).then(() => seen.push(`a@${clock.now}`)),
      ]);
      await clock.sleep(50);
      return clock.now;
    });
    expect(seen).toEqual(['a@100', 'b@300']);
    expect(end).toBe(350);
  });

  it('fails a run that waits on nothing the clock drives', async () => {
    const clock = new VirtualClock();
    await expect(clock.run(() => new Promise<void>(() => {}))).rejects.toThrow(/stuck/);
  });
});

describe('TokenBucket', () => {
  it('allows its burst, refuses past it, and refills with time', () => {
    const bucket = new TokenBucket(10);
    for (let i = 0; i < 10; i += 1) expect(bucket.take(0)).toBe(true);
    expect(bucket.take(0)).toBe(false);
    expect(bucket.refused).toBe(1);
    expect(bucket.waitMsAt(0)).toBe(100);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
  });
});

describe('ModelledObjectStore', () => {
  it('serves 5,500 GET/HEAD a second per prefix and slows the rest down', async () => {
    const clock = new VirtualClock();
    const store = new ModelledObjectStore(clock);
    const requests = 2 * AWS_LIMITS.s3GetPerPrefixPerSecond;
    await clock.run(() =>
      Promise.all(Array.from({ length: requests }, (_, i) => store.exists(`jobs/a/parts/${i}`))),
    );
    expect(store.counters.head).toBe(requests);
    expect(store.counters.slowDowns).toBeGreaterThan(0);
    // The second 5,500 wait for the bucket to refill: about a second.
    expect(clock.now).toBeGreaterThanOrEqual(1000);
    expect(clock.now).toBeLessThan(1000 + 3 * AWS_LATENCY_MS.s3Head);
  });

  it('keeps prefixes apart and puts once only with putIfAbsent', async () => {
    const clock = new VirtualClock();
    const store = new ModelledObjectStore(clock);
    const n = AWS_LIMITS.s3PutPerPrefixPerSecond;
    const written = await clock.run(() =>
      Promise.all([
        ...Array.from({ length: n }, (_, i) => store.putIfAbsent(`jobs/a/p${i}`, Buffer.from('x'))),
        ...Array.from({ length: n }, (_, i) => store.putIfAbsent(`jobs/b/p${i}`, Buffer.from('x'))),
        store.putIfAbsent('jobs/a/p0', Buffer.from('y')),
      ]),
    );
    // 3,500 on each of two prefixes go at once; only the extra PUT waits for a token.
    expect(store.counters.slowDowns).toBe(1);
    expect(written.filter(Boolean)).toHaveLength(2 * n);
    expect((await clock.run(() => store.get('jobs/a/p0')))?.toString()).toBe('x');
  });
});

describe('ModelledJobStore', () => {
  it('refuses a transaction on an item another one holds, and counts each chunk once', async () => {
    const clock = new VirtualClock();
    const jobs = new ModelledJobStore(clock, { seed: 3 });
    await clock.run(async () => {
      await jobs.create('j', new Date(0));
      await jobs.setTotal('j', { chunks: 3, accepted: 3, invalid: 0 });
      await Promise.all([
        jobs.markChunkDone('j', '00000', { urls: 1, failed: 0 }),
        jobs.markChunkDone('j', '00001', { urls: 1, failed: 1 }),
        jobs.markChunkDone('j', '00001', { urls: 1, failed: 1 }),
      ]);
    });
    expect(jobs.counters.conflicts).toBeGreaterThanOrEqual(2);
    expect(jobs.counters.transactions).toBe(3);
    const state = await clock.run(() => jobs.get('j'));
    expect(state).toMatchObject({ chunksDone: 2, urlsDone: 2, urlsFailed: 1 });
    // 1 WCU each for create and setTotal, 2 per transaction on the job item, all in the first second.
    expect(jobs.peakItemWriteUnits()).toEqual({ key: 'job#j', unitsPerSecond: 8 });
  });

  it('counts on separate counter items when sharded: no conflict between them', async () => {
    const clock = new VirtualClock();
    const jobs = new ModelledJobStore(clock, { shards: 16 });
    const ids = ['00000', '00001', '00002', '00003', '00004', '00005'];
    const apart = ids.filter(
      (id, i) => ids.findIndex((o) => counterShardOf(o, 16) === counterShardOf(id, 16)) === i,
    );
    expect(apart.length).toBeGreaterThan(1);
    const progress = await clock.run(async () => {
      await jobs.create('j', new Date(0));
      await jobs.setTotal('j', { chunks: apart.length, accepted: apart.length, invalid: 0 });
      await Promise.all(apart.map((id) => jobs.markChunkDone('j', id)));
      return jobs.markChunkDone('j', apart[0] as string);
    });
    expect(jobs.counters.conflicts).toBe(0);
    expect(progress).toEqual({ chunksDone: apart.length, totalChunks: apart.length });
    expect(await clock.run(() => jobs.claimFinalize('j'))).toBe(true);
    expect(await clock.run(() => jobs.claimFinalize('j'))).toBe(false);
  });

  it('throttles an item past 1,000 write units a second', async () => {
    const clock = new VirtualClock();
    const jobs = new ModelledJobStore(clock);
    await clock.run(async () => {
      await jobs.create('j', new Date(0));
      // 1,100 single writes at one instant: a tenth of a second's units saved up, the rest as they come.
      await Promise.allSettled(Array.from({ length: 1_100 }, () => jobs.finish('j', 'running')));
    });
    expect(jobs.counters.throttles).toBeGreaterThan(0);
    expect(jobs.counters.writes + jobs.counters.failures).toBe(1_101);
    // 1,000 units past the 100 saved up come at 1,000 a second: at least 0.9 s of simulated time.
    expect(clock.now).toBeGreaterThanOrEqual(900);
    const limit = AWS_LIMITS.dynamoWcuPerPartitionPerSecond;
    expect(jobs.peakItemWriteUnits().unitsPerSecond).toBeLessThanOrEqual(limit * 1.1);
  });
});

describe('ModelledQueue', () => {
  const message = (chunkId: string, url = 'https://example.com/'): ChunkMessage => ({
    jobId: 'j',
    chunkId,
    options: resolveOptions({}),
    items: [{ url, line: 1 }],
  });

  it('refuses receives past the in-flight cap until a message is deleted', async () => {
    const clock = new VirtualClock();
    const queue = new ModelledQueue(clock, { inFlightLimit: 2 });
    await clock.run(async () => {
      await queue.send([message('0'), message('1'), message('2')]);
      const a = await queue.receive();
      await queue.receive();
      await expect(queue.receive()).rejects.toThrow(QueueLimitError);
      await queue.delete(a?.receiptHandle ?? '');
      expect((await queue.receive())?.message.chunkId).toBe('2');
    });
    expect(queue.counters.overLimit).toBe(1);
    expect(queue.counters.peakInFlight).toBe(2);
    expect(clock.now).toBe(AWS_LATENCY_MS.sqsSend + 4 * AWS_LATENCY_MS.sqsReceive + AWS_LATENCY_MS.sqsDelete);
  });

  it('refuses a message over 256 KiB', async () => {
    const clock = new VirtualClock();
    const queue = new ModelledQueue(clock);
    const big = message('0', `https://example.com/${'a'.repeat(AWS_LIMITS.sqsMessageBytes)}`);
    await expect(clock.run(() => queue.send([big]))).rejects.toThrow(/over SQS's 262144/);
  });
});
