/** reopenJob: what a local re-run of a cancelled job starts from. */
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { encodePart } from '../../../lambda/core/job/part-file.js';
import { reopenJob } from '../../../lambda/core/job/reopen.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { makeFailure, makeRecord } from '../../helpers/factories.js';

const JOB = 'j';
const ok = (line: number) => makeRecord({ line, url: `https://e.com/${line}` });
const failed = (line: number) => makeFailure('DNS', { line, url: `https://e.com/${line}` });
const cancelled = (line: number) => makeFailure('CANCELLED', { line, url: `https://e.com/${line}` });

function jobWith(parts: ResultRecord[][]): MemoryObjectStore {
  const store = new MemoryObjectStore();
  parts.forEach((records, index) => {
    store.objects.set(jobKeys.part(JOB, String(index).padStart(8, '0')), encodePart(records).data);
  });
  for (const key of [jobKeys.results, jobKeys.report, jobKeys.failed, jobKeys.success, jobKeys.request]) {
    store.objects.set(key(JOB), Buffer.from('x'));
  }
  store.objects.set(jobKeys.summary(JOB), Buffer.from(JSON.stringify({ wallMs: 1234 })));
  return store;
}

describe('reopenJob', () => {
  it('turns each part holding CANCELLED records into a checkpoint of the others, and removes it', async () => {
    const store = jobWith([
      [ok(1), cancelled(2), failed(3)],
      [ok(4), failed(5)],
      [cancelled(6), cancelled(7)],
    ]);
    const reopened = await reopenJob(store, JOB);
    expect(reopened).toEqual({ earlierRunsMs: 1234, chunks: 2, cancelled: 3 });
    expect(store.keys(`jobs/${JOB}/parts/`)).toEqual([jobKeys.part(JOB, '00000001')]);
    const checkpoint = (chunk: string) =>
      decodeJsonlGz<ResultRecord>(store.objects.get(jobKeys.checkpoint(JOB, chunk)) ?? Buffer.alloc(0));
    expect(checkpoint('00000000').map((r) => [r.line, r.error?.code ?? null])).toEqual([
      [1, null],
      [3, 'DNS'],
    ]);
    expect(checkpoint('00000002')).toEqual([]);
    expect(store.objects.has(jobKeys.checkpoint(JOB, '00000001'))).toBe(false);
  });

  it("removes the last finalize's outputs and keeps job.json", async () => {
    const store = jobWith([[ok(1)]]);
    await reopenJob(store, JOB);
    expect(store.keys(`jobs/${JOB}/`)).toEqual([jobKeys.request(JOB), jobKeys.part(JOB, '00000000')]);
  });

  it('a job without a summary (its last run quit at once) ran 0 ms before', async () => {
    const store = new MemoryObjectStore();
    store.objects.set(jobKeys.part(JOB, '00000000'), encodePart([cancelled(1)]).data);
    expect(await reopenJob(store, JOB)).toEqual({ earlierRunsMs: 0, chunks: 1, cancelled: 1 });
  });
});
