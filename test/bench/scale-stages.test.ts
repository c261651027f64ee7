import { describe, expect, it } from 'vitest';
import { interpolateChunkSeconds, modelJob } from '../../bench/scale/job-model.js';
import { contentionStage, dispatchStage, finalizeStage } from '../../bench/scale/stages.js';

describe('the scale bench stages (real job code, modelled AWS)', () => {
  it('finalizes every part through modelled S3, one GET per part at least', async () => {
    const run = await finalizeStage(200);
    expect(run.s3Gets).toBeGreaterThanOrEqual(200);
    // At least the parts' GETs, overlapped no more than a few hundred at a time.
    expect(run.simulatedSeconds).toBeGreaterThan((200 * 0.025) / 1000);
  });

  it('dispatches a list into chunks on modelled SQS, ten to a batch', async () => {
    const run = await dispatchStage(25_000);
    expect(run.chunks).toBe(25);
    expect(run.sendBatches).toBe(3);
    expect(run.simulatedSeconds).toBeGreaterThan(0);
  });

  it('shows counts conflicting on one job item and far less on sharded counters', async () => {
    const common = { workers: 60, seconds: 5, fetchMs: 1_000, itemsPerChunk: 2 };
    const one = await contentionStage({ ...common, shards: 1 });
    const sharded = await contentionStage({ ...common, shards: 16 });
    expect(one.chunks).toBeGreaterThan(0);
    expect(one.conflicts / one.chunks).toBeGreaterThan(0.5);
    expect(sharded.conflicts / sharded.chunks).toBeLessThan(one.conflicts / one.chunks / 5);
    expect(sharded.completionsPerSecond).toBeGreaterThan(one.completionsPerSecond);
    expect(one.peakItem).toBe('job#scale-chunks');
    expect(sharded.peakItem).toMatch(/^job#scale-chunks#shard#/);
  });
});

describe('modelJob', () => {
  const base = {
    urls: 1e6,
    chunkSize: 1_000,
    chunkSecondsAt: () => 2,
    dispatchSecondsPerLine: 1e-6,
    rereadSecondsPerLine: 0,
    dispatchRunSeconds: 840,
    finalizeSeconds: 10,
  };

  it('ramps the event source from 5 by 300 a minute to its maximum', () => {
    const r = modelJob({ ...base, urls: 1e8, maxConcurrency: 1_000 });
    // (1,000 − 5) / 300 a minute ≈ 199 s after the first chunk is sent.
    expect(r.fullConcurrencyAt).toBeGreaterThanOrEqual(199);
    expect(r.fullConcurrencyAt).toBeLessThanOrEqual(201);
    expect(r.peakCompletionsPerSecond).toBeCloseTo(500, 0);
  });

  it('takes chunks ÷ rate once at full concurrency, plus finalize', () => {
    const r = modelJob({ ...base, maxConcurrency: 5 });
    // 1,000 chunks at 5 workers of 2 s each: 400 s, and 10 s of finalize.
    expect(r.wallSeconds).toBeGreaterThanOrEqual(400);
    expect(r.wallSeconds).toBeLessThanOrEqual(412);
    expect(r.dispatchRuns).toBe(1);
  });

  it('re-reads the list on each dispatcher hand-over when it resumes from the start', () => {
    const slow = { ...base, maxConcurrency: 1_000, dispatchSecondsPerLine: 1e-3, dispatchRunSeconds: 100 };
    const byOffset = modelJob(slow);
    const fromStart = modelJob({ ...slow, rereadSecondsPerLine: 1e-3 / 2 });
    expect(byOffset.dispatchSeconds).toBeCloseTo(1_000, -1);
    expect(fromStart.dispatchRuns).toBeGreaterThan(byOffset.dispatchRuns);
    expect(fromStart.dispatchSeconds).toBeGreaterThan(1.5 * byOffset.dispatchSeconds);
  });

  it('interpolates seconds per chunk in log(workers) between measured points', () => {
    const at = interpolateChunkSeconds([
      { workers: 10, chunkSeconds: 1 },
      { workers: 1_000, chunkSeconds: 3 },
    ]);
    expect(at(5)).toBe(1);
    expect(at(100)).toBeCloseTo(2, 6);
    expect(at(5_000)).toBe(3);
  });
});
