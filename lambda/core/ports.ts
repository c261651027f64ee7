import type { JobOptions } from './job-options.js';
import type { InputItem } from './record.js';

/** Where a job's objects live: S3 in AWS, a directory or memory locally. */
export interface ObjectStore {
  /** Writes the object only when no object has the key; false when one already existed. */
  putIfAbsent(key: string, body: Uint8Array, contentType?: string): Promise<boolean>;
  /**
   * putIfAbsent of a local file, read as it is sent, so it is never in memory whole (a chunk's
   * WARC); absent when the store has no such write (the file is then read and put whole).
   */
  putFileIfAbsent?(key: string, path: string, contentType?: string): Promise<boolean>;
  /** Writes (or replaces) an object. */
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** Writes an object of unknown length from a stream; it appears whole or not at all. */
  putStream(key: string, body: AsyncIterable<Uint8Array>, contentType?: string): Promise<void>;
  /** Reads an object; null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** Whether an object exists. */
  exists(key: string): Promise<boolean>;
  /** Every key under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes an object; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /** Server-side assembly of one object from others (S3 multipart uploads); absent when the store has none. */
  multipart?: MultipartUploads;
}

/** One part of a multipart upload, as completing it names it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/**
 * An object assembled in the store from copies of other objects, S3's way: every part but the
 * last at least {@link MULTIPART_LIMITS}.minPartBytes, at most maxParts parts.
 */
export interface MultipartUploads {
  /** Starts an upload; returns its id. */
  create(key: string, contentType?: string): Promise<string>;
  /** Copies a whole object of the store in as part `partNumber` (1-based). */
  copyPart(key: string, uploadId: string, partNumber: number, sourceKey: string): Promise<UploadedPart>;
  /** Makes the object of the parts, in partNumber order. */
  complete(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
  /** Drops an upload and its parts. */
  abort(key: string, uploadId: string): Promise<void>;
}

/** S3's multipart limits. */
export const MULTIPART_LIMITS = { minPartBytes: 5 * 1024 * 1024, maxParts: 10_000 } as const;

/** One chunk of a job, as it travels on the queue. */
export interface ChunkMessage {
  jobId: string;
  chunkId: string;
  /** The host group of its URLs: one worker at a time fetches a group (absent: one group). */
  group?: number;
  options: JobOptions;
  items: InputItem[];
}

/** The chunk queue: SQS in AWS, a bounded in-memory queue locally. */
export interface ChunkQueue {
  /** Enqueues messages; resolves once every one is accepted (locally: waits for room). */
  send(messages: readonly ChunkMessage[]): Promise<void>;
  /**
   * Makes a received message visible again after `afterSeconds` (0: at once) instead of
   * after the visibility timeout: for a message left unfinished on purpose (a worker out of
   * time), or one whose AWS calls kept failing after the SDK's retries (then with a backoff).
   */
  release?(receiptHandle: string, afterSeconds: number): Promise<void>;
}

export const JOB_STATUSES = [
  'dispatching',
  'running',
  'finalizing',
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** One job's state: a DynamoDB item in AWS, memory locally. */
export interface JobState {
  jobId: string;
  status: JobStatus;
  /** Known once dispatch has finished. */
  totalChunks: number | null;
  chunksDone: number;
  accepted: number;
  invalid: number;
  /** URLs with a record, counted as their chunks are (each chunk once). */
  urlsDone: number;
  /** Of those, records with an error. */
  urlsFailed: number;
  createdAt: string;
  updatedAt: string;
  /** Why the job failed, when it did. */
  error?: string;
  /** Set by a cancel request; workers then record the job's remaining URLs as CANCELLED. */
  cancelRequested?: boolean;
}

/** A job's state when it is created: dispatching, nothing counted, no total yet. */
export function newJobState(jobId: string, createdAt: Date): JobState {
  const at = createdAt.toISOString();
  return {
    jobId,
    status: 'dispatching',
    totalChunks: null,
    chunksDone: 0,
    accepted: 0,
    invalid: 0,
    urlsDone: 0,
    urlsFailed: 0,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * Progress after a chunk or the total was recorded. `isComplete` of it is true for at least
 * the caller that records the last chunk (or the total after it); when a store can tell the
 * job is not complete without summing its counters (DynamoDB: the chunk's counter shard is
 * not full yet), `chunksDone` is a lower bound.
 */
export interface Progress {
  chunksDone: number;
  totalChunks: number | null;
}

/** The URLs of one chunk, counted when the chunk is. */
export interface ChunkCounts {
  urls: number;
  failed: number;
}

/** How long a finalize claim holds before another caller may take it over (ms). */
export const DEFAULT_FINALIZE_LEASE_MS = 15 * 60_000;

/** Job state operations; each is atomic, and counting is idempotent per chunk. */
export interface JobStore {
  create(jobId: string, createdAt: Date): Promise<void>;
  /** Records the chunk total and URL counts once dispatch has finished. */
  setTotal(jobId: string, totals: { chunks: number; accepted: number; invalid: number }): Promise<Progress>;
  /** Counts a chunk (and its URLs) as done; counting the same chunk again changes nothing. */
  markChunkDone(jobId: string, chunkId: string, urls?: ChunkCounts): Promise<Progress>;
  /**
   * True for exactly one caller: the one that gets to finalize a job whose chunks are all
   * done. A claim older than `leaseMs` counts as abandoned (its finalizer died) and can be
   * taken over; a finished or failed job is never claimed.
   */
  claimFinalize(jobId: string, leaseMs?: number): Promise<boolean>;
  /** Sets a final (or failed/cancelled) status. */
  finish(jobId: string, status: JobStatus, error?: string): Promise<void>;
  /** The job with its counts (on DynamoDB summed from its counter shards); null when there is no such job. */
  get(jobId: string): Promise<JobState | null>;
  /** Whether a cancel was requested (false for an unknown job): one small read, for workers' frequent checks. */
  isCancelRequested(jobId: string): Promise<boolean>;
  /** Asks for cancellation; returns the job as it now stands, null when there is no such job. */
  requestCancel(jobId: string): Promise<JobState | null>;
}

/** Statuses after which nothing more happens to a job. */
export const FINAL_STATUSES: readonly JobStatus[] = [
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
];

/** Whether a progress report means every chunk is done. */
export function isComplete(progress: Progress): boolean {
  return progress.totalChunks !== null && progress.chunksDone >= progress.totalChunks;
}
