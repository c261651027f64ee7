import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isTransientAwsError } from '../adapters/aws/retry.js';
import { type GetSecret, InvocationSecrets } from '../adapters/aws/secret-values.js';
import { parseChunkMessage } from '../adapters/aws/sqs-chunk-queue.js';
import { RUNTIME_DEFAULTS } from '../core/contract.js';
import { FetchEngine } from '../core/fetch/engine.js';
import { objectRobotsStore } from '../core/fetch/robots-gate.js';
import { jobKeys } from '../core/job/keys.js';
import { ChunkDeadlineError, processChunk } from '../core/job/process-chunk.js';
import type { JobOptions } from '../core/job-options.js';
import type { ResultRecord } from '../core/record.js';
import { readConfig } from './config.js';
import { jobStore } from './dynamodb-services.js';
import { dispatcherInvoker } from './lambda-services.js';
import { errorMessage, log } from './log.js';
import { emitMetrics } from './metrics.js';
import { objectServices } from './s3-services.js';
import { secretReader } from './secrets-services.js';
import { once, type Services } from './services.js';
import { chunkQueue } from './sqs-services.js';

/**
 * What the worker uses: the job's objects, the chunk queue, the job table, the fan-in's start,
 * and the reader of request headers' `secret:` values (none: a `secret:` header fails its URL).
 */
export type WorkerServices = Pick<Services, 'config' | 'store' | 'queue' | 'jobs' | 'startFinalize'> & {
  readSecret?: GetSecret;
};

/** Jobs whose engines one worker instance keeps; a warm instance serves one job after another. */
const KEPT_JOB_ENGINES = 4;

/**
 * A worker instance's engines: one per job (its host limits, connection pool and robots.txt
 * verdicts are the job's), kept while the instance lives, as a Lambda instance keeps module
 * state. They live in the handler, not the module, so handlers made in one process (the
 * local fleet) share nothing. Beyond KEPT_JOB_ENGINES jobs, the least recently used engine
 * is closed once no chunk is using it.
 */
class JobEngines {
  private readonly engines = new Map<string, { engine: FetchEngine; users: number }>();
  /** The secrets of the invocation running now: read once per invocation, never kept longer. */
  secrets = new InvocationSecrets(undefined, '');

  /** Runs `use` with the job's engine, made on first use. */
  async with<T>(
    services: WorkerServices,
    jobId: string,
    options: JobOptions,
    use: (engine: FetchEngine) => Promise<T>,
  ): Promise<T> {
    let entry = this.engines.get(jobId);
    if (entry) this.engines.delete(jobId);
    else {
      const storeBody = async (sha256: string, body: Buffer) => {
        await services.store.putIfAbsent(jobKeys.body(jobId, sha256), body);
      };
      const robotsStore = objectRobotsStore(services.store, jobId);
      const engine = new FetchEngine({
        options,
        robotsStore,
        readReference: (kind, name) => this.secrets.read(kind, name),
        ...(options.body === 'store' && { storeBody }),
      });
      entry = { engine, users: 0 };
    }
    this.engines.set(jobId, entry);
    entry.users += 1;
    try {
      return await use(entry.engine);
    } finally {
      entry.users -= 1;
      this.closeIdleBeyondKept();
    }
  }

  private closeIdleBeyondKept(): void {
    let excess = this.engines.size - KEPT_JOB_ENGINES;
    for (const [jobId, { engine, users }] of this.engines) {
      if (excess <= 0) break;
      if (users > 0) continue;
      this.engines.delete(jobId);
      excess -= 1;
      void engine.close().catch(() => {});
    }
  }
}

/** Fetches one chunk message; throws when the message must be delivered again. */
async function handleRecord(
  services: WorkerServices,
  engines: JobEngines,
  record: SQSRecord,
  deadline: AbortSignal,
): Promise<void> {
  const message = parseChunkMessage(record.body);
  const started = Date.now();
  const errors = new Map<string, number>();
  const onRecord = (r: ResultRecord) => {
    if (r.error) errors.set(r.error.code, (errors.get(r.error.code) ?? 0) + 1);
  };
  const { store, jobs, config } = services;
  const outcome = await engines.with(services, message.jobId, message.options, (engine) =>
    processChunk({ store, jobs, engine, onRecord }, message, {
      deadline,
      firstDelivery: record.attributes.ApproximateReceiveCount === '1',
      cancelPollMs: config.cancelPollMs,
      // Each worker instance has its own engine: the next owner of the chunk's hosts goes on from here.
      handOverPace: true,
    }),
  );
  const ms = Date.now() - started;
  log('info', 'chunk done', {
    jobId: message.jobId,
    chunkId: message.chunkId,
    part: outcome.part,
    records: outcome.records,
    ms,
  });
  emitMetrics(config.metricsNamespace, [
    { name: 'UrlsFetched', value: outcome.records, unit: 'Count' },
    { name: 'ChunkDuration', value: ms, unit: 'Milliseconds' },
  ]);
  for (const [code, count] of errors) {
    emitMetrics(config.metricsNamespace, [{ name: 'UrlErrors', value: count, unit: 'Count' }], {
      ErrorCode: code,
    });
  }
  // The fan-in never runs in a worker's tail: it gets an invocation of its own.
  if (outcome.claimedFinalize) await services.startFinalize(message.jobId);
}

/** Makes a message left for later visible again at once; on failure it just waits out its timeout. */
/** How long a chunk whose AWS calls kept failing waits before its next delivery (s). */
function awsFailureBackoff(record: SQSRecord): number {
  const receives = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
  const { awsFailureBackoffSeconds: base, awsFailureBackoffMaxSeconds: max } = RUNTIME_DEFAULTS;
  return Math.min(max, base * 2 ** (receives - 1));
}

async function release(services: WorkerServices, record: SQSRecord, afterSeconds: number): Promise<void> {
  try {
    await services.queue.release?.(record.receiptHandle, afterSeconds);
  } catch (err) {
    log('warn', 'could not release a message early', {
      messageId: record.messageId,
      error: errorMessage(err),
    });
  }
}

/**
 * The worker Lambda: an SQS batch of chunk messages in, partial batch failures out.
 * Records are processed one after another (each chunk is already concurrent inside);
 * once the deadline is near, or one record failed, the remaining records are returned as
 * failures untouched.
 * Each handler made is one worker instance, with engines of its own.
 */
export function makeWorkerHandler(services: () => WorkerServices) {
  const engines = new JobEngines();
  return async (
    event: SQSEvent,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SQSBatchResponse> => {
    const s = services();
    engines.secrets = new InvocationSecrets(s.readSecret, s.config.headerSecretsPrefix);
    const stopAt = Date.now() + context.getRemainingTimeInMillis() - s.config.deadlineMarginMs;
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    // A FIFO queue keeps a group's chunks in order: once one fails, the rest of the batch
    // goes back untouched (as Lambda asks of FIFO consumers), like those past the deadline.
    let failed = false;
    for (const record of event.Records) {
      const remaining = stopAt - Date.now();
      if (failed || remaining <= 0) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        await release(s, record, 0);
        continue;
      }
      try {
        await handleRecord(s, engines, record, AbortSignal.timeout(remaining));
      } catch (err) {
        failed = true;
        log('warn', 'chunk not finished; it will be delivered again', {
          messageId: record.messageId,
          error: errorMessage(err),
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        // Out of time, not broken: another worker may go on at once (from the checkpoint) rather
        // than after the visibility timeout. AWS failing for a while (the SDK has retried already):
        // again after a backoff that grows with each receive. Anything else (a malformed message,
        // a refused call) fails the same way each time: at once, so it reaches the dead-letter
        // queue (and fails its job, naming it) in seconds, not after maxReceiveCount visibility
        // timeouts while its FIFO group's other chunks wait behind it.
        if (err instanceof ChunkDeadlineError || !isTransientAwsError(err)) await release(s, record, 0);
        else await release(s, record, awsFailureBackoff(record));
      }
    }
    return { batchItemFailures };
  };
}

export const handler = makeWorkerHandler(
  once((): WorkerServices => {
    const config = readConfig();
    const { store } = objectServices(config);
    return {
      config,
      store,
      queue: chunkQueue(config),
      jobs: jobStore(config),
      ...dispatcherInvoker(config),
      readSecret: secretReader(),
    };
  }),
);
