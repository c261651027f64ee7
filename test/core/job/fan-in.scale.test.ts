import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { chunkIdAt } from '../../../lambda/core/chunker.js';
import { finalizeStep } from '../../../lambda/core/job/finalize.js';
import type { JobManifest, JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonl, decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { encodePart } from '../../../lambda/core/job/part-file.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { makeFailure, makeRecord } from '../../helpers/factories.js';

const JOB = 'hundred-thousand';
const PARTS = 100_000;

describe('a job of 100,000 tiny chunks', () => {
  it('finalizes in steps: every record once, in input order, with its summary and failed lines', async () => {
    const store = new MemoryObjectStore();
    const jobs = new MemoryJobStore();
    const request: JobRequest = {
      jobId: JOB,
      source: 'list.txt',
      format: 'text',
      options: resolveOptions({ chunkSize: 1 }),
      submittedAt: '2026-12-02T10:00:00.000Z',
    };
    const manifest: JobManifest = {
      jobId: JOB,
      lines: PARTS,
      accepted: PARTS,
      invalid: 0,
      chunks: PARTS,
      chunkSize: 1,
      dispatchedAt: '2026-12-02T10:00:01.000Z',
    };
    await store.put(jobKeys.request(JOB), JSON.stringify(request));
    await store.put(jobKeys.manifest(JOB), JSON.stringify(manifest));
    await jobs.create(JOB, new Date(request.submittedAt));
    await jobs.setTotal(JOB, { chunks: PARTS, accepted: PARTS, invalid: 0 });
    for (let index = 0; index < PARTS; index += 1) {
      const line = index + 1;
      const url = `https://h${index % 997}.example/${line}`;
      const record = line % 100 === 0 ? makeFailure('DNS', { line, url }) : makeRecord({ line, url });
      store.objects.set(jobKeys.part(JOB, chunkIdAt(index)), encodePart([record]).data);
    }

    // A deadline after every segment of 256 KiB: the fan-in goes on over many invocations.
    let runs = 0;
    for (;;) {
      runs += 1;
      const step = await finalizeStep({ store, jobs }, JOB, {
        shouldPause: () => true,
        limits: { segmentBytes: 256 * 1024 },
      });
      if (step.summary) {
        expect(step.summary.urls).toMatchObject({ accepted: PARTS, ok: PARTS - 1000, failed: 1000 });
        break;
      }
    }
    expect(runs).toBeGreaterThan(10);
    const results = decodeJsonlGz<ResultRecord>(store.objects.get(jobKeys.results(JOB)) ?? Buffer.alloc(0));
    expect(results).toHaveLength(PARTS);
    results.forEach((record, index) => {
      if (record.line !== index + 1) expect(record.line).toBe(index + 1);
    });
    const failed = decodeJsonl<{ url: string }>(
      store.objects.get(jobKeys.failed(JOB))?.toString('utf8') ?? '',
    );
    expect(failed.map((l) => Number(l.url.split('/').pop()))).toEqual(
      Array.from({ length: 1000 }, (_, i) => (i + 1) * 100),
    );
    expect((await jobs.get(JOB))?.status).toBe('completed_with_errors');
    expect(store.keys(`jobs/${JOB}/finalize/`)).toEqual([]);
  }, 120_000);
});
