import { FETCH_ERROR_CODES } from '../errors.js';
import type { ObjectStore } from '../ports.js';
import type { ResultRecord } from '../record.js';
import type { JobSummary } from '../summary.js';
import { decodeJsonlGz, encodeJsonlGz } from './jsonl.js';
import { jobKeys } from './keys.js';
import { digestOfPart, readPart } from './part-file.js';

/** What reopening a job found. */
export interface Reopened {
  /** The time the job's earlier runs took, as its last summary.json says (0 without one). */
  earlierRunsMs: number;
  /** Chunks whose CANCELLED URLs will be fetched again. */
  chunks: number;
  /** URLs recorded as CANCELLED before, to be fetched again. */
  cancelled: number;
}

const PART = /\/parts\/(\d+)\.jsonl\.gz$/;
const { CANCELLED } = FETCH_ERROR_CODES;

/**
 * Readies an existing job for a re-run of the same request, before any chunk is sent: a
 * part that holds CANCELLED records becomes a checkpoint of its other records and is
 * removed, so the chunk is fetched again from there (what was fetched is kept, what was
 * cancelled is fetched); the outputs of the last finalize go, _SUCCESS first, since they
 * no longer describe the job. Safe to repeat if it is itself interrupted: a checkpoint is
 * written before its part is removed.
 */
export async function reopenJob(store: ObjectStore, jobId: string): Promise<Reopened> {
  const data = await store.get(jobKeys.summary(jobId));
  const last = data ? (JSON.parse(data.toString('utf8')) as Partial<JobSummary>) : null;
  const earlierRunsMs = last?.wallMs ?? 0;
  await store.delete(jobKeys.success(jobId));
  // The fan-in's checkpoint too: it describes the parts before this reopen.
  for (const key of [
    jobKeys.results,
    jobKeys.summary,
    jobKeys.report,
    jobKeys.failed,
    jobKeys.finalizeCheckpoint,
  ]) {
    await store.delete(key(jobId));
  }
  const reopened: Reopened = { earlierRunsMs, chunks: 0, cancelled: 0 };
  // A finalized run that cancelled nothing left no part to reopen: no need to read them all.
  // Without a summary (a run that quit before finalizing), any part may hold CANCELLED records.
  if (last && last.urls?.cancelled === 0) return reopened;
  for (const key of await store.list(`${jobKeys.prefix(jobId)}parts/`)) {
    const chunkId = PART.exec(key)?.[1];
    const data = chunkId === undefined ? null : await store.get(key);
    if (chunkId === undefined || !data) continue;
    const part = readPart(data);
    if (!digestOfPart(part).summary.errors[CANCELLED]) continue;
    const records = decodeJsonlGz<ResultRecord>(part.member);
    const kept = records.filter((record) => record.error?.code !== CANCELLED);
    await store.put(jobKeys.checkpoint(jobId, chunkId), encodeJsonlGz(kept), 'application/gzip');
    await store.delete(key);
    // A WARC chunk is fetched again whole (its records name the WARC), so its WARC goes too.
    await store.delete(jobKeys.warc(jobId, chunkId));
    reopened.chunks += 1;
    reopened.cancelled += records.length - kept.length;
  }
  return reopened;
}
