import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { type BucketLocationConstraint, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DEPLOYMENT_DEFAULTS, JOB_TABLE, visibilityTimeoutSeconds } from '../../core/contract.js';
import type { AwsClients } from './clients.js';
import { createJobTableInput } from './dynamo-job-store.js';
import { awsErrorOf } from './retry.js';
import { isFifoQueue } from './sqs-chunk-queue.js';

/** Names of the resources fanout needs, and the queue's redrive and visibility settings. */
export interface ResourceNames {
  bucket: string;
  queueName: string;
  dlqName: string;
  tableName: string;
  /** Receives of a chunk message before it moves to the DLQ. @default DEPLOYMENT_DEFAULTS.maxReceiveCount (5, as the stack) */
  maxReceiveCount?: number;
  /**
   * Seconds a received chunk stays hidden from other workers.
   * @default six times the default worker timeout, as the stack (1800)
   */
  visibilityTimeoutSeconds?: number;
}

/** The queues created (or found) by {@link ensureResources}. */
export interface ProvisionedQueues {
  queueUrl: string;
  dlqUrl: string;
  dlqArn: string;
}

/** Longest wait for the job table to become ACTIVE. */
const TABLE_WAIT_SECONDS = 120;

/**
 * Creates, idempotently, the bucket, the DLQ, the chunk queue (redriving to the DLQ) and the
 * job table (waiting until ACTIVE, with TTL on), as the stack sets them up (the contract's
 * DEPLOYMENT_DEFAULTS and JOB_TABLE); used by `fanout run --endpoint` and tests. Running it
 * again converges existing resources to these settings.
 */
export async function ensureResources(clients: AwsClients, names: ResourceNames): Promise<ProvisionedQueues> {
  await ensureBucket(clients.s3, names.bucket);
  const dlqUrl = await ensureQueue(clients.sqs, names.dlqName, {
    ...fifoAttributes(names.dlqName),
    MessageRetentionPeriod: String(DEPLOYMENT_DEFAULTS.deadLetterRetentionSeconds),
    VisibilityTimeout: String(visibilityTimeoutSeconds(DEPLOYMENT_DEFAULTS.deadLetterTimeoutSeconds)),
  });
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const dlqArn = Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`queue ${names.dlqName} has no QueueArn`);
  const queueUrl = await ensureQueue(clients.sqs, names.queueName, {
    ...fifoAttributes(names.queueName),
    VisibilityTimeout: String(
      names.visibilityTimeoutSeconds ?? visibilityTimeoutSeconds(DEPLOYMENT_DEFAULTS.workerTimeoutSeconds),
    ),
    MessageRetentionPeriod: String(DEPLOYMENT_DEFAULTS.queueRetentionSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: names.maxReceiveCount ?? DEPLOYMENT_DEFAULTS.maxReceiveCount,
    }),
  });
  await ensureTable(
    clients.dynamodb,
    { ...createJobTableInput(names.tableName), TableName: names.tableName },
    JOB_TABLE.ttlAttribute,
  );
  return { queueUrl, dlqUrl, dlqArn };
}

/** CreateBucket, unless this account has it already. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  const region = await s3.config.region();
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the default location and refuses to be named.
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
  } catch (err) {
    if (awsErrorOf(err).name !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

/**
 * A queue named `*.fifo` is a FIFO queue, as the stack's are: high throughput (deduplication and
 * the throughput limit per message group), since each job's host group is its own group.
 */
function fifoAttributes(queueName: string): Partial<Record<QueueAttributeName, string>> {
  if (!isFifoQueue(queueName)) return {};
  return { FifoQueue: 'true', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' };
}

/** CreateQueue with the attributes; an existing queue with other attributes gets them set instead. */
export async function ensureQueue(
  sqs: SQSClient,
  queueName: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }),
    );
    if (QueueUrl) return QueueUrl;
  } catch (err) {
    const { name } = awsErrorOf(err);
    if (name !== 'QueueNameExists' && name !== 'QueueAlreadyExists') throw err;
  }
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  if (!QueueUrl) throw new Error(`queue ${queueName} has no URL`);
  // Whether a queue is FIFO is fixed when it is made.
  const { FifoQueue: _fixed, ...settable } = attributes;
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: settable }));
  return QueueUrl;
}

/**
 * CreateTable with `input` unless the table exists; waits until it is ACTIVE, adds the indexes
 * of `input` an existing table lacks (one UpdateTable each), and turns TTL on `ttlAttribute`
 * on. Resolves to the table's ARN.
 */
export async function ensureTable(
  dynamodb: AwsClients['dynamodb'],
  input: CreateTableCommandInput & { TableName: string },
  ttlAttribute?: string,
): Promise<string> {
  const { TableName } = input;
  try {
    await dynamodb.send(new CreateTableCommand(input));
  } catch (err) {
    if (awsErrorOf(err).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilTableExists(
    { client: dynamodb, maxWaitTime: TABLE_WAIT_SECONDS, minDelay: 1, maxDelay: 5 },
    { TableName },
  );
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    await dynamodb.send(
      new UpdateTableCommand({
        TableName,
        AttributeDefinitions: input.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
  }
  if (ttlAttribute) {
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== 'ENABLED' && status !== 'ENABLING') {
      await dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName,
          TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
        }),
      );
    }
  }
  if (!Table?.TableArn) throw new Error(`table ${TableName} has no ARN`);
  return Table.TableArn;
}
