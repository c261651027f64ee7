import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { chunkIdAt } from '../../../lambda/core/chunker.js';
import { type FanInLimits, finalizeJob, finalizeStep } from '../../../lambda/core/job/finalize.js';
import type { JobManifest, JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonlGz, encodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { encodePart } from '../../../lambda/core/job/part-file.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ObjectStore } from '../../../lambda/core/ports.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { sampleRecords } from '../report/sample-job.js';

const JOB = 'fan-in-job';
const CHUNK = 20;
// 1,500 hosts: more than the report's table holds, so its cut state must be carried too.
const records = sampleRecords(900, 11).map((record, i) => ({
  ...record,
  url: `https://h${i % 1500}.example${new URL(record.url).pathname}`,
}));
const PARTS = Math.ceil(records.length / CHUNK);
/** Small segments, so the fan-in writes many and checkpoints after each. */
const LIMITS: Partial<FanInLimits> = { segmentBytes: 4096, maxAhead: 4 };

const request: JobRequest = {
  jobId: JOB,
  source: 'list.txt',
  format: 'text',
  options: resolveOptions({ chunkSize: CHUNK }),
  submittedAt: '2026-12-02T10:00:00.000Z',
};

/** A job whose parts are all written (every third without a digest), ready to finalize. */
async function jobWithParts() {
  const store = new MemoryObjectStore();
  const jobs = new MemoryJobStore();
  const manifest: JobManifest = {
    jobId: JOB,
    lines: records.length,
    accepted: records.length,
    invalid: 0,
    chunks: PARTS,
    chunkSize: CHUNK,
    dispatchedAt: '2026-12-02T10:00:01.000Z',
  };
  await store.put(jobKeys.request(JOB), JSON.stringify(request));
  await store.put(jobKeys.manifest(JOB), JSON.stringify(manifest));
  await jobs.create(JOB, new Date(request.submittedAt));
  await jobs.setTotal(JOB, { chunks: PARTS, accepted: records.length, invalid: 0 });
  for (let index = 0; index < PARTS; index += 1) {
    const part = records.slice(index * CHUNK, (index + 1) * CHUNK);
    await store.put(
      jobKeys.part(JOB, chunkIdAt(index)),
      index % 3 === 2 ? encodeJsonlGz(part) : encodePart(part).data,
    );
  }
  return { store, jobs };
}

/** What a finished job leaves: the outputs, byte for byte, and the job's status. */
async function outputsOf(store: MemoryObjectStore, jobs: MemoryJobStore) {
  return {
    results: store.objects.get(jobKeys.results(JOB)),
    failed: store.objects.get(jobKeys.failed(JOB))?.toString('utf8'),
    summary: store.objects.get(jobKeys.summary(JOB))?.toString('utf8'),
    report: store.objects.get(jobKeys.report(JOB))?.toString('utf8'),
    success: store.objects.has(jobKeys.success(JOB)),
    status: (await jobs.get(JOB))?.status,
    leftOver: store.keys(`jobs/${JOB}/finalize/`),
  };
}

class Crash extends Error {}

/**
 * The store, failing its `failAt`-th call (1-based): before the call, or after it took effect
 * (a process that dies once its write landed). Every call is counted, with its key.
 */
function faultyStore(inner: MemoryObjectStore, failAt: number, when: 'before' | 'after') {
  const calls: string[] = [];
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const n = calls.push(`${name} ${String(args[0])}`);
      if (n === failAt && when === 'before') throw new Crash(`crash before call ${failAt}`);
      const result = await fn(...args);
      if (n === failAt && when === 'after') throw new Crash(`crash after call ${failAt}`);
      return result;
    };
  const multipart = inner.multipart;
  const store: ObjectStore = {
    putIfAbsent: wrap('putIfAbsent', inner.putIfAbsent.bind(inner)),
    put: wrap('put', inner.put.bind(inner)),
    putStream: wrap('putStream', inner.putStream.bind(inner)),
    get: wrap('get', inner.get.bind(inner)),
    exists: wrap('exists', inner.exists.bind(inner)),
    list: wrap('list', inner.list.bind(inner)),
    delete: wrap('delete', inner.delete.bind(inner)),
    multipart: {
      create: wrap('create', multipart.create),
      copyPart: wrap('copyPart', multipart.copyPart),
      complete: wrap('complete', multipart.complete),
      abort: wrap('abort', multipart.abort),
    },
  };
  return { store, calls };
}

describe('the fan-in, checkpointed and continued', () => {
  // One clock for every run, so summaries and reports compare whole.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-02T10:00:42.000Z'));
  });
  afterEach(() => vi.useRealTimers());

  async function uninterrupted() {
    const { store, jobs } = await jobWithParts();
    await finalizeJob({ store, jobs }, JOB, undefined, LIMITS);
    return outputsOf(store, jobs);
  }

  it('writes results in input order, every record once, and removes its segments and checkpoint', async () => {
    const once = await uninterrupted();
    const results = decodeJsonlGz<ResultRecord>(once.results ?? Buffer.alloc(0));
    expect(results.map((r) => r.line)).toEqual(records.map((r) => r.line));
    expect(once.status).toMatch(/succeeded|completed_with_errors/);
    expect(once.success).toBe(true);
    expect(once.leftOver).toEqual([]);
  });

  it.each(['before', 'after'] as const)(
    'interrupted at every store call (%s it) and continued: the same outputs, byte for byte',
    async (when) => {
      const expected = await uninterrupted();
      // Count the calls of an uninterrupted run, then crash at each one in turn.
      const probe = await jobWithParts();
      const counting = faultyStore(probe.store, 0, when);
      await finalizeJob({ store: counting.store, jobs: probe.jobs }, JOB, undefined, LIMITS);
      const total = counting.calls.length;
      expect(total).toBeGreaterThan(PARTS + 20);
      for (let failAt = 1; failAt <= total; failAt += 1) {
        const { store, jobs } = await jobWithParts();
        const faulty = faultyStore(store, failAt, when);
        await expect(
          finalizeStep({ store: faulty.store, jobs }, JOB, { limits: LIMITS }),
          `crash at call ${failAt}: ${faulty.calls[failAt - 1]}`,
        ).rejects.toThrow(Crash);
        await finalizeJob({ store, jobs }, JOB, undefined, LIMITS);
        expect(await outputsOf(store, jobs), `crash at call ${failAt} (${faulty.calls[failAt - 1]})`).toEqual(
          expected,
        );
      }
    },
    120_000,
  );

  it('paused at every segment (a deadline each time): the same outputs, byte for byte', async () => {
    const expected = await uninterrupted();
    const { store, jobs } = await jobWithParts();
    let steps = 0;
    for (;;) {
      steps += 1;
      const step = await finalizeStep({ store, jobs }, JOB, { limits: LIMITS, shouldPause: () => true });
      if (step.summary) break;
      expect(step.paused.parts).toBe(PARTS);
    }
    expect(steps).toBeGreaterThan(5);
    expect(await outputsOf(store, jobs)).toEqual(expected);
  });

  it('an interrupted finalize continues without re-reading finished parts', async () => {
    const { store, jobs } = await jobWithParts();
    const first = await finalizeStep({ store, jobs }, JOB, { limits: LIMITS, shouldPause: () => true });
    expect(first.summary).toBeNull();
    const partsDone = first.paused?.partsDone ?? 0;
    expect(partsDone).toBeGreaterThan(0);
    expect(partsDone).toBeLessThan(PARTS);

    const counting = faultyStore(store, 0, 'before');
    await finalizeJob({ store: counting.store, jobs }, JOB, undefined, LIMITS);
    const partReads = counting.calls.filter((call) => call.startsWith('get ') && call.includes('/parts/'));
    expect(partReads).toEqual(
      Array.from(
        { length: PARTS - partsDone },
        (_, i) => `get ${jobKeys.part(JOB, chunkIdAt(partsDone + i))}`,
      ),
    );
  });

  it('a crash after _SUCCESS: the next run only finishes the job state and the cleanup', async () => {
    const expected = await uninterrupted();
    const { store, jobs } = await jobWithParts();
    const probe = faultyStore(store, 0, 'before');
    // The job state is set after _SUCCESS: make it fail once.
    const finish = jobs.finish.bind(jobs);
    let failures = 1;
    jobs.finish = async (...args) => {
      if (failures-- > 0) throw new Crash('job table unreachable');
      return finish(...args);
    };
    await expect(finalizeStep({ store: probe.store, jobs }, JOB, { limits: LIMITS })).rejects.toThrow(Crash);
    expect(store.objects.has(jobKeys.success(JOB))).toBe(true);
    const again = faultyStore(store, 0, 'before');
    await finalizeJob({ store: again.store, jobs }, JOB, undefined, LIMITS);
    expect(again.calls.some((call) => call.includes('/parts/'))).toBe(false);
    expect(await outputsOf(store, jobs)).toEqual(expected);
  });
});
