/**
 * The figures of the cloud model, each with where it comes from. Limits are AWS's published
 * quotas; latencies are typical medians (AWS publishes ranges, not guarantees), held constant so
 * that a run is deterministic. Every figure a run derives from these is labelled "modelled".
 */
export const AWS_LIMITS = {
  /**
   * S3: "at least 3,500 PUT/COPY/POST/DELETE or 5,500 GET/HEAD requests per second per
   * partitioned Amazon S3 prefix".
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
   */
  s3PutPerPrefixPerSecond: 3_500,
  s3GetPerPrefixPerSecond: 5_500,
  /**
   * DynamoDB: "each partition is limited to 1,000 write units per second and 3,000 read units
   * per second" (an item lives in one partition, so one item gets at most that).
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html
   */
  dynamoWcuPerPartitionPerSecond: 1_000,
  dynamoRcuPerPartitionPerSecond: 3_000,
  /**
   * A transactional write costs two write units per KB item (prepare and commit), and a
   * TransactWriteItems that meets an ongoing transaction on one of its items is cancelled
   * (TransactionConflict).
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
   */
  dynamoTransactionWcuPerItem: 2,
  /**
   * SQS standard queue: "a maximum of approximately 120,000 in flight messages".
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html
   */
  sqsInFlightMessages: 120_000,
  /**
   * SQS message size: 256 KiB (262,144 bytes); 10 messages per batch request.
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
   */
  sqsMessageBytes: 256 * 1024,
  sqsBatchMessages: 10,
  /**
   * Lambda: 900 s timeout, 10,240 MB memory, 1,024 file descriptors, 1,000 concurrent
   * executions per Region by default.
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
   */
  lambdaTimeoutSeconds: 900,
  lambdaMaxMemoryMb: 10_240,
  lambdaFileDescriptors: 1_024,
  lambdaAccountConcurrency: 1_000,
  /**
   * Lambda's concurrency scaling rate: 1,000 execution environments every 10 seconds per function.
   * https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
   */
  lambdaScalePer10Seconds: 1_000,
  /**
   * SQS event source: five concurrent batches at first, then "up to 300 more instances per
   * minute", at most 1,000 batches at once (MaximumConcurrency 2–1,000).
   * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
   */
  sqsEventSourceInitial: 5,
  sqsEventSourceRampPerMinute: 300,
  sqsEventSourceMaxConcurrency: 1_000,
  /**
   * S3 multipart upload: at most 10,000 parts, each 5 MiB to 5 GiB (the last may be smaller).
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
   */
  s3MultipartMaxParts: 10_000,
  s3MultipartMinPartBytes: 5 * 1024 * 1024,
  /** Lambda gives one full vCPU at 1,769 MB and CPU in proportion to memory (same page as above). */
  lambdaMbPerVcpu: 1_769,
} as const;

/** A Lambda function's share of one vCPU at `memoryMb`. */
export function vcpuShare(memoryMb: number): number {
  return Math.min(1, memoryMb / AWS_LIMITS.lambdaMbPerVcpu);
}

/**
 * Typical per-request latencies (ms), the model's medians. AWS gives orders of magnitude, not
 * figures: S3 small requests (< 512 KB) have "median latencies … often in the range of tens of
 * milliseconds"
 * (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html);
 * DynamoDB promises "single-digit millisecond performance"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Introduction.html). SQS
 * publishes no latency; 10–20 ms is what its API calls usually take in-Region (an assumption).
 */
export const AWS_LATENCY_MS = {
  s3Get: 25,
  s3Head: 20,
  s3Put: 35,
  s3List: 40,
  s3Delete: 25,
  /** Transfer after the first byte: about 80 MB/s on one connection (an assumption). */
  s3BytesPerMs: 80_000,
  dynamoRead: 5,
  dynamoWrite: 8,
  /** A two-item TransactWriteItems: prepare and commit, about twice a write. */
  dynamoTransaction: 15,
  sqsSend: 15,
  sqsReceive: 15,
  sqsDelete: 10,
} as const;

/**
 * How fanout's DynamoDB job store retries a transaction refused for a conflict or throttling
 * (lambda/adapters/aws/dynamo-job-store.ts: 10 attempts, full-jitter backoff from 20 ms, at
 * most 1 s); the model's job store retries the same way.
 */
export const CONFLICT_RETRY = { attempts: 10, baseMs: 20, maxMs: 1_000 } as const;
