import { describe, expect, it } from 'vitest';
import { chunkIdAt } from '../../lambda/core/chunker.js';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { encodePart } from '../../lambda/core/job/part-file.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { makeDispatcherHandler } from '../../lambda/handlers/dispatcher.js';
import { makeRecord } from '../helpers/factories.js';
import { memoryServices } from '../helpers/memory-services.js';

const PARTS = 6;

/** A job whose chunks are all done and whose finalize was claimed, as a worker leaves it. */
async function claimedJob() {
  const s = memoryServices({ FANOUT_DISPATCH_MARGIN_MS: '60000' });
  const options = resolveOptions({ chunkSize: 2 });
  const submittedAt = new Date().toISOString();
  await s.store.put(
    jobKeys.request('j'),
    JSON.stringify({ jobId: 'j', source: 'x', format: 'auto', options, submittedAt }),
  );
  await s.store.put(
    jobKeys.manifest('j'),
    JSON.stringify({ jobId: 'j', lines: 12, accepted: 12, invalid: 0, chunks: PARTS, chunkSize: 2 }),
  );
  await s.jobs.create('j', new Date(submittedAt));
  await s.jobs.setTotal('j', { chunks: PARTS, accepted: 12, invalid: 0 });
  for (let index = 0; index < PARTS; index += 1) {
    const records = [1, 2].map((n) => makeRecord({ line: index * 2 + n }));
    await s.store.put(jobKeys.part('j', chunkIdAt(index)), encodePart(records).data);
    await s.jobs.markChunkDone('j', chunkIdAt(index));
  }
  expect(await s.jobs.claimFinalize('j')).toBe(true);
  return s;
}

const context = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('the fan-in invocation of the dispatcher function', () => {
  it('short of time, it saves its checkpoint and starts the next invocation, which finishes the job', async () => {
    const s = await claimedJob();
    const handler = makeDispatcherHandler(() => s);
    // Less than FANOUT_DISPATCH_MARGIN_MS left: the run merges a segment, then hands over.
    await handler({ jobId: 'j', finalize: true }, context(30_000));
    expect(s.finalizes).toEqual(['j']);
    expect(await s.store.exists(jobKeys.finalizeCheckpoint('j'))).toBe(true);
    expect(await s.store.exists(jobKeys.results('j'))).toBe(false);
    expect(s.announced).toEqual([]);

    await handler({ jobId: 'j', finalize: true }, context(900_000));
    expect((await s.jobs.get('j'))?.status).toBe('succeeded');
    const results = decodeJsonlGz<ResultRecord>((await s.store.get(jobKeys.results('j'))) ?? Buffer.alloc(0));
    expect(results.map((r) => r.line)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(s.announced.map((summary) => summary.jobId)).toEqual(['j']);
    expect(s.store.keys('jobs/j/finalize/')).toEqual([]);
  });
});
