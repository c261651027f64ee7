import {
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { JOB_TABLE, type TableKey } from '../../core/contract.js';
import {
  type ChunkCounts,
  DEFAULT_FINALIZE_LEASE_MS,
  type JobState,
  type JobStatus,
  type JobStore,
  type Progress,
} from '../../core/ports.js';
import { bool, type Item, names, num, str, toJobState } from './dynamo-attributes.js';
import { awsErrorOf, backoff } from './retry.js';

/** Attempts of a write that DynamoDB refused because a transaction on the same item was in flight. */
const CONFLICT_ATTEMPTS = 10;
const CONFLICT_BASE_MS = 20;
const CONFLICT_MAX_MS = 1000;
const DAY_SECONDS = 86_400;

/** Options of {@link DynamoJobStore}. */
export interface DynamoJobStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Days a job (and its chunk markers) lives before DynamoDB's TTL removes it. @default 30 */
  ttlDays?: number;
}

const jobKey = (jobId: string) => ({ pk: str(`job#${jobId}`) });
const chunkKey = (jobId: string, chunkId: string) => ({ pk: str(`job#${jobId}#chunk#${chunkId}`) });

/** A key schema: the partition key (HASH), then the sort key (RANGE) when there is one. */
function keySchema(partitionKey: TableKey, sortKey: TableKey | undefined) {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

/**
 * The job table's definition from the contract's JOB_TABLE (keys and indexes, on demand), for
 * provisioning; TTL on JOB_TABLE.ttlAttribute is turned on apart (CreateTable cannot).
 */
export function createJobTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, indexes } = JOB_TABLE;
  const keys = [partitionKey, sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  const attributes = new Map<string, TableKey>();
  for (const key of keys) if (key) attributes.set(key.name, key);
  return {
    TableName: tableName,
    AttributeDefinitions: [...attributes.values()].map((k) => ({
      AttributeName: k.name,
      AttributeType: k.type,
    })),
    KeySchema: keySchema(partitionKey, sortKey),
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes.length > 0 && {
      GlobalSecondaryIndexes: indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  };
}

/**
 * Job state in one DynamoDB table: an item per job (`job#<id>`) and a marker item per
 * counted chunk (`job#<id>#chunk#<chunkId>`), so counting a chunk twice changes nothing.
 */
export class DynamoJobStore implements JobStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly ttlSeconds: number;

  constructor(options: DynamoJobStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ttlSeconds = (options.ttlDays ?? 30) * DAY_SECONDS;
  }

  async create(jobId: string, createdAt: Date): Promise<void> {
    const at = createdAt.toISOString();
    const item: Item = {
      ...jobKey(jobId),
      jobId: str(jobId),
      status: str('dispatching'),
      chunksDone: num(0),
      accepted: num(0),
      invalid: num(0),
      urlsDone: num(0),
      urlsFailed: num(0),
      createdAt: str(at),
      updatedAt: str(at),
      expiresAt: num(Math.floor(createdAt.getTime() / 1000) + this.ttlSeconds),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** Records the totals; the status moves from dispatching to running (a later status is kept). */
  async setTotal(
    jobId: string,
    totals: { chunks: number; accepted: number; invalid: number },
  ): Promise<Progress> {
    const values = {
      ':total': num(totals.chunks),
      ':accepted': num(totals.accepted),
      ':invalid': num(totals.invalid),
      ':now': str(new Date().toISOString()),
    };
    const set = 'SET #totalChunks = :total, #accepted = :accepted, #invalid = :invalid, #updatedAt = :now';
    const attrs = ['totalChunks', 'accepted', 'invalid', 'updatedAt'];
    const running = await this.update({
      Key: jobKey(jobId),
      UpdateExpression: `${set}, #status = :running`,
      ConditionExpression: '#status = :dispatching',
      ExpressionAttributeNames: names(...attrs, 'status'),
      ExpressionAttributeValues: {
        ...values,
        ':running': str('running'),
        ':dispatching': str('dispatching'),
      },
    });
    const item =
      running ??
      (await this.update({
        Key: jobKey(jobId),
        UpdateExpression: set,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names(...attrs),
        ExpressionAttributeValues: values,
      }));
    if (!item) throw new Error(`unknown job ${jobId}`);
    return progressOf(toJobState(item));
  }

  /** Puts the chunk's marker and adds one to chunksDone in one transaction; a marker already there means counted. */
  async markChunkDone(jobId: string, chunkId: string, urls?: ChunkCounts): Promise<Progress> {
    const now = new Date();
    const command = new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...chunkKey(jobId, chunkId),
              doneAt: str(now.toISOString()),
              expiresAt: num(Math.floor(now.getTime() / 1000) + this.ttlSeconds),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: jobKey(jobId),
            UpdateExpression:
              'ADD #chunksDone :one, #urlsDone :urls, #urlsFailed :failed SET #updatedAt = :now',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: names('chunksDone', 'urlsDone', 'urlsFailed', 'updatedAt'),
            ExpressionAttributeValues: {
              ':one': num(1),
              ':urls': num(urls?.urls ?? 0),
              ':failed': num(urls?.failed ?? 0),
              ':now': str(now.toISOString()),
            },
          },
        },
      ],
    });
    try {
      await retryOnConflict(() => this.client.send(command));
    } catch (err) {
      const reasons = cancellationCodes(err);
      if (reasons[1] === 'ConditionalCheckFailed') throw new Error(`unknown job ${jobId}`, { cause: err });
      if (reasons[0] !== 'ConditionalCheckFailed') throw err;
    }
    const state = await this.get(jobId);
    if (!state) throw new Error(`unknown job ${jobId}`);
    return progressOf(state);
  }

  /**
   * True for the one caller whose conditional update finds every chunk done, the job still
   * running (or finalizing under a claim older than the lease), and no live claim.
   */
  async claimFinalize(jobId: string, leaseMs = DEFAULT_FINALIZE_LEASE_MS): Promise<boolean> {
    const now = Date.now();
    const item = await this.update({
      Key: jobKey(jobId),
      UpdateExpression: 'SET #finalizeClaimedAt = :now, #status = :finalizing, #updatedAt = :at',
      ConditionExpression:
        '(attribute_not_exists(#finalizeClaimedAt) OR #finalizeClaimedAt <= :expired) AND ' +
        '#chunksDone >= #totalChunks AND (#status = :running OR #status = :finalizing)',
      ExpressionAttributeNames: names(
        'finalizeClaimedAt',
        'status',
        'updatedAt',
        'chunksDone',
        'totalChunks',
      ),
      ExpressionAttributeValues: {
        ':now': num(now),
        ':expired': num(now - leaseMs),
        ':running': str('running'),
        ':finalizing': str('finalizing'),
        ':at': str(new Date(now).toISOString()),
      },
    });
    return item !== null;
  }

  async finish(jobId: string, status: JobStatus, error?: string): Promise<void> {
    const withError = error !== undefined;
    const item = await this.update({
      Key: jobKey(jobId),
      UpdateExpression: `SET #status = :status, #updatedAt = :now${withError ? ', #error = :error' : ''}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names('status', 'updatedAt', ...(withError ? ['error'] : [])),
      ExpressionAttributeValues: {
        ':status': str(status),
        ':now': str(new Date().toISOString()),
        ...(withError ? { ':error': str(error) } : {}),
      },
    });
    if (!item) throw new Error(`unknown job ${jobId}`);
  }

  /** One strongly consistent GetItem. */
  async get(jobId: string): Promise<JobState | null> {
    const res = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: jobKey(jobId), ConsistentRead: true }),
    );
    return res.Item ? toJobState(res.Item) : null;
  }

  async requestCancel(jobId: string): Promise<JobState | null> {
    const item = await this.update({
      Key: jobKey(jobId),
      UpdateExpression: 'SET #cancelRequested = :true, #updatedAt = :now',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names('cancelRequested', 'updatedAt'),
      ExpressionAttributeValues: { ':true': bool(true), ':now': str(new Date().toISOString()) },
    });
    return item ? toJobState(item) : null;
  }

  /** A conditional UpdateItem returning the new item, or null when the condition failed. */
  private async update(
    input: Omit<UpdateItemCommandInput, 'TableName' | 'ReturnValues'>,
  ): Promise<Item | null> {
    const command = new UpdateItemCommand({ ...input, TableName: this.tableName, ReturnValues: 'ALL_NEW' });
    try {
      const res = await retryOnConflict(() => this.client.send(command));
      return res.Attributes ?? null;
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }
}

function progressOf(state: JobState): Progress {
  return { chunksDone: state.chunksDone, totalChunks: state.totalChunks };
}

function isConditionFailed(err: unknown): boolean {
  return awsErrorOf(err).name === 'ConditionalCheckFailedException';
}

/** The cancellation reason codes of a TransactionCanceledException, in request order; [] for anything else. */
function cancellationCodes(err: unknown): string[] {
  if (awsErrorOf(err).name !== 'TransactionCanceledException') return [];
  const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

/**
 * Runs a write again while DynamoDB refuses it for a concurrent transaction on the same item
 * (TransactionConflict): concurrent workers counting chunks of one job collide there, and the
 * SDK does not retry it.
 */
async function retryOnConflict<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (err) {
      const conflict =
        awsErrorOf(err).name === 'TransactionConflictException' ||
        cancellationCodes(err).some((code) => code === 'TransactionConflict' || code === 'ThrottlingError');
      if (!conflict || attempt >= CONFLICT_ATTEMPTS) throw err;
      await backoff(attempt, CONFLICT_BASE_MS, CONFLICT_MAX_MS);
    }
  }
}
