import { basename } from 'node:path';
import { createAwsClients, localEndpointCredentials } from '../adapters/aws/clients.js';
import type { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { HANDLER_ENV } from '../core/contract.js';
import { FanoutError } from '../core/errors.js';
import type { InputFormat } from '../core/input/parse-input.js';
import { jobKeys } from '../core/job/keys.js';
import { RequestError, submitJob } from '../core/job/submit.js';
import type { JobOptions } from '../core/job-options.js';
import type { JobState, ObjectStore } from '../core/ports.js';
import type { JobSummary } from '../core/summary.js';
import { setLogSink } from '../handlers/log.js';
import { LocalDeployment } from './local-deployment.js';
import type { LocalProgress } from './run-local.js';

export interface EndpointJob {
  /** Any S3/SQS/DynamoDB-compatible endpoint, e.g. http://127.0.0.1:5000 (moto). */
  endpoint: string;
  region?: string;
  jobId: string;
  /** The input's name (a path, or '-'): the uploaded object is named after it. */
  source: string;
  input: AsyncIterable<Uint8Array>;
  /** sha256 of the input as read: a different list under an existing job id is refused. */
  inputDigest?: string;
  format: InputFormat;
  options: JobOptions;
  /**
   * Worker instances polling at once, each isolated as a Lambda instance is.
   * @default defaultWorkers(options)
   */
  workers?: number;
  /** Where the job's objects are copied once it ends (the same tree as a local run). */
  out: ObjectStore;
  /** Asks the job to cancel: URLs not yet fetched end as CANCELLED, and the job still finalizes. */
  signal?: AbortSignal;
  onProgress?: (progress: LocalProgress) => void;
}

/** Workers enough to keep `concurrency` URLs in flight with whole chunks, and one more; at least 2. */
export function defaultWorkers(options: Pick<JobOptions, 'concurrency' | 'chunkSize'>): number {
  return Math.max(2, Math.ceil(options.concurrency / options.chunkSize) + 1);
}

export interface EndpointResult {
  state: JobState;
  /** Null when the job failed before it could be finalized. */
  summary: JobSummary | null;
}

/**
 * `fanout run --endpoint`: the whole AWS pipeline against an AWS-compatible endpoint. It
 * creates the bucket, queues and table when missing (LocalDeployment), uploads the list,
 * submits the job as the API does, runs the real dispatcher, workers and dead-letter
 * consumer until the job ends, then copies the job's objects to `out`.
 */
export async function runOnEndpoint(job: EndpointJob): Promise<EndpointResult> {
  // The handlers run in this process: their warnings and errors go to stderr, the rest nowhere.
  setLogSink((line, level) => {
    if (level === 'warn' || level === 'error') process.stderr.write(line);
  });
  try {
    return await runHandlers(job);
  } finally {
    setLogSink();
  }
}

async function runHandlers(job: EndpointJob): Promise<EndpointResult> {
  const credentials = localEndpointCredentials();
  const newClients = () =>
    createAwsClients({
      endpoint: job.endpoint,
      ...(job.region && { region: job.region }),
      ...(credentials && { credentials }),
    });
  const deployment = await LocalDeployment.start({
    clients: newClients(),
    // As deployed: each worker instance its own clients (connections, retry quota).
    workerClients: newClients,
    // This machine's own run: its options were checked by the CLI, private targets included.
    env: {
      [HANDLER_ENV.jobMaxima]: JSON.stringify({ allowPrivate: true }),
      [HANDLER_ENV.cancelPollMs]: '1000',
    },
    workers: job.workers ?? defaultWorkers(job.options),
  });
  const { services } = deployment;
  const { bucket } = services.config;
  const inputKey = jobKeys.uploadedInput(job.jobId, job.source === '-' ? 'stdin' : basename(job.source));
  const request = {
    jobId: job.jobId,
    source: `s3://${bucket}/${inputKey}`,
    format: job.format,
    options: job.options,
    submittedAt: new Date().toISOString(),
    ...(job.inputDigest && { inputDigest: job.inputDigest }),
  };
  try {
    await submitJob(
      {
        store: services.store,
        jobs: services.jobs,
        // Uploaded once the request is accepted: a refused one (JOB_EXISTS) writes nothing.
        startDispatch: async (jobId) => {
          await services.store.putStream(inputKey, job.input);
          await deployment.startDispatch({ jobId });
        },
      },
      { request, inline: null },
    );
  } catch (err) {
    if (err instanceof RequestError && err.code === 'JOB_EXISTS')
      throw new FanoutError('JOB_EXISTS', err.message);
    throw err;
  }
  const cancel = () => void services.jobs.requestCancel(job.jobId);
  job.signal?.addEventListener('abort', cancel, { once: true });
  let state: JobState | null;
  try {
    state = await deployment.runUntilFinished(job.jobId, {
      onState: (s) =>
        job.onProgress?.({
          accepted: s.accepted,
          dispatchDone: s.totalChunks !== null,
          done: s.urlsDone,
          failed: s.urlsFailed,
        }),
    });
  } finally {
    job.signal?.removeEventListener('abort', cancel);
  }
  if (!state) throw new Error(`job ${job.jobId} vanished from the job table`);
  await copyJob(services.store as S3ObjectStore, job.out, job.jobId);
  const summary = await job.out.get(jobKeys.summary(job.jobId));
  return { state, summary: summary ? (JSON.parse(summary.toString('utf8')) as JobSummary) : null };
}

/** Copies every object of a job from the bucket to `out`, under the same keys. */
async function copyJob(from: S3ObjectStore, out: ObjectStore, jobId: string): Promise<void> {
  for (const key of await from.list(jobKeys.prefix(jobId))) {
    const data = await from.get(key);
    if (data) await out.put(key, data);
  }
}
