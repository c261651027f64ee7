import { type AwsClients, awsClients } from '../adapters/aws/clients.js';
import { DynamoJobStore } from '../adapters/aws/dynamo-job-store.js';
import { openS3Object, parseS3Url } from '../adapters/aws/s3-input.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SqsChunkQueue } from '../adapters/aws/sqs-chunk-queue.js';
import type { ChunkQueue, JobStore, ObjectStore } from '../adapters/ports.js';
import { type HandlerConfig, readConfig } from './config.js';

/** What the handlers need: the three ports and the configuration. */
export interface Services {
  config: HandlerConfig;
  store: ObjectStore;
  queue: ChunkQueue;
  jobs: JobStore;
  /** Streams a job's input list from its source URL (s3://bucket/key). */
  openSource(url: string): Promise<AsyncIterable<Uint8Array>>;
}

/** Builds the AWS-backed services from a configuration (clients are shared per process). */
export function awsServices(
  config: HandlerConfig = readConfig(),
  clients: AwsClients = awsClients(),
): Services {
  const { s3, sqs, dynamodb } = clients;
  return {
    config,
    store: new S3ObjectStore({ client: s3, bucket: config.bucket }),
    queue: new SqsChunkQueue({ client: sqs, queueUrl: config.queueUrl }),
    jobs: new DynamoJobStore({ client: dynamodb, tableName: config.tableName }),
    openSource: (url) => openS3Object(s3, parseS3Url(url)),
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
