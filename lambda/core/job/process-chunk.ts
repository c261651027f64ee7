import { type ChunkMessage, isComplete, type JobStore, type ObjectStore } from '../../adapters/ports.js';
import type { FetchEngine } from '../fetch/engine.js';
import type { ResultRecord } from '../record.js';
import { encodeJsonlGz } from './jsonl.js';
import { jobKeys } from './keys.js';

export interface WorkerDeps {
  store: ObjectStore;
  jobs: JobStore;
  engine: FetchEngine;
  /** Called for each record this worker produced (progress). */
  onRecord?: (record: ResultRecord) => void;
}

export interface ChunkOutcome {
  /** 'written': this worker's part was stored; 'exists': a part was already there (a redelivery). */
  part: 'written' | 'exists';
  records: number;
  /** True when this worker claimed the job's finalize and must run it. */
  claimedFinalize: boolean;
}

/**
 * Fetches one chunk and stores its part exactly once. The chunk counts as done only
 * after a part exists under its key, and counting is idempotent per chunk, so a
 * redelivered or duplicated message never loses nor double-counts a chunk.
 */
export async function processChunk(
  deps: WorkerDeps,
  message: ChunkMessage,
  signal?: AbortSignal,
): Promise<ChunkOutcome> {
  const { jobId, chunkId } = message;
  const key = jobKeys.part(jobId, chunkId);
  let part: ChunkOutcome['part'] = 'exists';
  let records = 0;
  if (!(await deps.store.exists(key))) {
    const results = await deps.engine.fetchAll(message.items, signal);
    if (deps.onRecord) for (const record of results) deps.onRecord(record);
    records = results.length;
    part = (await deps.store.putIfAbsent(key, encodeJsonlGz(results), 'application/gzip'))
      ? 'written'
      : 'exists';
  }
  const progress = await deps.jobs.markChunkDone(jobId, chunkId);
  const claimedFinalize = isComplete(progress) && (await deps.jobs.claimFinalize(jobId));
  return { part, records, claimedFinalize };
}
