import {
  BatchGetItemCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { JOB_TABLE, JOBS_BY_CREATED_INDEX, type TableKey } from '../../core/contract.js';
import {
  type ChunkCounts,
  DEFAULT_FINALIZE_LEASE_MS,
  type JobState,
  type JobStatus,
  type JobStore,
  type Progress,
} from '../../core/ports.js';
import {
  bool,
  type Item,
  type JobCounters,
  names,
  num,
  readNumber,
  str,
  sumCounters,
  toJobState,
} from './dynamo-attributes.js';
import { awsErrorOf, backoff } from './retry.js';

/** Attempts of a write that DynamoDB refused because a transaction on the same item was in flight. */
const CONFLICT_ATTEMPTS = 10;
const CONFLICT_BASE_MS = 20;
const CONFLICT_MAX_MS = 1000;
const DAY_SECONDS = 86_400;
/** Rounds of BatchGetItem for the keys DynamoDB left unprocessed (throttled) before giving up. */
const BATCH_GET_ATTEMPTS = 8;
/** Jobs whose counters `list` reads at once. */
const LIST_READS_IN_FLIGHT = 8;

/** Options of {@link DynamoJobStore}. */
export interface DynamoJobStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Days a job (and its counter shards and chunk markers) lives before DynamoDB's TTL removes it. @default 30 */
  ttlDays?: number;
}

const SHARDS = JOB_TABLE.counterShards;
const jobKey = (jobId: string) => ({ pk: str(`job#${jobId}`) });
const shardKey = (jobId: string, shard: number) => ({ pk: str(`job#${jobId}#shard#${shard}`) });
const chunkKey = (jobId: string, chunkId: string) => ({ pk: str(`job#${jobId}#chunk#${chunkId}`) });
const shardKeys = (jobId: string) => Array.from({ length: SHARDS }, (_, shard) => shardKey(jobId, shard));

/** The counter shard of a chunk: its sequence number (chunk ids are `chunkIdAt(i)`) modulo the shard count. */
export function counterShardOf(chunkId: string, shards: number = SHARDS): number {
  if (!/^\d{1,15}$/.test(chunkId)) {
    throw new Error(`chunk id "${chunkId}" is not a chunk sequence number (decimal digits)`);
  }
  return Number(chunkId) % shards;
}

/** How many of a job's `totalChunks` chunks (ids 0 … total-1) count on `shard`. */
export function counterShardShare(shard: number, totalChunks: number): number {
  return Math.floor(totalChunks / SHARDS) + (shard < totalChunks % SHARDS ? 1 : 0);
}

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
 * Job state in one DynamoDB table, with no item written per chunk but the chunk's own: an
 * item per job (`job#<id>`, written a handful of times per job), its counters over
 * JOB_TABLE.counterShards shard items (`job#<id>#shard#<n>`), and a marker per counted chunk
 * (`job#<id>#chunk#<chunkId>`). Counting a chunk is one transaction on its marker and its
 * shard, so counting it twice changes nothing; the job's counts are the shards' sum.
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

  /**
   * Creates the counter shards (an idempotent ADD of 0), then the job item if it is absent:
   * a create cut short is completed by the next, and a job that exists keeps its counts.
   */
  async create(jobId: string, createdAt: Date): Promise<void> {
    const at = createdAt.toISOString();
    const expiresAt = num(Math.floor(createdAt.getTime() / 1000) + this.ttlSeconds);
    await Promise.all(
      shardKeys(jobId).map((Key) =>
        this.update({
          Key,
          UpdateExpression:
            'ADD #chunksDone :zero, #urlsDone :zero, #urlsFailed :zero SET #expiresAt = :expiresAt',
          ExpressionAttributeNames: names('chunksDone', 'urlsDone', 'urlsFailed', 'expiresAt'),
          ExpressionAttributeValues: { ':zero': num(0), ':expiresAt': expiresAt },
        }),
      ),
    );
    const item: Item = {
      ...jobKey(jobId),
      [JOBS_BY_CREATED_INDEX.partitionKey.name]: str(JOBS_BY_CREATED_INDEX.jobKind),
      jobId: str(jobId),
      status: str('dispatching'),
      accepted: num(0),
      invalid: num(0),
      createdAt: str(at),
      updatedAt: str(at),
      expiresAt,
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

  /**
   * Records the totals (the status moves from dispatching to running; a later status is kept),
   * then copies the chunk total onto every counter shard, then sums the shards. A worker that
   * counted before a shard had the total is seen by this sum; one after it sees the total.
   */
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
    await Promise.all(
      shardKeys(jobId).map((Key) =>
        this.update({
          Key,
          UpdateExpression: 'SET #totalChunks = :total',
          ExpressionAttributeNames: names('totalChunks'),
          ExpressionAttributeValues: { ':total': num(totals.chunks) },
        }),
      ),
    );
    const counters = await this.readCounters(jobId);
    return { chunksDone: counters.chunksDone, totalChunks: totals.chunks };
  }

  /**
   * Puts the chunk's marker and adds one to its counter shard in one transaction (a marker
   * already there means counted). Then reads the shard: only when the shard holds its whole
   * share of the chunks can the job be complete, and only then are the shards summed, so a
   * job of C chunks costs C one-item reads and at most about counterShards sums.
   */
  async markChunkDone(jobId: string, chunkId: string, urls?: ChunkCounts): Promise<Progress> {
    const shard = counterShardOf(chunkId);
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
            Key: shardKey(jobId, shard),
            UpdateExpression: 'ADD #chunksDone :one, #urlsDone :urls, #urlsFailed :failed',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: names('chunksDone', 'urlsDone', 'urlsFailed'),
            ExpressionAttributeValues: {
              ':one': num(1),
              ':urls': num(urls?.urls ?? 0),
              ':failed': num(urls?.failed ?? 0),
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
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: shardKey(jobId, shard), ConsistentRead: true }),
    );
    if (!Item) throw new Error(`unknown job ${jobId}`);
    const counted = readNumber(Item, 'chunksDone') ?? 0;
    const total = readNumber(Item, 'totalChunks');
    if (total === undefined) return { chunksDone: counted, totalChunks: null };
    if (counted < counterShardShare(shard, total)) return { chunksDone: counted, totalChunks: total };
    return { chunksDone: (await this.readCounters(jobId)).chunksDone, totalChunks: total };
  }

  /**
   * True for the one caller whose conditional update on the job item finds the shards' sum
   * (read just before; counts only grow) at the total, the job still running (or finalizing
   * under a claim older than the lease), and no live claim.
   */
  async claimFinalize(jobId: string, leaseMs = DEFAULT_FINALIZE_LEASE_MS): Promise<boolean> {
    const { chunksDone } = await this.readCounters(jobId);
    const now = Date.now();
    const item = await this.update({
      Key: jobKey(jobId),
      UpdateExpression: 'SET #finalizeClaimedAt = :now, #status = :finalizing, #updatedAt = :at',
      ConditionExpression:
        '(attribute_not_exists(#finalizeClaimedAt) OR #finalizeClaimedAt <= :expired) AND ' +
        '#totalChunks <= :chunksDone AND (#status = :running OR #status = :finalizing)',
      ExpressionAttributeNames: names('finalizeClaimedAt', 'status', 'updatedAt', 'totalChunks'),
      ExpressionAttributeValues: {
        ':now': num(now),
        ':expired': num(now - leaseMs),
        ':chunksDone': num(chunksDone),
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

  /** The job item and its counter shards in one strongly consistent BatchGetItem. */
  async get(jobId: string): Promise<JobState | null> {
    const items = await this.batchGet([jobKey(jobId), ...shardKeys(jobId)], true);
    const pk = jobKey(jobId).pk.S;
    const job = items.find((item) => item.pk?.S === pk);
    if (!job) return null;
    return toJobState(job, sumCounters(items.filter((item) => item !== job)));
  }

  /** One strongly consistent GetItem of the job item's cancelRequested. */
  async isCancelRequested(jobId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: jobKey(jobId),
        ConsistentRead: true,
        ProjectionExpression: '#cancelRequested',
        ExpressionAttributeNames: names('cancelRequested'),
      }),
    );
    return Item?.cancelRequested?.BOOL === true;
  }

  async requestCancel(jobId: string): Promise<JobState | null> {
    const item = await this.update({
      Key: jobKey(jobId),
      UpdateExpression: 'SET #cancelRequested = :true, #updatedAt = :now',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names('cancelRequested', 'updatedAt'),
      ExpressionAttributeValues: { ':true': bool(true), ':now': str(new Date().toISOString()) },
    });
    return item ? toJobState(item, await this.readCounters(jobId)) : null;
  }

  /**
   * The newest `limit` jobs, newest first: a Query on the jobs-by-created index (job items
   * only, never a chunk marker), then each job's counter shards.
   */
  async listNewest(limit: number): Promise<JobState[]> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    const { indexName, partitionKey, jobKind } = JOBS_BY_CREATED_INDEX;
    const items: Item[] = [];
    const pages = paginateQuery(
      { client: this.client, pageSize: Math.min(limit, 1000) },
      {
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#kind = :job',
        ExpressionAttributeNames: { '#kind': partitionKey.name },
        ExpressionAttributeValues: { ':job': str(jobKind) },
        ScanIndexForward: false,
      },
    );
    for await (const page of pages) {
      items.push(...(page.Items ?? []));
      if (items.length >= limit) break;
    }
    const newest = items.slice(0, limit);
    const jobs: JobState[] = [];
    for (let i = 0; i < newest.length; i += LIST_READS_IN_FLIGHT) {
      const batch = newest.slice(i, i + LIST_READS_IN_FLIGHT);
      jobs.push(
        ...(await Promise.all(
          batch.map(async (item) => {
            const jobId = item.jobId?.S ?? (item.pk?.S ?? '').replace(/^job#/, '');
            return toJobState(item, await this.readCounters(jobId, false));
          }),
        )),
      );
    }
    return jobs;
  }

  /** The sum of a job's counter shards (strongly consistent unless told otherwise). */
  private async readCounters(jobId: string, consistent = true): Promise<JobCounters> {
    return sumCounters(await this.batchGet(shardKeys(jobId), consistent));
  }

  /** BatchGetItem of up to 100 keys, asking again for the keys DynamoDB left unprocessed. */
  private async batchGet(keys: Item[], consistent: boolean): Promise<Item[]> {
    const found: Item[] = [];
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const res = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: consistent } },
        }),
      );
      found.push(...(res.Responses?.[this.tableName] ?? []));
      pending = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      if (pending.length === 0) break;
      if (attempt >= BATCH_GET_ATTEMPTS) {
        throw new Error(
          `job table ${this.tableName}: ${pending.length} keys still unprocessed after ${attempt} reads`,
        );
      }
      await backoff(attempt, CONFLICT_BASE_MS, CONFLICT_MAX_MS);
    }
    return found;
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
