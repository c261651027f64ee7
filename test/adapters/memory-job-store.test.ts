import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryJobStore } from '../../lambda/adapters/memory-job-store.js';
import { DEFAULT_FINALIZE_LEASE_MS, type JobStatus } from '../../lambda/core/ports.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A job with `chunks` chunks whose dispatch has finished. */
async function dispatched(chunks: number, jobId = 'j'): Promise<MemoryJobStore> {
  const jobs = new MemoryJobStore();
  await jobs.create(jobId, new Date('2026-01-01T00:00:00Z'));
  await jobs.setTotal(jobId, { chunks, accepted: chunks * 10, invalid: 1 });
  return jobs;
}

describe('MemoryJobStore: create and totals', () => {
  it('a new job is dispatching with zero counts', async () => {
    const jobs = new MemoryJobStore();
    await jobs.create('j', new Date('2026-01-01T00:00:00Z'));
    expect(await jobs.get('j')).toEqual({
      jobId: 'j',
      status: 'dispatching',
      totalChunks: null,
      chunksDone: 0,
      accepted: 0,
      invalid: 0,
      urlsDone: 0,
      urlsFailed: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('creating an existing job changes nothing', async () => {
    const jobs = await dispatched(2);
    await jobs.markChunkDone('j', 'c0', { urls: 3, failed: 1 });
    const before = await jobs.get('j');
    await jobs.create('j', new Date('2030-01-01T00:00:00Z'));
    expect(await jobs.get('j')).toEqual(before);
  });

  it('setTotal records the totals and moves a dispatching job to running', async () => {
    const jobs = new MemoryJobStore();
    await jobs.create('j', new Date());
    expect(await jobs.setTotal('j', { chunks: 4, accepted: 37, invalid: 2 })).toEqual({
      chunksDone: 0,
      totalChunks: 4,
    });
    expect(await jobs.get('j')).toMatchObject({
      status: 'running',
      totalChunks: 4,
      accepted: 37,
      invalid: 2,
    });
  });

  it('get returns a copy', async () => {
    const jobs = await dispatched(1);
    const state = await jobs.get('j');
    if (state) state.chunksDone = 99;
    expect((await jobs.get('j'))?.chunksDone).toBe(0);
  });

  it('an unknown job: get and requestCancel give null; counting throws', async () => {
    const jobs = new MemoryJobStore();
    expect(await jobs.get('nope')).toBeNull();
    expect(await jobs.requestCancel('nope')).toBeNull();
    await expect(jobs.markChunkDone('nope', 'c0')).rejects.toThrow('unknown job nope');
  });
});

describe('MemoryJobStore: counting chunks and URLs', () => {
  it('URL counts are added once per chunk, however often the chunk is counted', async () => {
    const jobs = await dispatched(3);
    expect(await jobs.markChunkDone('j', 'c0', { urls: 10, failed: 2 })).toEqual({
      chunksDone: 1,
      totalChunks: 3,
    });
    expect(await jobs.markChunkDone('j', 'c0', { urls: 10, failed: 2 })).toEqual({
      chunksDone: 1,
      totalChunks: 3,
    });
    await jobs.markChunkDone('j', 'c1', { urls: 7, failed: 0 });
    // A redelivery with other counts (it should not happen, but must not double-count).
    await jobs.markChunkDone('j', 'c1', { urls: 99, failed: 99 });
    expect(await jobs.get('j')).toMatchObject({ chunksDone: 2, urlsDone: 17, urlsFailed: 2 });
  });

  it('a chunk counted without URL counts adds none', async () => {
    const jobs = await dispatched(2);
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.get('j')).toMatchObject({ chunksDone: 1, urlsDone: 0, urlsFailed: 0 });
  });

  it('chunks may be counted before the total is known', async () => {
    const jobs = new MemoryJobStore();
    await jobs.create('j', new Date());
    expect(await jobs.markChunkDone('j', 'c0', { urls: 5, failed: 5 })).toEqual({
      chunksDone: 1,
      totalChunks: null,
    });
    expect(await jobs.setTotal('j', { chunks: 1, accepted: 5, invalid: 0 })).toEqual({
      chunksDone: 1,
      totalChunks: 1,
    });
    expect(await jobs.get('j')).toMatchObject({ urlsDone: 5, urlsFailed: 5 });
  });
});

describe('MemoryJobStore: claimFinalize', () => {
  it('only once every chunk is done', async () => {
    const jobs = await dispatched(2);
    expect(await jobs.claimFinalize('j')).toBe(false);
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.claimFinalize('j')).toBe(false);
    expect((await jobs.get('j'))?.status).toBe('running');
    await jobs.markChunkDone('j', 'c1');
    expect(await jobs.claimFinalize('j')).toBe(true);
    expect((await jobs.get('j'))?.status).toBe('finalizing');
  });

  it('never before the total is known, even when the chunks counted so far are all done', async () => {
    const jobs = new MemoryJobStore();
    await jobs.create('j', new Date());
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.claimFinalize('j', 0)).toBe(false);
  });

  it('a job of zero chunks is claimed at once', async () => {
    const jobs = await dispatched(0);
    expect(await jobs.claimFinalize('j')).toBe(true);
  });

  it('one caller wins; a live claim cannot be taken over', async () => {
    const jobs = await dispatched(1);
    await jobs.markChunkDone('j', 'c0');
    const claims = await Promise.all([
      jobs.claimFinalize('j'),
      jobs.claimFinalize('j'),
      jobs.claimFinalize('j'),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await jobs.claimFinalize('j')).toBe(false);
  });

  it('with leaseMs 0 an earlier claim counts as abandoned and is taken over', async () => {
    const jobs = await dispatched(1);
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.claimFinalize('j', 0)).toBe(true);
    expect(await jobs.claimFinalize('j', 0)).toBe(true);
    expect((await jobs.get('j'))?.status).toBe('finalizing');
  });

  it('a claim is held for the lease, and free once it has run out', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const jobs = await dispatched(1);
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.claimFinalize('j')).toBe(true);
    vi.setSystemTime(Date.now() + DEFAULT_FINALIZE_LEASE_MS - 1);
    expect(await jobs.claimFinalize('j')).toBe(false);
    vi.setSystemTime(Date.now() + 1);
    expect(await jobs.claimFinalize('j')).toBe(true);
    // The takeover is a claim of its own: held again for a whole lease.
    expect(await jobs.claimFinalize('j')).toBe(false);
  });

  it('a shorter lease is the caller’s to give', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const jobs = await dispatched(1);
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.claimFinalize('j', 1000)).toBe(true);
    vi.setSystemTime(Date.now() + 999);
    expect(await jobs.claimFinalize('j', 1000)).toBe(false);
    vi.setSystemTime(Date.now() + 1);
    expect(await jobs.claimFinalize('j', 1000)).toBe(true);
  });

  it.each<JobStatus>(['succeeded', 'completed_with_errors', 'failed', 'cancelled'])(
    'a %s job is never claimed, even with leaseMs 0',
    async (status) => {
      const jobs = await dispatched(1);
      await jobs.markChunkDone('j', 'c0');
      expect(await jobs.claimFinalize('j')).toBe(true);
      await jobs.finish('j', status);
      expect(await jobs.claimFinalize('j', 0)).toBe(false);
      expect((await jobs.get('j'))?.status).toBe(status);
    },
  );

  it('a job failed before its chunks were all done is never claimed', async () => {
    const jobs = await dispatched(1);
    await jobs.finish('j', 'failed', 'INPUT_UNREADABLE: bad gzip');
    await jobs.markChunkDone('j', 'c0');
    expect(await jobs.claimFinalize('j', 0)).toBe(false);
    expect(await jobs.get('j')).toMatchObject({ status: 'failed', error: 'INPUT_UNREADABLE: bad gzip' });
  });
});

describe('MemoryJobStore: cancel', () => {
  it('requestCancel marks the job and returns it as it now stands', async () => {
    const jobs = await dispatched(2);
    const state = await jobs.requestCancel('j');
    expect(state).toMatchObject({ jobId: 'j', status: 'running', cancelRequested: true });
    expect((await jobs.get('j'))?.cancelRequested).toBe(true);
  });

  it('isCancelRequested: false until a cancel request, and for an unknown job', async () => {
    const jobs = await dispatched(2);
    expect(await jobs.isCancelRequested('j')).toBe(false);
    await jobs.requestCancel('j');
    expect(await jobs.isCancelRequested('j')).toBe(true);
    expect(await jobs.isCancelRequested('nope')).toBe(false);
  });
});

describe('MemoryJobStore: many concurrent counts', () => {
  it('500 chunks from 50 concurrent callers, each chunk counted twice: each once, one finalizer', async () => {
    const jobs = await dispatched(500);
    const chunkIds = Array.from({ length: 500 }, (_, i) => String(i).padStart(8, '0'));
    const wins = await Promise.all(
      Array.from({ length: 50 }, async (_, caller) => {
        let claimed = 0;
        for (let round = 0; round < 2; round += 1) {
          for (let i = caller; i < chunkIds.length; i += 50) {
            const id = chunkIds[(i + round * 7) % chunkIds.length] as string;
            const progress = await jobs.markChunkDone('j', id, { urls: 2, failed: 1 });
            if (progress.chunksDone >= 500 && (await jobs.claimFinalize('j'))) claimed += 1;
          }
        }
        return claimed;
      }),
    );
    expect(wins.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await jobs.get('j')).toMatchObject({ chunksDone: 500, urlsDone: 1000, urlsFailed: 500 });
  });
});
