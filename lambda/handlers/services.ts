import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { type AwsClients, awsClients } from '../adapters/aws/clients.js';
import { DynamoJobStore } from '../adapters/aws/dynamo-job-store.js';
import { openS3Object, parseS3Url } from '../adapters/aws/s3-input.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SqsChunkQueue } from '../adapters/aws/sqs-chunk-queue.js';
import { HANDLER_ENV, JOB_FINISHED_EVENT } from '../core/contract.js';
import type { OpenedSource, SourceStart } from '../core/input/open-input.js';
import type { DispatchCheckpoint } from '../core/job/dispatch.js';
import type { ChunkQueue, JobStore, ObjectStore } from '../core/ports.js';
import type { JobSummary } from '../core/summary.js';
import { type HandlerConfig, readConfig } from './config.js';

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

/** What the handlers need: the three ports, the configuration, and a few AWS calls. */
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

/** Builds the AWS-backed services from a configuration (clients are shared per process). */
export function awsServices(
  config: HandlerConfig = readConfig(),
  clients: AwsClients = awsClients(),
): Services {
  const { s3, sqs, dynamodb, lambda, events } = clients;
  const store = new S3ObjectStore({ client: s3, bucket: config.bucket });
  const invokeDispatcher = async (invocation: DispatchInvocation | FinalizeInvocation) => {
    if (!config.dispatcherFunction) throw new Error(`${HANDLER_ENV.dispatcherFunction} is not set`);
    await lambda.send(
      new InvokeCommand({
        FunctionName: config.dispatcherFunction,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(invocation)),
      }),
    );
  };
  return {
    config,
    store,
    queue: new SqsChunkQueue({ client: sqs, queueUrl: config.queueUrl }),
    jobs: new DynamoJobStore({ client: dynamodb, tableName: config.tableName }),
    openSource: (url, start) => openS3Object(s3, parseS3Url(url), start),
    startDispatch: invokeDispatcher,
    startFinalize: (jobId) => invokeDispatcher({ jobId, finalize: true }),
    linkTo: (key, seconds) => store.presign(key, seconds),
    announce: async (summary) => {
      if (!config.eventBus) return;
      const { histograms: _histograms, ...brief } = summary;
      const res = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: config.eventBus,
              Source: JOB_FINISHED_EVENT.source,
              DetailType: JOB_FINISHED_EVENT.detailType,
              Detail: JSON.stringify({ bucket: config.bucket, ...brief }),
            },
          ],
        }),
      );
      if (res.FailedEntryCount)
        throw new Error(`EventBridge refused the event: ${res.Entries?.[0]?.ErrorMessage}`);
    },
  };
}

/** A value built on first use and kept for the life of the process (a Lambda container). */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}
