import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { chunkIdAt } from '../chunker.js';
import type { JobStore, ObjectStore } from '../ports.js';
import { tallyInvalidLines } from '../report/invalid-lines.js';
import { ReportBuilder } from '../report/report-builder.js';
import { type JobSummary, SummaryAccumulator } from '../summary.js';
import type { JobManifest, JobRequest } from './job-request.js';
import { jobKeys } from './keys.js';
import { digestOfPart, readPart } from './part-file.js';
import { PartReader } from './part-reader.js';

export interface FinalizeDeps {
  store: ObjectStore;
  jobs: JobStore;
}

/** How long a job ran, when it ran more than once (a local re-run). */
export interface FinalizeTiming {
  /** When this run started. */
  runStartedAt: Date;
  /** The time the job's earlier runs took (ms). */
  earlierRunsMs: number;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T> {
  const data = await store.get(key);
  if (!data) throw new Error(`${key} is missing`);
  return JSON.parse(data.toString('utf8')) as T;
}

/**
 * Gathers a job's parts, in chunk order, into results.jsonl.gz (the parts' gzip
 * members concatenated, so nothing is recompressed), failed.jsonl, summary.json and
 * report.html, then writes _SUCCESS last. Only the caller that claimed finalize runs this.
 * Without `timing`, the job ran once, from its submission until now.
 */
export async function finalizeJob(
  deps: FinalizeDeps,
  jobId: string,
  timing?: FinalizeTiming,
): Promise<JobSummary> {
  const { store } = deps;
  const request = await readJson<JobRequest>(store, jobKeys.request(jobId));
  const manifest = await readJson<JobManifest>(store, jobKeys.manifest(jobId));
  const summary = new SummaryAccumulator();
  const report = new ReportBuilder();
  const failed = new PassThrough();
  const failedUpload = store.putStream(jobKeys.failed(jobId), failed, 'application/x-ndjson');

  async function* parts(): AsyncGenerator<Buffer> {
    // With no chunks, an empty gzip member keeps results.jsonl.gz a valid (empty) gzip file.
    if (manifest.chunks === 0) yield gzipSync(Buffer.alloc(0));
    const ahead = new PartReader(store, (index) => jobKeys.part(jobId, chunkIdAt(index)), manifest.chunks);
    for (let index = 0; index < manifest.chunks; index += 1) {
      const part = readPart(await ahead.next());
      yield part.member;
      const digest = digestOfPart(part);
      summary.merge(digest.summary);
      report.merge(digest.report);
      for (const line of digest.failed) {
        if (!failed.write(`${JSON.stringify(line)}\n`)) await once(failed, 'drain');
      }
    }
  }

  try {
    await store.putStream(jobKeys.results(jobId), parts(), 'application/gzip');
    failed.end();
    await failedUpload;
  } catch (err) {
    failed.destroy();
    await failedUpload.catch(() => {});
    throw err;
  }
  if (summary.recordCount !== manifest.accepted) {
    throw new Error(`job ${jobId}: ${summary.recordCount} records for ${manifest.accepted} accepted URLs`);
  }
  // A cancelled job still gets every result (the rest as CANCELLED); its status says it was cancelled.
  const cancelled = (await deps.jobs.get(jobId))?.cancelRequested === true;
  const finishedAt = new Date();
  const result = summary.toSummary({
    jobId,
    invalid: manifest.invalid,
    duplicates: manifest.duplicates ?? 0,
    chunks: manifest.chunks,
    startedAt: new Date(request.submittedAt),
    finishedAt,
    ...(timing && {
      wallMs: timing.earlierRunsMs + finishedAt.getTime() - timing.runStartedAt.getTime(),
    }),
    cancelled,
  });
  await store.put(jobKeys.summary(jobId), `${JSON.stringify(result, null, 2)}\n`, 'application/json');
  const invalid = await tallyInvalidLines(await store.get(jobKeys.invalid(jobId)));
  await store.put(
    jobKeys.report(jobId),
    report.render({ summary: result, request, invalid }),
    'text/html; charset=utf-8',
  );
  await store.put(jobKeys.success(jobId), '', 'text/plain');
  await deps.jobs.finish(jobId, result.status);
  return result;
}
