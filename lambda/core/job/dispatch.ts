import { randomUUID } from 'node:crypto';
import { type Chunk, Chunker, type PendingGroup } from '../chunker.js';
import { DEPLOYMENT_DEFAULTS } from '../contract.js';
import { INPUT_LIMITS } from '../defaults.js';
import { FanoutError, InputError } from '../errors.js';
import { hostGroupsFor } from '../host-group.js';
import type { ParsedSoFar } from '../input/line-parser.js';
import type { OpenedSource, SourceStart } from '../input/open-input.js';
import { type InputBatch, type InputStart, parseInputBatches } from '../input/parse-input.js';
import { type ChunkQueue, isComplete, type JobStore, type ObjectStore } from '../ports.js';
import type { JobManifest, JobRequest } from './job-request.js';
import { JsonlGzWriter } from './jsonl-gz-writer.js';
import { jobKeys } from './keys.js';

export interface DispatchDeps {
  store: ObjectStore;
  queue: ChunkQueue;
  jobs: JobStore;
}

/** Opens the job's input, whole or from a point (a resumed run's ranged read). */
export type OpenSource = (start: SourceStart) => Promise<OpenedSource>;

/** Where a paused dispatch stands: enough for another invocation to go on from there. */
export interface DispatchCheckpoint {
  /** The last input line handled; the next run skips every line up to it. */
  line: number;
  /**
   * The byte offset where line `line + 1` starts: a run that can open the input there
   * reads only the rest. Absent for a gzipped input and with dedupe, whose next run reads
   * the input from the start again (the seen URLs are rebuilt on the way).
   */
  offset?: number;
  /** The format and CSV header the lines before `offset` decided (given with `offset`). */
  parsed?: ParsedSoFar;
  /** The input's ETag as the chain's first run read it: later runs read that version or fail. */
  etag?: string;
  /** Chunks sent so far: the index of the next chunk. */
  chunks: number;
  /** The job's host groups (the chain's first run chose them). */
  groups?: number;
  /** URLs accepted but not yet in a chunk, saved by group at `jobKeys.dispatchPending`. */
  pending?: number;
  accepted: number;
  invalid: number;
  /** Duplicates skipped by dedupe (absent in checkpoints of older versions). */
  duplicates?: number;
  lines: number;
  /** Runs so far (each wrote one segment of rejected lines). */
  runs: number;
  /** The chain of runs this one continues: its segments are named after it. */
  chain: string;
}

/** How one dispatch run is steered; every field is optional. */
export interface DispatchControl {
  /** Go on from a paused run's checkpoint. */
  resume?: DispatchCheckpoint;
  /**
   * Asked after each chunk is sent; true stops the run there with a checkpoint (the
   * caller starts another run from it). Given, rejected lines are written per run and
   * joined into invalid.jsonl.gz by the last.
   */
  shouldPause?: () => boolean;
  /** Called for each chunk as it is made. */
  onChunk?: (chunk: Chunk) => void;
  /**
   * Host groups of a new job (hostGroupOf): each group's chunks go to one worker at a time.
   * @default hostGroupsFor(DEPLOYMENT_DEFAULTS.maxWorkerConcurrency)
   */
  hostGroups?: number;
  /**
   * Called once job.json is claimed (`created`) or found to hold this same request (a
   * re-run), before any chunk is sent: a re-run can prepare the job's objects here.
   */
  onClaimed?: (created: boolean) => Promise<void>;
}

/** Dispatch finished: the manifest and the chunk total are written. */
export interface DispatchDone {
  paused: null;
  manifest: JobManifest;
  /** True when every chunk was already done when the total was recorded: the caller finalizes. */
  claimedFinalize: boolean;
}

/** Dispatch stopped at a chunk boundary; another run goes on from the checkpoint. */
export interface DispatchPaused {
  paused: DispatchCheckpoint;
  manifest: null;
  claimedFinalize: false;
}

export type DispatchResult = DispatchDone | DispatchPaused;

/**
 * Writes job.json once; true when this call created it. Re-running a job id resumes it
 * (parts already written are kept), which is only sound for the same request: a different
 * source, format, options or list (its digest) under an existing id is refused rather
 * than mixed with the old parts.
 */
async function claimJobId(store: ObjectStore, request: JobRequest): Promise<boolean> {
  const key = jobKeys.request(request.jobId);
  if (await store.putIfAbsent(key, Buffer.from(`${JSON.stringify(request, null, 2)}\n`), 'application/json'))
    return true;
  const existing = JSON.parse((await store.get(key))?.toString('utf8') ?? '{}') as Partial<JobRequest>;
  const parts = {
    source: [existing.source, request.source],
    format: [existing.format, request.format],
    options: [existing.options, request.options],
    list: [existing.inputDigest, request.inputDigest],
  };
  const differ = Object.entries(parts)
    .filter(([, [was, now]]) => JSON.stringify(was) !== JSON.stringify(now))
    .map(([name]) => name);
  if (differ.length > 0) {
    throw new FanoutError(
      'JOB_EXISTS',
      `job ${request.jobId} already exists with a different ${differ.join(', ').replace(/, (?=[^,]+$)/, ' and ')} (JOB_EXISTS); choose another job id, or give the same ones to resume it`,
    );
  }
  return false;
}

/** Chunks sent to the queue per call (SQS SendMessageBatch takes at most 10). */
const SEND_BATCH = 10;

const emptyInput = (request: JobRequest) =>
  new InputError('EMPTY_INPUT', `${request.source}: the input holds no URLs (only blank lines or comments)`);

/**
 * Streams a job's input: rejected lines go to invalid.jsonl.gz with their reasons,
 * accepted URLs go to the queue in chunks; then manifest.json and the chunk total.
 * Memory stays bounded whatever the input size: nothing is held but one send batch
 * (with dedupe, also the set of distinct URLs seen). An input without a single URL or
 * rejected line fails with EMPTY_INPUT before anything is written.
 *
 * With `control.shouldPause`, a run can stop at a chunk boundary and return a checkpoint;
 * a run given that checkpoint makes the same chunks with the same ids as one long run
 * would. Given `source` as an OpenSource and a checkpoint with an offset, it reads only
 * the input after that offset; otherwise it reads the input from the start and skips
 * the lines handled.
 */
export function dispatchJob(
  deps: DispatchDeps,
  request: JobRequest,
  source: AsyncIterable<Uint8Array> | OpenSource,
  control?: Omit<DispatchControl, 'shouldPause'>,
): Promise<DispatchDone>;
export function dispatchJob(
  deps: DispatchDeps,
  request: JobRequest,
  source: AsyncIterable<Uint8Array> | OpenSource,
  control: DispatchControl,
): Promise<DispatchResult>;
export async function dispatchJob(
  deps: DispatchDeps,
  request: JobRequest,
  source: AsyncIterable<Uint8Array> | OpenSource,
  control: DispatchControl = {},
): Promise<DispatchResult> {
  const { jobId, options } = request;
  const { resume } = control;
  const segmented = resume !== undefined || control.shouldPause !== undefined;
  const run = resume?.runs ?? 0;
  const chain = resume?.chain ?? randomUUID().slice(0, 8);
  const from: InputStart | undefined =
    typeof source === 'function' && resume?.offset !== undefined && resume.parsed
      ? { offset: resume.offset, line: resume.line, ...resume.parsed }
      : undefined;
  let etag = resume?.etag;
  let bytes: AsyncIterable<Uint8Array>;
  if (typeof source === 'function') {
    const opened = await source({ ...(from && { offset: from.offset }), ...(etag && { etag }) });
    etag ??= opened.etag;
    bytes = opened.body;
  } else bytes = source;
  // Events come a batch per input chunk: one await per batch, not one per line.
  const batches = parseInputBatches(bytes, {
    format: request.format,
    filename: request.source,
    dedupe: options.dedupe,
    maxUrlLength: INPUT_LIMITS.maxUrlLength,
    maxLineBytes: INPUT_LIMITS.maxLineBytes,
    sensitiveHeaders: options.sensitiveHeaders,
    ...(from && { from }),
  });
  const first = await batches.next();
  if (first.done && !resume) throw emptyInput(request);
  if (!resume) {
    const created = await claimJobId(deps.store, request);
    await control.onClaimed?.(created);
    await deps.jobs.create(jobId, new Date(request.submittedAt));
  }

  const invalidOut = new JsonlGzWriter();
  const invalidKey = segmented ? jobKeys.invalidSegment(jobId, chain, run) : jobKeys.invalid(jobId);
  const invalidUpload = deps.store.putStream(invalidKey, invalidOut, 'application/gzip');
  // An upload that fails early stops the dispatch at its next rejected line, not at the end.
  invalidUpload.catch((err: unknown) => invalidOut.fail(err));
  const groups =
    resume?.groups ?? control.hostGroups ?? hostGroupsFor(DEPLOYMENT_DEFAULTS.maxWorkerConcurrency);
  const pendingKey = (runs: number) => jobKeys.dispatchPending(jobId, chain, runs);
  const pendingBefore = resume?.pending ? await readPending(deps.store, pendingKey(run)) : [];
  const chunker = new Chunker(
    options.chunkSize,
    INPUT_LIMITS.maxChunkBytes,
    groups,
    resume?.chunks ?? 0,
    pendingBefore,
  );
  let batch: Chunk[] = [];
  let accepted = resume?.accepted ?? 0;
  let invalid = resume?.invalid ?? 0;
  let duplicates = resume?.duplicates ?? 0;
  let lines = resume?.lines ?? 0;
  const skipThrough = from ? 0 : (resume?.line ?? 0);
  let paused: DispatchCheckpoint | null = null;
  // The last event handled (its line and the offset after it), and the batch it came in.
  let lastLine = resume?.line ?? 0;
  let lastEnd = from?.offset ?? 0;
  let current: InputBatch | undefined;

  const sendBatch = async () => {
    if (batch.length === 0) return;
    const messages = batch.map((chunk) => ({
      jobId,
      chunkId: chunk.chunkId,
      group: chunk.group,
      options,
      items: chunk.items,
    }));
    batch = [];
    await deps.queue.send(messages);
  };
  /** Queues a full chunk, made by the event on `line` (ending at `end`); true when the run pauses after it. */
  const take = async (chunk: Chunk | null, line: number, end: number): Promise<boolean> => {
    if (!chunk) return false;
    control.onChunk?.(chunk);
    batch.push(chunk);
    if (batch.length >= SEND_BATCH) await sendBatch();
    if (!control.shouldPause?.()) return false;
    await sendBatch();
    // URLs in groups' unfinished chunks are saved with the checkpoint: the next run starts with
    // them and reads on after `line`, so it makes the chunks one long run would.
    const held = chunker.pendingGroups();
    if (chunker.pending > 0)
      await deps.store.put(pendingKey(run + 1), JSON.stringify(held), 'application/json');
    // A ranged read needs plain bytes; dedupe needs every URL before the offset again.
    const ranged = current?.plain && !options.dedupe && current.soFar !== undefined;
    paused = {
      line,
      ...(ranged && { offset: end, parsed: current?.soFar }),
      ...(etag !== undefined && { etag }),
      chunks: chunker.count,
      groups,
      pending: chunker.pending,
      accepted,
      invalid,
      duplicates,
      lines,
      runs: run + 1,
      chain,
    };
    return true;
  };

  try {
    read: for (let next = first; !next.done; next = await batches.next()) {
      current = next.value;
      const { events, ends } = current;
      for (let i = 0; i < events.length; i += 1) {
        const event = events[i]!;
        const line = event.kind === 'url' ? event.item.line : event.invalid.line;
        if (line <= skipThrough) continue;
        lines = Math.max(lines, line);
        if (event.kind === 'url') {
          accepted += 1;
          // Most URLs complete no chunk: only a full one costs an await.
          const chunk = chunker.add(event.item);
          if (chunk && (await take(chunk, line, ends[i]!))) break read;
        } else {
          // A duplicate skipped by dedupe is listed with the rejected lines but is no error.
          if (event.invalid.code === 'DUPLICATE') duplicates += 1;
          else invalid += 1;
          const full = invalidOut.write(event.invalid);
          if (full) await full;
        }
        lastLine = line;
        lastEnd = ends[i]!;
      }
    }
    if (!paused) {
      // The groups' last chunks, one by one: a run may pause between them like between any two.
      for (let chunk = chunker.flushOne(); chunk; chunk = chunker.flushOne()) {
        if (await take(chunk, lastLine, lastEnd)) break;
      }
      if (!paused) await sendBatch();
    }
  } catch (err) {
    invalidOut.fail(err);
    await invalidUpload.catch(() => {});
    throw err;
  } finally {
    // A paused run stops reading mid-list: close the source (a file, or S3's response socket).
    // What was read stands whether or not the close succeeds.
    await batches.return(undefined).catch(() => {});
  }
  invalidOut.end();
  await invalidUpload;
  if (paused) {
    await deps.store.put(
      jobKeys.dispatchCheckpoint(jobId),
      `${JSON.stringify(paused, null, 2)}\n`,
      'application/json',
    );
    return { paused, manifest: null, claimedFinalize: false };
  }

  if (accepted === 0 && invalid === 0 && duplicates === 0) throw emptyInput(request);
  if (segmented) await joinInvalidSegments(deps.store, jobId, chain, run + 1);
  const manifest: JobManifest = {
    jobId,
    lines,
    accepted,
    invalid,
    duplicates,
    chunks: chunker.count,
    chunkSize: options.chunkSize,
    dispatchedAt: new Date().toISOString(),
  };
  await deps.store.put(jobKeys.manifest(jobId), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
  const progress = await deps.jobs.setTotal(jobId, { chunks: manifest.chunks, accepted, invalid });
  const claimedFinalize = isComplete(progress) && (await deps.jobs.claimFinalize(jobId));
  return { paused: null, manifest, claimedFinalize };
}

/** The URLs a paused run left in groups' unfinished chunks. */
async function readPending(store: ObjectStore, key: string): Promise<PendingGroup[]> {
  const saved = await store.get(key);
  if (!saved) throw new Error(`${key} is missing: the paused dispatch saved its unfinished chunks there`);
  return JSON.parse(saved.toString('utf8')) as PendingGroup[];
}

/** invalid.jsonl.gz from the runs' segments, in order (gzip members concatenate). */
async function joinInvalidSegments(
  store: ObjectStore,
  jobId: string,
  chain: string,
  runs: number,
): Promise<void> {
  async function* segments(): AsyncGenerator<Buffer> {
    for (let run = 0; run < runs; run += 1) {
      const key = jobKeys.invalidSegment(jobId, chain, run);
      const segment = await store.get(key);
      if (!segment) throw new Error(`${key} is missing`);
      yield segment;
    }
  }
  await store.putStream(jobKeys.invalid(jobId), segments(), 'application/gzip');
}
