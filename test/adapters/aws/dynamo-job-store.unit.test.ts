import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  counterShardShare,
  createJobTableInput,
  DynamoJobStore,
} from '../../../lambda/adapters/aws/dynamo-job-store.js';
import { listJobs } from '../../../lambda/cli/remote/jobs-command.js';
import type { Target } from '../../../lambda/cli/remote/target.js';
import { JOB_TABLE, JOBS_BY_CREATED_INDEX } from '../../../lambda/core/contract.js';

const ddb = mockClient(DynamoDBClient);
const jobs = new DynamoJobStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'jobs' });

beforeEach(() => ddb.reset());

const conditionFailed = () => new ConditionalCheckFailedException({ $metadata: {}, message: 'condition' });
const canceled = (...codes: string[]) =>
  new TransactionCanceledException({
    $metadata: {},
    message: 'Transaction cancelled',
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const SHARDS = JOB_TABLE.counterShards;

function jobItem(overrides: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  return {
    pk: { S: 'job#j1' },
    kind: { S: 'job' },
    jobId: { S: 'j1' },
    status: { S: 'running' },
    totalChunks: { N: '3' },
    accepted: { N: '700' },
    invalid: { N: '1' },
    createdAt: { S: '2026-01-01T00:00:00.000Z' },
    updatedAt: { S: '2026-01-01T00:01:00.000Z' },
    expiresAt: { N: '1769904000' },
    ...overrides,
  };
}

/** A counter shard item of job j1. */
function shardItem(shard: number, chunks: number, extra: Record<string, AttributeValue> = {}) {
  return {
    pk: { S: `job#j1#shard#${shard}` },
    chunksDone: { N: String(chunks) },
    urlsDone: { N: String(chunks * 10) },
    urlsFailed: { N: String(chunks) },
    ...extra,
  };
}

/** A BatchGetItem answer holding the given items of table jobs. */
const batch = (...items: Array<Record<string, AttributeValue>>) => ({ Responses: { jobs: items } });
/** The pk values of every key a BatchGetItem asked for. */
const batchKeys = (call: number) =>
  ddb.commandCalls(BatchGetItemCommand)[call]?.args[0].input.RequestItems?.jobs?.Keys?.map((k) => k.pk?.S) ??
  [];
/** Every item key any write touched: Put/Update/transaction items. */
function writtenKeys(): string[] {
  const keys: string[] = [];
  for (const call of ddb.commandCalls(UpdateItemCommand)) keys.push(call.args[0].input.Key?.pk?.S ?? '');
  for (const call of ddb.commandCalls(PutItemCommand)) keys.push(call.args[0].input.Item?.pk?.S ?? '');
  for (const call of ddb.commandCalls(TransactWriteItemsCommand)) {
    for (const item of call.args[0].input.TransactItems ?? []) {
      keys.push(item.Put?.Item?.pk?.S ?? item.Update?.Key?.pk?.S ?? item.ConditionCheck?.Key?.pk?.S ?? '');
    }
  }
  return keys;
}

describe('DynamoJobStore.create', () => {
  it('creates every counter shard, then puts the job item once (in the jobs index), with a TTL', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    const store = new DynamoJobStore({ client: new DynamoDBClient({}), tableName: 'jobs', ttlDays: 2 });
    await store.create('j1', new Date('2026-01-01T00:00:00.000Z'));
    const expiresAt = { N: String(Date.parse('2026-01-03T00:00:00.000Z') / 1000) };
    const shards = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(shards.map((u) => u.Key?.pk?.S).sort()).toEqual(
      Array.from({ length: SHARDS }, (_, i) => `job#j1#shard#${i}`).sort(),
    );
    for (const shard of shards) {
      // ADD 0 creates the shard and never resets a count: a repeated create is harmless.
      expect(shard.UpdateExpression).toMatch(/^ADD #chunksDone :zero, #urlsDone :zero, #urlsFailed :zero/);
      expect(shard.ExpressionAttributeValues?.[':expiresAt']).toEqual(expiresAt);
    }
    const input = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.Item).toMatchObject({
      pk: { S: 'job#j1' },
      [JOBS_BY_CREATED_INDEX.partitionKey.name]: { S: JOBS_BY_CREATED_INDEX.jobKind },
      createdAt: { S: '2026-01-01T00:00:00.000Z' },
      status: { S: 'dispatching' },
      expiresAt,
    });
    expect(input?.Item?.totalChunks).toBeUndefined();
    expect(input?.Item?.chunksDone).toBeUndefined();
  });

  it('an existing job is fine; other errors propagate', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ddb.on(PutItemCommand).rejectsOnce(conditionFailed()).rejectsOnce(new Error('boom'));
    await expect(jobs.create('j1', new Date())).resolves.toBeUndefined();
    await expect(jobs.create('j1', new Date())).rejects.toThrow('boom');
  });
});

describe('DynamoJobStore.setTotal', () => {
  it('moves dispatching to running, copies the total onto every shard, and returns the summed progress', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: jobItem() });
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 1), shardItem(1, 1)));
    expect(await jobs.setTotal('j1', { chunks: 3, accepted: 700, invalid: 1 })).toEqual({
      chunksDone: 2,
      totalChunks: 3,
    });
    const [job, ...shards] = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(job).toMatchObject({ ConditionExpression: '#status = :dispatching', ReturnValues: 'ALL_NEW' });
    expect(job?.UpdateExpression).toContain('#status = :running');
    expect(shards).toHaveLength(SHARDS);
    for (const shard of shards) {
      expect(shard.UpdateExpression).toBe('SET #totalChunks = :total');
      expect(shard.ExpressionAttributeValues?.[':total']).toEqual({ N: '3' });
    }
    expect(ddb.commandCalls(BatchGetItemCommand)[0]?.args[0].input.RequestItems?.jobs?.ConsistentRead).toBe(
      true,
    );
  });

  it('keeps a later status: on a failed status condition it records only the totals', async () => {
    ddb.on(UpdateItemCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: jobItem() });
    ddb.on(BatchGetItemCommand).resolves(batch());
    await jobs.setTotal('j1', { chunks: 3, accepted: 700, invalid: 1 });
    const second = ddb.commandCalls(UpdateItemCommand)[1]?.args[0].input;
    expect(second?.UpdateExpression).not.toContain('#status');
    expect(second?.ConditionExpression).toBe('attribute_exists(pk)');
  });

  it('an unknown job throws', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(jobs.setTotal('j1', { chunks: 1, accepted: 1, invalid: 0 })).rejects.toThrow(
      'unknown job j1',
    );
  });
});

describe('DynamoJobStore.markChunkDone', () => {
  it("puts the marker and adds to the chunk's shard in one transaction: the job item is never written", async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(GetItemCommand).resolves({ Item: shardItem(2, 1, { totalChunks: { N: '3' } }) });
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 1), shardItem(1, 1), shardItem(2, 1)));
    expect(await jobs.markChunkDone('j1', '00000002', { urls: 10, failed: 1 })).toEqual({
      chunksDone: 3,
      totalChunks: 3,
    });
    const [put, update] = ddb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(put?.Put).toMatchObject({
      Item: { pk: { S: 'job#j1#chunk#00000002' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(put?.Put?.Item?.expiresAt?.N).toMatch(/^\d+$/);
    expect(update?.Update).toMatchObject({
      Key: { pk: { S: 'job#j1#shard#2' } },
      UpdateExpression: 'ADD #chunksDone :one, #urlsDone :urls, #urlsFailed :failed',
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(update?.Update?.ExpressionAttributeValues).toMatchObject({
      ':urls': { N: '10' },
      ':failed': { N: '1' },
    });
    expect(writtenKeys()).not.toContain('job#j1');
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: { S: 'job#j1#shard#2' } },
      ConsistentRead: true,
    });
  });

  it('chunks spread over the shards by sequence number; no count writes or reads the job item', async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(GetItemCommand).resolves({ Item: shardItem(0, 1) });
    for (let i = 0; i < 2 * SHARDS; i += 1) await jobs.markChunkDone('j1', String(i).padStart(8, '0'));
    const shards = ddb
      .commandCalls(TransactWriteItemsCommand)
      .map((c) => c.args[0].input.TransactItems?.[1]?.Update?.Key?.pk?.S);
    const perShard = new Map<string | undefined, number>();
    for (const shard of shards) perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
    expect(perShard.size).toBe(SHARDS);
    expect([...perShard.values()].every((n) => n === 2)).toBe(true);
    expect(writtenKeys().filter((k) => k === 'job#j1')).toEqual([]);
    expect(ddb.commandCalls(GetItemCommand).every((c) => c.args[0].input.Key?.pk?.S !== 'job#j1')).toBe(true);
  });

  it('a shard short of its share answers without summing; the count that fills it sums the shards', async () => {
    // 100 chunks over the shards: shard 5 holds chunks 5, 5 + SHARDS, … (its share).
    const total = 100;
    const share = counterShardShare(5, total);
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb
      .on(GetItemCommand)
      .resolvesOnce({ Item: shardItem(5, share - 1, { totalChunks: { N: String(total) } }) })
      .resolvesOnce({ Item: shardItem(5, share, { totalChunks: { N: String(total) } }) });
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 60), shardItem(5, 40)));
    expect(await jobs.markChunkDone('j1', '00000005')).toEqual({ chunksDone: share - 1, totalChunks: total });
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
    expect(await jobs.markChunkDone('j1', String(5 + SHARDS))).toEqual({
      chunksDone: 100,
      totalChunks: total,
    });
    expect(batchKeys(0)).toEqual(Array.from({ length: SHARDS }, (_, i) => `job#j1#shard#${i}`));
  });

  it("before the total is known, a count reports its shard's count and totalChunks null", async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(GetItemCommand).resolves({ Item: shardItem(1, 4) });
    expect(await jobs.markChunkDone('j1', '00000001')).toEqual({ chunksDone: 4, totalChunks: null });
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('a chunk already counted (marker condition failed) changes nothing and reports progress', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(canceled('ConditionalCheckFailed', 'None'));
    ddb.on(GetItemCommand).resolves({ Item: shardItem(1, 1, { totalChunks: { N: '3' } }) });
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 1), shardItem(1, 1)));
    expect(await jobs.markChunkDone('j1', '00000001')).toEqual({ chunksDone: 2, totalChunks: 3 });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });

  it('retries a transaction conflict, then counts', async () => {
    ddb
      .on(TransactWriteItemsCommand)
      .rejectsOnce(canceled('None', 'TransactionConflict'))
      .rejectsOnce(canceled('TransactionConflict', 'None'))
      .resolves({});
    ddb.on(GetItemCommand).resolves({ Item: shardItem(1, 1) });
    await jobs.markChunkDone('j1', '00000001');
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(3);
  });

  it.each([
    [
      'the job has no shard (unknown job)',
      () => canceled('None', 'ConditionalCheckFailed'),
      'unknown job j1',
    ],
    ['a validation error', () => canceled('ValidationError', 'None'), 'Transaction cancelled'],
    [
      'throughput',
      () => new ProvisionedThroughputExceededException({ $metadata: {}, message: 'slow down' }),
      'slow down',
    ],
  ])('throws when %s', async (_case, error, message) => {
    ddb.on(TransactWriteItemsCommand).rejects(error());
    await expect(jobs.markChunkDone('j1', '00000001')).rejects.toThrow(message);
  });

  it('refuses a chunk id that is not a sequence number, naming it', async () => {
    await expect(jobs.markChunkDone('j1', 'c0')).rejects.toThrow(
      'chunk id "c0" is not a chunk sequence number (decimal digits)',
    );
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('counterShardShare', () => {
  it.each([0, 1, SHARDS - 1, SHARDS, SHARDS + 1, 1000, 100_000])(
    'the shares of %i chunks add up to the total, and chunk i lands on shard i mod N',
    (total) => {
      const shares = Array.from({ length: SHARDS }, (_, shard) => counterShardShare(shard, total));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
      const counted = new Array<number>(SHARDS).fill(0);
      for (let i = 0; i < total; i += 1) counted[i % SHARDS] = (counted[i % SHARDS] ?? 0) + 1;
      expect(counted).toEqual(shares);
    },
  );
});

describe('DynamoJobStore.claimFinalize', () => {
  it('sums the shards, then claims with a condition on no live claim, the total reached and a job still running', async () => {
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 2), shardItem(1, 1)));
    ddb.on(UpdateItemCommand).resolves({ Attributes: jobItem({ status: { S: 'finalizing' } }) });
    const before = Date.now();
    expect(await jobs.claimFinalize('j1', 60_000)).toBe(true);
    expect(ddb.commandCalls(BatchGetItemCommand)[0]?.args[0].input.RequestItems?.jobs?.ConsistentRead).toBe(
      true,
    );
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ pk: { S: 'job#j1' } });
    expect(input?.ConditionExpression).toBe(
      '(attribute_not_exists(#finalizeClaimedAt) OR #finalizeClaimedAt <= :expired) AND ' +
        '#totalChunks <= :chunksDone AND (#status = :running OR #status = :finalizing)',
    );
    const values = input?.ExpressionAttributeValues ?? {};
    expect(values[':chunksDone']).toEqual({ N: '3' });
    const now = Number(values[':now']?.N);
    expect(now).toBeGreaterThanOrEqual(before);
    // A claim older than the lease is abandoned: another caller may take it over.
    expect(Number(values[':expired']?.N)).toBe(now - 60_000);
    expect(values[':finalizing']).toEqual({ S: 'finalizing' });
  });

  it('ConditionalCheckFailed → false', async () => {
    ddb.on(BatchGetItemCommand).resolves(batch());
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    expect(await jobs.claimFinalize('j1')).toBe(false);
  });

  it('other errors propagate', async () => {
    ddb.on(BatchGetItemCommand).resolves(batch());
    ddb.on(UpdateItemCommand).rejects(new Error('network'));
    await expect(jobs.claimFinalize('j1')).rejects.toThrow('network');
  });
});

describe('DynamoJobStore reads, finish and cancel', () => {
  it('get reads the job item and its shards in one consistent BatchGetItem and sums them; null when absent', async () => {
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce(
        batch(
          shardItem(0, 1),
          jobItem({
            error: { S: 'boom' },
            cancelRequested: { BOOL: true },
            finalizeClaimedAt: { N: '1767225660000' },
          }),
          shardItem(1, 1, { urlsDone: { N: '480' }, urlsFailed: { N: '6' } }),
        ),
      )
      .resolvesOnce(batch(shardItem(0, 0)));
    expect(await jobs.get('j1')).toEqual({
      jobId: 'j1',
      status: 'running',
      totalChunks: 3,
      chunksDone: 2,
      accepted: 700,
      invalid: 1,
      urlsDone: 490,
      urlsFailed: 7,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:01:00.000Z',
      error: 'boom',
      cancelRequested: true,
    });
    expect(await jobs.get('j2')).toBeNull();
    expect(batchKeys(0)).toEqual([
      'job#j1',
      ...Array.from({ length: SHARDS }, (_, i) => `job#j1#shard#${i}`),
    ]);
    expect(ddb.commandCalls(BatchGetItemCommand)[0]?.args[0].input.RequestItems?.jobs?.ConsistentRead).toBe(
      true,
    );
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { jobs: [jobItem()] },
        UnprocessedKeys: { jobs: { Keys: [{ pk: { S: 'job#j1#shard#1' } }] } },
      })
      .resolvesOnce(batch(shardItem(1, 2)));
    expect(await jobs.get('j1')).toMatchObject({ chunksDone: 2, urlsDone: 20 });
    expect(batchKeys(1)).toEqual(['job#j1#shard#1']);
  });

  it('a job item without totals reads totalChunks null', async () => {
    const { totalChunks: _omitted, ...item } = jobItem({ status: { S: 'dispatching' } });
    ddb.on(BatchGetItemCommand).resolves(batch(item));
    expect((await jobs.get('j1'))?.totalChunks).toBeNull();
  });

  it('isCancelRequested reads the job item alone, never the shards', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce({ Item: { cancelRequested: { BOOL: true } } })
      .resolvesOnce({ Item: {} })
      .resolvesOnce({});
    expect(await jobs.isCancelRequested('j1')).toBe(true);
    expect(await jobs.isCancelRequested('j1')).toBe(false);
    expect(await jobs.isCancelRequested('nope')).toBe(false);
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: { S: 'job#j1' } },
      ConsistentRead: true,
      ProjectionExpression: '#cancelRequested',
    });
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('finish sets the status and the error when given', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: jobItem() });
    await jobs.finish('j1', 'failed', 'manifest missing');
    await jobs.finish('j1', 'succeeded');
    const [failed, succeeded] = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(failed?.UpdateExpression).toContain('#error = :error');
    expect(failed?.ExpressionAttributeValues?.[':error']).toEqual({ S: 'manifest missing' });
    expect(succeeded?.UpdateExpression).not.toContain('error');
    expect(succeeded?.ExpressionAttributeNames).not.toHaveProperty('#error');
  });

  it('requestCancel returns the new state with its counts, null for an unknown job', async () => {
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: jobItem({ cancelRequested: { BOOL: true } }) })
      .rejectsOnce(conditionFailed());
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 1)));
    expect(await jobs.requestCancel('j1')).toMatchObject({
      jobId: 'j1',
      cancelRequested: true,
      chunksDone: 1,
    });
    expect(await jobs.requestCancel('nope')).toBeNull();
  });
});

describe('fanout jobs: listJobs', () => {
  const target = { dynamodb: new DynamoDBClient({ region: 'us-east-1' }) } as unknown as Target;

  it("queries the jobs-by-created index newest first (never a Scan), and sums each job's shards", async () => {
    ddb.on(ScanCommand).rejects(new Error('a Scan reads every chunk marker'));
    ddb.on(QueryCommand).resolves({
      Items: [
        jobItem({ pk: { S: 'job#new' }, jobId: { S: 'new' }, createdAt: { S: '2026-01-02T00:00:00.000Z' } }),
        jobItem({ pk: { S: 'job#old' }, jobId: { S: 'old' } }),
      ],
    });
    ddb.on(BatchGetItemCommand).resolves(batch(shardItem(0, 2), shardItem(1, 1)));
    const listed = await listJobs(target, 'jobs', 2);
    expect(listed.map((j) => [j.jobId, j.chunksDone, j.urlsDone])).toEqual([
      ['new', 3, 30],
      ['old', 3, 30],
    ]);
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
    const query = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query).toMatchObject({
      TableName: 'jobs',
      IndexName: JOBS_BY_CREATED_INDEX.indexName,
      KeyConditionExpression: '#kind = :job',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: { ':job': { S: 'job' } },
      ScanIndexForward: false,
      Limit: 2,
    });
  });

  it('refuses a limit that is not a positive integer, before any request', async () => {
    await expect(listJobs(target, 'jobs', 0)).rejects.toThrow('limit must be a positive integer, not 0');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reads no further page than the limit needs', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [jobItem(), jobItem({ pk: { S: 'job#j2' }, jobId: { S: 'j2' } })],
      LastEvaluatedKey: { pk: { S: 'job#j2' } },
    });
    ddb.on(BatchGetItemCommand).resolves(batch());
    expect((await listJobs(target, 'jobs', 1)).map((j) => j.jobId)).toEqual(['j1']);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});

it('createJobTableInput: pk S HASH, on demand, with the jobs-by-created index (kind, createdAt)', () => {
  expect(createJobTableInput('jobs')).toEqual({
    TableName: 'jobs',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'kind', AttributeType: 'S' },
      { AttributeName: 'createdAt', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: [
      {
        IndexName: 'jobs-by-created',
        KeySchema: [
          { AttributeName: 'kind', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
});
