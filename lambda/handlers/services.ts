import type { OpenedSource, SourceStart } from '../core/input/open-input.js';
import type { DispatchCheckpoint } from '../core/job/dispatch.js';
import type { ChunkQueue, JobStore, ObjectStore } from '../core/ports.js';
import type { JobSummary } from '../core/summary.js';
import type { HandlerConfig } from './config.js';

/** A direct dispatcher invocation: a job whose job.json is in the bucket, or the next run of one. */
export interface DispatchInvocation {
  jobId: string;
  /** Where the previous run stopped, when this run goes on from there. */
  resume?: DispatchCheckpoint;
}

/**
 * A direct dispatcher invocation that runs (or goes on with) a job's fan-in: the step that
 * joins its parts into the outputs once every chunk is done, in an invocation of its own.
 */
export interface FinalizeInvocation {
  jobId: string;
  finalize: true;
}

/**
 * What the handlers need: the three ports, the configuration, and a few AWS calls. Each handler
 * takes the members it uses (a Pick of these); the members on each AWS service are built in a
 * module of that service's (s3-services.ts, sqs-services.ts, dynamodb-services.ts,
 * lambda-services.ts, eventbridge-services.ts), so a function's bundle holds only the SDK
 * clients it uses; aws-services.ts builds them all.
 */
export interface Services {
  config: HandlerConfig;
  store: ObjectStore;
  queue: ChunkQueue;
  jobs: JobStore;
  /** Streams a job's input list from its source URL (s3://bucket/key), whole or from `start`. */
  openSource(url: string, start?: SourceStart): Promise<OpenedSource>;
  /** Starts a dispatcher run without waiting for it (an asynchronous Lambda invocation). */
  startDispatch(invocation: DispatchInvocation): Promise<void>;
  /**
   * Starts (or continues) a job's fan-in in a dispatcher invocation of its own, without waiting
   * for it: whoever claims finalize calls this instead of finalizing in its own tail.
   */
  startFinalize(jobId: string): Promise<void>;
  /** A URL that reads one object of the bucket for a limited time. */
  linkTo(key: string, seconds: number): Promise<string>;
  /** Announces a finished job (an EventBridge event), when a bus is configured. */
  announce(summary: JobSummary): Promise<void>;
}

/** A value built on first use and kept for the life of the process (a Lambda container). */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}
