import { gzipSync } from 'node:zlib';
import { chunkIdAt } from '../chunker.js';
import type { JobStore, ObjectStore } from '../ports.js';
import { tallyInvalidLines } from '../report/invalid-lines.js';
import { ReportBuilder, type ReportState } from '../report/report-builder.js';
import { type JobSummary, SummaryAccumulator, type SummaryCounts } from '../summary.js';
import { writeCdxIndex } from '../warc/cdx-index.js';
import { assembleObject, type Segment } from './assemble-object.js';
import type { JobManifest, JobRequest } from './job-request.js';
import { jobKeys } from './keys.js';
import { digestOfPart, readPart } from './part-file.js';
import { PartReader, type PartReaderLimits } from './part-reader.js';

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

/** Sizes of the fan-in's work. */
export interface FanInLimits extends PartReaderLimits {
  /**
   * A segment is written once the members joined since the last one reach this size: every
   * segment but the last is at least this long, which must be S3's 5 MiB for the segments to be
   * copied into results.jsonl.gz server-side (smaller ones are streamed). @default 8 MiB
   */
  segmentBytes: number;
}

const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
/** Segment removals in flight once the outputs are written. */
const DELETES_IN_FLIGHT = 16;

export interface FinalizeStepOptions {
  /** Asked after each segment: true when this invocation must stop and hand over (its deadline is near). */
  shouldPause?: () => boolean;
  /** Without it, the job ran once, from its submission until now. */
  timing?: FinalizeTiming;
  limits?: Partial<FanInLimits>;
}

/** Where a fan-in stands: saved after every segment, so a later run goes on from there. */
export interface FinalizeCheckpoint {
  v: 1;
  /** Parts merged, in chunk order: the next run reads from this part on. */
  partsDone: number;
  /** Byte sizes of the results segments written (`jobKeys.resultsSegment`), in order. */
  results: number[];
  /** Byte sizes of the failed-line segments written (`jobKeys.failedSegment`), one per results segment. */
  failed: number[];
  /** The summary counters of the parts merged. */
  summary: SummaryCounts;
  /** The report's state after the parts merged. */
  report: ReportState;
}

/** A step's outcome: the job's summary once finalized, or where it paused. */
export type FinalizeStepResult =
  | { summary: JobSummary; paused: null }
  | { summary: null; paused: { partsDone: number; parts: number } };

async function readJson<T>(store: ObjectStore, key: string): Promise<T> {
  const data = await store.get(key);
  if (!data) throw new Error(`${key} is missing`);
  return JSON.parse(data.toString('utf8')) as T;
}

/**
 * One run of a job's fan-in: gathers its parts, in chunk order, into results.jsonl.gz (the
 * parts' gzip members concatenated, so nothing is recompressed), failed.jsonl, summary.json and
 * report.html, then writes _SUCCESS last. Only the caller that claimed finalize starts it.
 *
 * Parts are read in parallel (bounded) and joined into segments of at least `segmentBytes`,
 * each written as an object of its own with the failed lines of its parts; after each segment
 * the merged digests and the place reached are saved in `finalize/checkpoint.json`. When
 * `shouldPause` says so, the run stops there and returns `paused`: the next run (or a run after
 * a crash) reads only the parts after the checkpoint. Once every part is merged, the segments
 * are assembled into the outputs (server-side where the store can) and removed.
 */
export async function finalizeStep(
  deps: FinalizeDeps,
  jobId: string,
  options: FinalizeStepOptions = {},
): Promise<FinalizeStepResult> {
  const { store } = deps;
  if (await store.exists(jobKeys.success(jobId)))
    return { summary: await finishAgain(deps, jobId), paused: null };
  const request = await readJson<JobRequest>(store, jobKeys.request(jobId));
  const manifest = await readJson<JobManifest>(store, jobKeys.manifest(jobId));
  const saved = await store.get(jobKeys.finalizeCheckpoint(jobId));
  const checkpoint: FinalizeCheckpoint = saved ? checkpointOf(jobId, saved) : freshCheckpoint();
  const { segmentBytes = DEFAULT_SEGMENT_BYTES, ...readerLimits } = options.limits ?? {};
  const summary = new SummaryAccumulator().merge(checkpoint.summary);
  const report = ReportBuilder.fromState(checkpoint.report);
  const parts = manifest.chunks;
  const segmentsAtStart = checkpoint.results.length;

  let members: Buffer[] = [];
  let memberBytes = 0;
  let failed: string[] = [];
  const writeSegment = async (partsDone: number) => {
    const n = checkpoint.results.length;
    const results = Buffer.concat(members);
    const failedLines = Buffer.from(failed.join(''));
    await store.put(jobKeys.resultsSegment(jobId, n), results, 'application/gzip');
    await store.put(jobKeys.failedSegment(jobId, n), failedLines, 'application/x-ndjson');
    checkpoint.partsDone = partsDone;
    checkpoint.results.push(results.length);
    checkpoint.failed.push(failedLines.length);
    checkpoint.summary = summary.toJSON();
    checkpoint.report = report.toState();
    await store.put(jobKeys.finalizeCheckpoint(jobId), JSON.stringify(checkpoint), 'application/json');
    members = [];
    memberBytes = 0;
    failed = [];
  };

  // With no chunks, an empty gzip member keeps results.jsonl.gz a valid (empty) gzip file.
  if (parts === 0 && checkpoint.results.length === 0) {
    members.push(gzipSync(Buffer.alloc(0)));
    await writeSegment(0);
  }
  if (checkpoint.partsDone < parts) {
    const reader = new PartReader(
      store,
      (index) => jobKeys.part(jobId, chunkIdAt(index)),
      parts,
      readerLimits,
      checkpoint.partsDone,
    );
    for (let index = checkpoint.partsDone; index < parts; index += 1) {
      const part = readPart(await reader.next());
      members.push(part.member);
      memberBytes += part.member.length;
      const digest = digestOfPart(part);
      summary.merge(digest.summary);
      report.merge(digest.report);
      for (const line of digest.failed) failed.push(`${JSON.stringify(line)}\n`);
      const last = index + 1 === parts;
      if (!last && memberBytes < segmentBytes) continue;
      await writeSegment(index + 1);
      if (!last && options.shouldPause?.()) return { summary: null, paused: { partsDone: index + 1, parts } };
    }
  }
  // Assembling takes a while too: a run that merged parts and is short of time leaves it to the next.
  if (segmentsAtStart < checkpoint.results.length && options.shouldPause?.()) {
    return { summary: null, paused: { partsDone: checkpoint.partsDone, parts } };
  }

  if (summary.recordCount !== manifest.accepted) {
    throw new Error(`job ${jobId}: ${summary.recordCount} records for ${manifest.accepted} accepted URLs`);
  }
  await assembleObject(
    store,
    jobKeys.results(jobId),
    segmentsOf(jobId, checkpoint, 'results'),
    'application/gzip',
  );
  await assembleObject(
    store,
    jobKeys.failed(jobId),
    segmentsOf(jobId, checkpoint, 'failed'),
    'application/x-ndjson',
  );
  if (request.options.body === 'warc') await writeCdxIndex(store, jobId, parts);
  // A cancelled job still gets every result (the rest as CANCELLED); its status says it was cancelled.
  const cancelled = await deps.jobs.isCancelRequested(jobId);
  const finishedAt = new Date();
  const timing = options.timing;
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
  await removeFanInState(store, jobId, checkpoint);
  return { summary: result, paused: null };
}

/**
 * Finalizes a job in one go: the fan-in's steps run one after another until it is done
 * (the laptop runtime, which has no deadline). Only the caller that claimed finalize runs this.
 */
export async function finalizeJob(
  deps: FinalizeDeps,
  jobId: string,
  timing?: FinalizeTiming,
  limits?: Partial<FanInLimits>,
): Promise<JobSummary> {
  for (;;) {
    const step = await finalizeStep(deps, jobId, { ...(timing && { timing }), ...(limits && { limits }) });
    if (step.summary) return step.summary;
  }
}

/** A fan-in that already wrote _SUCCESS (a run that died after it): the job's state and cleanup again. */
async function finishAgain(deps: FinalizeDeps, jobId: string): Promise<JobSummary> {
  const summary = await readJson<JobSummary>(deps.store, jobKeys.summary(jobId));
  await deps.jobs.finish(jobId, summary.status);
  const saved = await deps.store.get(jobKeys.finalizeCheckpoint(jobId));
  if (saved) await removeFanInState(deps.store, jobId, checkpointOf(jobId, saved));
  return summary;
}

/** The segments and then the checkpoint: the outputs hold everything now. */
async function removeFanInState(store: ObjectStore, jobId: string, checkpoint: FinalizeCheckpoint) {
  const keys = [...segmentsOf(jobId, checkpoint, 'results'), ...segmentsOf(jobId, checkpoint, 'failed')].map(
    (segment) => segment.key,
  );
  let next = 0;
  const remover = async () => {
    for (let index = next++; index < keys.length; index = next++) await store.delete(keys[index] as string);
  };
  await Promise.all(Array.from({ length: Math.min(DELETES_IN_FLIGHT, keys.length) }, remover));
  await store.delete(jobKeys.finalizeCheckpoint(jobId));
}

function segmentsOf(jobId: string, checkpoint: FinalizeCheckpoint, kind: 'results' | 'failed'): Segment[] {
  const keyOf = kind === 'results' ? jobKeys.resultsSegment : jobKeys.failedSegment;
  return checkpoint[kind].map((bytes, n) => ({ key: keyOf(jobId, n), bytes }));
}

function freshCheckpoint(): FinalizeCheckpoint {
  return {
    v: 1,
    partsDone: 0,
    results: [],
    failed: [],
    summary: new SummaryAccumulator().toJSON(),
    report: new ReportBuilder().toState(),
  };
}

function checkpointOf(jobId: string, data: Buffer): FinalizeCheckpoint {
  const value = JSON.parse(data.toString('utf8')) as Partial<FinalizeCheckpoint>;
  if (value.v !== 1 || typeof value.partsDone !== 'number' || !Array.isArray(value.results)) {
    throw new Error(`${jobKeys.finalizeCheckpoint(jobId)} is not a checkpoint this version wrote`);
  }
  return value as FinalizeCheckpoint;
}
