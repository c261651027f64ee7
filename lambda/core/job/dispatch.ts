import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { type ChunkQueue, isComplete, type JobStore, type ObjectStore } from '../../adapters/ports.js';
import { type Chunk, Chunker } from '../chunker.js';
import { INPUT_LIMITS } from '../defaults.js';
import { FanoutError, InputError } from '../errors.js';
import { type InputEvent, parseInput } from '../input/parse-input.js';
import type { JobManifest, JobRequest } from './job-request.js';
import { jobKeys } from './keys.js';

export interface DispatchDeps {
  store: ObjectStore;
  queue: ChunkQueue;
  jobs: JobStore;
}

export interface DispatchResult {
  manifest: JobManifest;
  /** True when every chunk was already done when the total was recorded: the caller finalizes. */
  claimedFinalize: boolean;
}

/**
 * Writes job.json once. Re-running a job id resumes it (parts already written are kept),
 * which is only sound for the same request: a different source, format or options under
 * an existing id is refused rather than mixed with the old parts.
 */
async function claimJobId(store: ObjectStore, request: JobRequest): Promise<void> {
  const key = jobKeys.request(request.jobId);
  if (await store.putIfAbsent(key, Buffer.from(`${JSON.stringify(request, null, 2)}\n`), 'application/json'))
    return;
  const existing = JSON.parse((await store.get(key))?.toString('utf8') ?? '{}') as Partial<JobRequest>;
  const same = (r: Partial<JobRequest>) => JSON.stringify([r.source, r.format, r.options]);
  if (same(existing) !== same(request)) {
    throw new FanoutError(
      'JOB_EXISTS',
      `job ${request.jobId} already exists with a different source, format or options; choose another job id`,
    );
  }
}

/** Chunks sent to the queue per call (SQS SendMessageBatch takes at most 10). */
const SEND_BATCH = 10;

/**
 * Streams a job's input: rejected lines go to invalid.jsonl.gz with their reasons,
 * accepted URLs go to the queue in chunks; then manifest.json and the chunk total.
 * Memory stays bounded whatever the input size: nothing is held but one send batch
 * (with dedupe, also the set of distinct URLs seen). An input without a single URL or
 * rejected line fails with EMPTY_INPUT before anything is written.
 */
export async function dispatchJob(
  deps: DispatchDeps,
  request: JobRequest,
  source: AsyncIterable<Uint8Array>,
  onChunk?: (chunk: Chunk) => void,
): Promise<DispatchResult> {
  const { jobId, options } = request;
  const events = parseInput(source, {
    format: request.format,
    filename: request.source,
    dedupe: options.dedupe,
    maxUrlLength: INPUT_LIMITS.maxUrlLength,
    maxLineBytes: INPUT_LIMITS.maxLineBytes,
  });
  const first = await events.next();
  if (first.done) {
    throw new InputError(
      'EMPTY_INPUT',
      `${request.source}: the input holds no URLs (only blank lines or comments)`,
    );
  }
  await claimJobId(deps.store, request);
  await deps.jobs.create(jobId, new Date(request.submittedAt));

  const invalidOut = createGzip();
  const invalidUpload = deps.store.putStream(jobKeys.invalid(jobId), invalidOut, 'application/gzip');
  const chunker = new Chunker(options.chunkSize, INPUT_LIMITS.maxChunkBytes);
  let batch: Chunk[] = [];
  let accepted = 0;
  let invalid = 0;
  let lines = 0;

  const sendBatch = async () => {
    if (batch.length === 0) return;
    const messages = batch.map((chunk) => ({ jobId, chunkId: chunk.chunkId, options, items: chunk.items }));
    batch = [];
    await deps.queue.send(messages);
  };
  const take = async (chunk: Chunk | null) => {
    if (!chunk) return;
    onChunk?.(chunk);
    batch.push(chunk);
    if (batch.length >= SEND_BATCH) await sendBatch();
  };

  try {
    for (let next: IteratorResult<InputEvent> = first; !next.done; next = await events.next()) {
      const event = next.value;
      if (event.kind === 'url') {
        accepted += 1;
        lines = Math.max(lines, event.item.line);
        await take(chunker.add(event.item));
      } else {
        invalid += 1;
        lines = Math.max(lines, event.invalid.line);
        if (!invalidOut.write(`${JSON.stringify(event.invalid)}\n`)) await once(invalidOut, 'drain');
      }
    }
    await take(chunker.flush());
    await sendBatch();
  } catch (err) {
    invalidOut.destroy();
    await invalidUpload.catch(() => {});
    throw err;
  }
  invalidOut.end();
  await invalidUpload;

  if (accepted === 0 && invalid === 0) {
    throw new InputError(
      'EMPTY_INPUT',
      `${request.source}: the input holds no URLs (only blank lines or comments)`,
    );
  }
  const manifest: JobManifest = {
    jobId,
    lines,
    accepted,
    invalid,
    chunks: chunker.count,
    chunkSize: options.chunkSize,
    dispatchedAt: new Date().toISOString(),
  };
  await deps.store.put(jobKeys.manifest(jobId), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
  const progress = await deps.jobs.setTotal(jobId, { chunks: manifest.chunks, accepted, invalid });
  const claimedFinalize = isComplete(progress) && (await deps.jobs.claimFinalize(jobId));
  return { manifest, claimedFinalize };
}
