import { FanoutError } from '../errors.js';
import type { FetchEngine } from '../fetch/engine.js';
import type { HostPaceState } from '../fetch/host-pace.js';
import { hostNameOf } from '../host-group.js';
import {
  type ChunkCounts,
  type ChunkMessage,
  isComplete,
  type JobStore,
  type ObjectStore,
} from '../ports.js';
import { blankRecord, type InputItem, type ResultRecord } from '../record.js';
import type { ChunkWarc } from '../warc/chunk-warc.js';
import { decodeJsonlGz, encodeJsonlGz } from './jsonl.js';
import { jobKeys } from './keys.js';
import type { PartDigest } from './part-digest.js';
import { digestOfPart, encodePart, readPart } from './part-file.js';

export interface WorkerDeps {
  store: ObjectStore;
  jobs: JobStore;
  engine: FetchEngine;
  /** Called for each record this worker produced (progress). */
  onRecord?: (record: ResultRecord) => void;
}

export interface ChunkOptions {
  /** Cancels the URLs in flight; they are recorded as CANCELLED. */
  signal?: AbortSignal;
  /**
   * Fires when this worker must stop (the Lambda deadline is near): the URLs it finished
   * are saved as a checkpoint, the others are left for the next delivery of the message,
   * and processChunk throws ChunkDeadlineError.
   */
  deadline?: AbortSignal;
  /**
   * The message has not been delivered before, so no worker can have left a checkpoint
   * for it: skip looking for one (one object read less per chunk). A copy delivered
   * alongside may have left one; skipping it then only costs a refetch, never a record.
   */
  firstDelivery?: boolean;
  /**
   * How often to look for a cancel request while the chunk is fetched (ms); the URLs not
   * finished then end as CANCELLED. Without it, a cancel is seen only when a chunk starts.
   */
  cancelPollMs?: number;
  /** How long a finalize claim holds before another worker may take it over (ms). */
  finalizeLeaseMs?: number;
  /**
   * Hand the pace of the chunk's hosts (a slow-down after 429/503, the spacing of the last
   * start) on to the host group's next owner: read it before fetching, save it after. For a
   * fleet of workers, each with its own engine; one engine for a whole job needs none.
   */
  handOverPace?: boolean;
}

export interface ChunkOutcome {
  /** 'written': this worker's part was stored; 'exists': a part was already there (a redelivery). */
  part: 'written' | 'exists';
  records: number;
  /** True when this worker claimed the job's finalize and must start the fan-in (never run it in its tail). */
  claimedFinalize: boolean;
}

/** The worker ran out of time; the message must be delivered again (nothing is lost). */
export class ChunkDeadlineError extends FanoutError {
  constructor(chunkId: string, finished: number, total: number) {
    super(
      'CHUNK_DEADLINE',
      `chunk ${chunkId}: ${finished} of ${total} URLs done before the deadline; the rest resume later`,
    );
    this.name = 'ChunkDeadlineError';
  }
}

/**
 * Fetches one chunk and stores its part exactly once. The chunk counts as done only
 * after a part exists under its key, and counting is idempotent per chunk, so a
 * redelivered or duplicated message never loses nor double-counts a chunk.
 */
export async function processChunk(
  deps: WorkerDeps,
  message: ChunkMessage,
  options: ChunkOptions = {},
): Promise<ChunkOutcome> {
  const { jobId, chunkId } = message;
  const key = jobKeys.part(jobId, chunkId);
  let part: ChunkOutcome['part'] = 'exists';
  let records = 0;
  let counts: ChunkCounts | null = null;
  if (!(await deps.store.exists(key))) {
    // warcio is loaded only by WARC jobs: it adds ~40 ms to every start-up otherwise.
    const archiving = message.options.body === 'warc' ? await import('../warc/store-chunk-warc.js') : null;
    const warc = archiving ? await archiving.openChunkWarc(message) : null;
    let results: ResultRecord[];
    try {
      results = await fetchChunk(deps, message, options, warc);
      // The WARC stored first: the part then names the records of the WARC that was kept.
      if (archiving && warc) results = await archiving.storeChunkWarc(deps.store, message, warc, results);
    } finally {
      await warc?.discard();
    }
    records = results.length;
    const encoded = encodePart(results);
    const written = await deps.store.putIfAbsent(key, encoded.data, 'application/gzip');
    if (written) counts = countsOf(encoded.digest);
    part = written ? 'written' : 'exists';
  }
  // The part another delivery wrote is the one that counts, so its URLs are counted.
  counts ??= countsOf(digestOfPart(readPart((await deps.store.get(key)) ?? Buffer.alloc(0))));
  const progress = await deps.jobs.markChunkDone(jobId, chunkId, counts);
  const claimedFinalize =
    isComplete(progress) && (await deps.jobs.claimFinalize(jobId, options.finalizeLeaseMs));
  return { part, records, claimedFinalize };
}

function countsOf(digest: PartDigest): ChunkCounts {
  return { urls: digest.summary.records, failed: digest.summary.failed };
}

/** Records for every item of the chunk, in item order, resuming from a checkpoint. */
async function fetchChunk(
  deps: WorkerDeps,
  message: ChunkMessage,
  options: ChunkOptions,
  warc: ChunkWarc | null,
): Promise<ResultRecord[]> {
  const { jobId, chunkId, items } = message;
  // A checkpoint's records name a WARC that was never stored: a WARC chunk starts over.
  const saved =
    options.firstDelivery || warc ? null : await deps.store.get(jobKeys.checkpoint(jobId, chunkId));
  const done = new Map<number, ResultRecord>();
  if (saved) for (const record of decodeJsonlGz<ResultRecord>(saved)) done.set(record.line, record);
  const todo = items.filter((item) => !done.has(item.line));

  let fresh: ResultRecord[];
  if (await deps.jobs.isCancelRequested(jobId)) {
    fresh = todo.map(cancelledRecord);
  } else {
    const cancel = watchForCancel(deps.jobs, jobId, options.cancelPollMs);
    const pace = options.handOverPace ? await takeOverPace(deps, message) : null;
    try {
      const signal = anySignal(options.signal, options.deadline, cancel.signal);
      fresh = await deps.engine.fetchAll(todo, signal, warc ?? undefined);
    } finally {
      cancel.stop();
      await pace?.handOver(todo);
    }
  }

  const unfinished: InputItem[] = [];
  fresh.forEach((record, index) => {
    const item = todo[index] as InputItem;
    // URLs cut off by the worker's own deadline are not results: they wait for the next delivery.
    if (options.deadline?.aborted && record.error?.code === 'CANCELLED' && !options.signal?.aborted) {
      unfinished.push(item);
      return;
    }
    done.set(item.line, record);
    deps.onRecord?.(record);
  });
  if (unfinished.length > 0) {
    const keep = items.flatMap((item) => done.get(item.line) ?? []);
    await deps.store.put(jobKeys.checkpoint(jobId, chunkId), encodeJsonlGz(keep), 'application/gzip');
    throw new ChunkDeadlineError(chunkId, keep.length, items.length);
  }
  return items.map((item) => done.get(item.line) as ResultRecord);
}

/**
 * Goes on from the pace the chunk's host group's last owner saved; `handOver` saves this
 * engine's pace of the chunk's hosts for the next. The pace only makes a worker politer, so a
 * failed read or write of it costs the chunk nothing: the host then starts from the job's
 * plain pace.
 */
async function takeOverPace(deps: WorkerDeps, message: ChunkMessage) {
  const key = jobKeys.hostPace(message.jobId, message.group ?? 0);
  const saved = await deps.store.get(key).catch(() => null);
  const { limiter } = deps.engine;
  if (saved) limiter.restoreHostPaces(JSON.parse(saved.toString('utf8')) as Record<string, HostPaceState>);
  return {
    async handOver(items: readonly InputItem[]) {
      const paces = limiter.hostPaces(new Set(items.map((item) => hostNameOf(item.url))));
      if (!saved && Object.keys(paces).length === 0) return;
      await deps.store.put(key, JSON.stringify(paces), 'application/json').catch(() => {});
    },
  };
}

/** A signal that fires once the job's cancel request is seen (polled every `everyMs`). */
function watchForCancel(jobs: JobStore, jobId: string, everyMs: number | undefined) {
  if (!everyMs) return { signal: undefined, stop: () => {} };
  const controller = new AbortController();
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    jobs
      .isCancelRequested(jobId)
      .then((cancelled) => {
        if (cancelled) controller.abort(new Error(`job ${jobId} was cancelled`));
      })
      // A failed look is retried at the next tick; the chunk goes on meanwhile.
      .catch(() => {})
      .finally(() => {
        polling = false;
      });
  }, everyMs);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

/** The record of a URL whose job was cancelled before it was fetched. */
export function cancelledRecord(item: InputItem): ResultRecord {
  return {
    ...blankRecord(item),
    error: { code: 'CANCELLED', message: 'the job was cancelled before this URL was fetched' },
  };
}
