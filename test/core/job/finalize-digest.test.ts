import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { chunkIdAt } from '../../../lambda/core/chunker.js';
import { finalizeJob } from '../../../lambda/core/job/finalize.js';
import type { JobManifest, JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonl, decodeJsonlGz, encodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { encodePart } from '../../../lambda/core/job/part-file.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import { type ResultRecord, toFailedLine } from '../../../lambda/core/record.js';
import { ReportBuilder } from '../../../lambda/core/report/report-builder.js';
import { SummaryAccumulator } from '../../../lambda/core/summary.js';
import { sampleRecords } from '../report/sample-job.js';

const JOB = 'digest-job';
const CHUNK = 250;
const records = sampleRecords(2400, 5);
const chunks = Math.ceil(records.length / CHUNK);

type PartStyle = 'digest' | 'records' | 'mixed';

const request: JobRequest = {
  jobId: JOB,
  source: 'list.txt',
  format: 'text',
  options: resolveOptions({ chunkSize: CHUNK }),
  submittedAt: '2026-12-02T10:00:00.000Z',
};

/** A job whose parts are all written, in one style, ready to finalize. */
async function jobWithParts(style: PartStyle) {
  const store = new MemoryObjectStore();
  const jobs = new MemoryJobStore();
  const manifest: JobManifest = {
    jobId: JOB,
    lines: records.length,
    accepted: records.length,
    invalid: 0,
    chunks,
    chunkSize: CHUNK,
    dispatchedAt: '2026-12-02T10:00:01.000Z',
  };
  await store.put(jobKeys.request(JOB), JSON.stringify(request));
  await store.put(jobKeys.manifest(JOB), JSON.stringify(manifest));
  await jobs.create(JOB, new Date(request.submittedAt));
  for (let index = 0; index < chunks; index += 1) {
    const part = records.slice(index * CHUNK, (index + 1) * CHUNK);
    const withDigest = style === 'digest' || (style === 'mixed' && index % 2 === 0);
    await store.put(
      jobKeys.part(JOB, chunkIdAt(index)),
      withDigest ? encodePart(part).data : encodeJsonlGz(part),
    );
  }
  return { store, jobs };
}

async function finalized(style: PartStyle) {
  const { store, jobs } = await jobWithParts(style);
  const summary = await finalizeJob({ store, jobs }, JOB);
  const text = (key: string) => store.objects.get(key)?.toString('utf8');
  return {
    summary,
    results: decodeJsonlGz<ResultRecord>(store.objects.get(jobKeys.results(JOB)) ?? Buffer.alloc(0)),
    resultsBytes: store.objects.get(jobKeys.results(JOB)),
    failed: text(jobKeys.failed(JOB)),
    report: text(jobKeys.report(JOB)),
    status: (await jobs.get(JOB))?.status,
  };
}

describe('finalize from part digests', () => {
  // One clock for every run, so summaries and reports can be compared whole.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-02T10:00:42.000Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('writes the summary, failed lines and report that counting every record one by one gives', async () => {
    // Computed here without digests: every record through the accumulators, in order.
    const acc = new SummaryAccumulator();
    const builder = new ReportBuilder();
    for (const record of records) {
      acc.add(record);
      builder.add(record);
    }
    const expected = acc.toSummary({
      jobId: JOB,
      invalid: 0,
      chunks,
      startedAt: new Date('2026-12-02T10:00:00.000Z'),
      finishedAt: new Date(),
    });
    const expectedFailed = records.flatMap((r) => {
      const line = toFailedLine(r);
      return line ? [`${JSON.stringify(line)}\n`] : [];
    });

    const fromDigests = await finalized('digest');
    expect(fromDigests.results).toEqual(records);
    expect(fromDigests.summary).toEqual(expected);
    expect(fromDigests.failed).toBe(expectedFailed.join(''));
    expect(fromDigests.report).toBe(
      builder.render({ summary: expected, request, invalid: { lines: 0, codes: [] } }),
    );
    expect(fromDigests.status).toBe('completed_with_errors');
  });

  it('writes the same results bytes from parts with digests as from parts without', async () => {
    const fromRecords = await finalized('records');
    const fromDigests = await finalized('digest');
    expect(fromRecords.results).toEqual(records);
    // Stripped of their header field, parts concatenate to the same bytes.
    expect(fromDigests.resultsBytes).toEqual(fromRecords.resultsBytes);
    expect(fromDigests.summary).toEqual(fromRecords.summary);
    expect(fromDigests.report).toBe(fromRecords.report);
  });

  it('mixes parts with and without digests (a job that spans an upgrade)', async () => {
    const fromRecords = await finalized('records');
    const mixed = await finalized('mixed');
    expect(mixed.summary).toEqual(fromRecords.summary);
    expect(mixed.failed).toBe(fromRecords.failed);
    expect(mixed.report).toBe(fromRecords.report);
    expect(mixed.results).toEqual(records);
  });

  it('lists every failure, resubmittable, in record order', async () => {
    const { failed, summary } = await finalized('digest');
    const lines = decodeJsonl<{ url: string; error: { code: string } }>(failed ?? '');
    const expected = records.filter((r) => r.error !== null);
    expect(lines.map((l) => l.url)).toEqual(expected.map((r) => r.url));
    expect(summary.urls.failed).toBe(expected.length);
  });

  it('refuses a job whose digests count fewer records than were accepted', async () => {
    const { store, jobs } = await jobWithParts('digest');
    await store.put(jobKeys.part(JOB, chunkIdAt(3)), encodePart(records.slice(0, 10)).data);
    await expect(finalizeJob({ store, jobs }, JOB)).rejects.toThrow(/records for 2400 accepted URLs/);
  });

  it('names a missing part', async () => {
    const { store, jobs } = await jobWithParts('digest');
    store.objects.delete(jobKeys.part(JOB, chunkIdAt(7)));
    await expect(finalizeJob({ store, jobs }, JOB)).rejects.toThrow(
      `${jobKeys.part(JOB, chunkIdAt(7))} is missing although its chunk was counted`,
    );
  });
});
