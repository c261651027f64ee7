import { MemoryChunkQueue } from '../adapters/memory-chunk-queue.js';
import { MemoryJobStore } from '../adapters/memory-job-store.js';
import type { Resolver } from '../core/address/guarded-lookup.js';
import { FetchEngine } from '../core/fetch/engine.js';
import { objectRobotsStore } from '../core/fetch/robots-gate.js';
import { localReferences } from '../core/headers/header-values.js';
import type { InputFormat } from '../core/input/parse-input.js';
import { dispatchJob } from '../core/job/dispatch.js';
import { type FinalizeTiming, finalizeJob } from '../core/job/finalize.js';
import type { JobManifest } from '../core/job/job-request.js';
import { jobKeys } from '../core/job/keys.js';
import { processChunk } from '../core/job/process-chunk.js';
import { reopenJob } from '../core/job/reopen.js';
import type { JobOptions } from '../core/job-options.js';
import type { ObjectStore } from '../core/ports.js';
import type { ResultRecord } from '../core/record.js';
import type { JobSummary } from '../core/summary.js';

/** Progress of a local run, reported as it goes. */
export interface LocalProgress {
  /** URLs accepted from the input so far (the total, once dispatch is done). */
  accepted: number;
  dispatchDone: boolean;
  /** URLs with a record. */
  done: number;
  /** Records with an error. */
  failed: number;
}

export interface LocalJob {
  jobId: string;
  source: string;
  format: InputFormat;
  options: JobOptions;
  input: AsyncIterable<Uint8Array>;
  /** sha256 of the input as read: part of the job's identity, so a re-run with another list is refused. */
  inputDigest?: string;
  store: ObjectStore;
  resolver?: Resolver;
  /** Cancels the job: URLs not yet finished end as CANCELLED, and the job still finalizes. */
  signal?: AbortSignal;
  onProgress?: (progress: LocalProgress) => void;
}

export interface LocalResult {
  summary: JobSummary;
  manifest: JobManifest;
}

/**
 * How many chunks a local run fetches at once (one worker each): enough for twice the
 * concurrency, so every slot stays busy while a worker waits for its chunk's slowest
 * URLs and writes its part.
 */
export function chunksInHand(options: Pick<JobOptions, 'concurrency' | 'chunkSize'>): number {
  return Math.max(2, Math.ceil((2 * options.concurrency) / options.chunkSize) + 1);
}

/**
 * The whole pipeline in one process: the dispatcher feeds a bounded in-memory queue,
 * several workers fetch chunks from it through one engine, and whoever counts the
 * last chunk finalizes, exactly as the Lambdas do with SQS and DynamoDB.
 *
 * Running a job id again with the same request resumes the job: its parts are kept, the
 * URLs a cancel left unfetched are fetched (see reopenJob), and its wall time adds this
 * run's. A cancelled run (the caller's signal) still finalizes, with status cancelled.
 */
export async function runLocalJob(job: LocalJob): Promise<LocalResult> {
  const { options, store } = job;
  const timing: FinalizeTiming = { runStartedAt: new Date(), earlierRunsMs: 0 };
  // A re-run reads each chunk's checkpoint (what a cancelled run fetched); a new job has none.
  let resumed = false;
  // Aborted by the caller's signal, or by this run when any part of it fails. A plain
  // signal, not AbortSignal.any: every URL reads it, and a composite one costs more to read.
  const stop = new AbortController();
  const signal = stop.signal;
  const jobs = new MemoryJobStore();
  // The job state says it was cancelled, as a cancel request does on AWS: chunks not yet
  // started are recorded as CANCELLED without a fetch, and finalize ends the job cancelled.
  const onCallerAbort = () => {
    stop.abort(job.signal?.reason);
    void jobs.requestCancel(job.jobId);
  };
  if (job.signal?.aborted) onCallerAbort();
  else job.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const workerCount = chunksInHand(options);
  const queue = new MemoryChunkQueue(workerCount);
  const storeBody = (sha256: string, body: Buffer) =>
    store.putIfAbsent(jobKeys.body(job.jobId, sha256), body).then(() => {});
  const progress: LocalProgress = { accepted: 0, dispatchDone: false, done: 0, failed: 0 };
  const report = () => job.onProgress?.({ ...progress });
  // URLs are counted as each finishes (the engine's onRecord), not as each chunk does: a
  // chunk may take the whole run. A record made without a fetch (the job was cancelled
  // before its chunk began) counts when its chunk hands it over.
  const counted = new WeakSet<ResultRecord>();
  const countRecord = (record: ResultRecord) => {
    counted.add(record);
    progress.done += 1;
    if (record.error) progress.failed += 1;
    report();
  };
  const engine = new FetchEngine({
    options,
    storeBody,
    onRecord: countRecord,
    robotsStore: objectRobotsStore(store, job.jobId),
    readReference: localReferences(),
    ...(job.resolver && { resolver: job.resolver }),
  });
  let finalized: Promise<JobSummary> | null = null;
  const finalize = () => {
    finalized ??= (async () => {
      // A cancel that came before the job state existed is recorded now.
      if (job.signal?.aborted) await jobs.requestCancel(job.jobId);
      return finalizeJob({ store, jobs }, job.jobId, timing);
    })();
    return finalized;
  };

  const worker = async () => {
    for (let message = await queue.receive(); message; message = await queue.receive()) {
      let handed = 0;
      const handOver = (record: ResultRecord) => {
        handed += 1;
        if (!counted.has(record)) countRecord(record);
      };
      const outcome = await processChunk({ store, jobs, engine, onRecord: handOver }, message, {
        signal,
        firstDelivery: !resumed,
      });
      // URLs done without a record made now: a part or checkpoint an earlier run left.
      progress.done += message.items.length - handed;
      report();
      if (outcome.claimedFinalize) await finalize();
    }
  };
  const dispatch = async () => {
    try {
      const result = await dispatchJob(
        { store, queue, jobs },
        {
          jobId: job.jobId,
          source: job.source,
          format: job.format,
          options,
          submittedAt: timing.runStartedAt.toISOString(),
          ...(job.inputDigest && { inputDigest: job.inputDigest }),
        },
        job.input,
        {
          // One engine fetches the whole job here, so its limits hold without host groups: one
          // group keeps the chunks (and so the results) in input order.
          hostGroups: 1,
          onClaimed: async (created) => {
            if (created) return;
            resumed = true;
            timing.earlierRunsMs = (await reopenJob(store, job.jobId)).earlierRunsMs;
          },
          onChunk: (chunk) => {
            progress.accepted += chunk.items.length;
            report();
          },
        },
      );
      progress.dispatchDone = true;
      report();
      if (result.claimedFinalize) await finalize();
      return result.manifest;
    } finally {
      queue.close();
    }
  };

  try {
    const workers = Array.from({ length: workerCount }, worker);
    const [manifest] = await Promise.all([dispatch(), ...workers]);
    if (!finalized) throw new Error(`job ${job.jobId} ended without a finalize`);
    const summary = await finalized;
    // Every chunk has its part now: what a cancel left to resume from is spent.
    if (resumed) {
      for (const key of await store.list(`${jobKeys.prefix(job.jobId)}checkpoints/`)) await store.delete(key);
    }
    return { summary, manifest };
  } catch (err) {
    stop.abort();
    queue.close();
    await jobs.finish(job.jobId, 'failed', err instanceof Error ? err.message : String(err)).catch(() => {});
    throw err;
  } finally {
    job.signal?.removeEventListener('abort', onCallerAbort);
    await engine.close();
  }
}
