import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createJobTableInput, DynamoJobStore } from '../../../lambda/adapters/aws/dynamo-job-store.js';

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

function jobItem(overrides: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  return {
    pk: { S: 'job#j1' },
    jobId: { S: 'j1' },
    status: { S: 'running' },
    totalChunks: { N: '3' },
    chunksDone: { N: '2' },
    accepted: { N: '700' },
    invalid: { N: '1' },
    createdAt: { S: '2026-01-01T00:00:00.000Z' },
    updatedAt: { S: '2026-01-01T00:01:00.000Z' },
    expiresAt: { N: '1769904000' },
    ...overrides,
  };
}

describe('DynamoJobStore.create', () => {
  it('puts the job item once, with a TTL ttlDays after creation', async () => {
    ddb.on(PutItemCommand).resolves({});
    const store = new DynamoJobStore({ client: new DynamoDBClient({}), tableName: 'jobs', ttlDays: 2 });
    await store.create('j1', new Date('2026-01-01T00:00:00.000Z'));
    const input = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.Item).toMatchObject({
      pk: { S: 'job#j1' },
      status: { S: 'dispatching' },
      chunksDone: { N: '0' },
      expiresAt: { N: String(Date.parse('2026-01-03T00:00:00.000Z') / 1000) },
    });
    expect(input?.Item?.totalChunks).toBeUndefined();
  });

  it('an existing job is fine; other errors propagate', async () => {
    ddb.on(PutItemCommand).rejectsOnce(conditionFailed()).rejectsOnce(new Error('boom'));
    await expect(jobs.create('j1', new Date())).resolves.toBeUndefined();
    await expect(jobs.create('j1', new Date())).rejects.toThrow('boom');
  });
});

describe('DynamoJobStore.setTotal', () => {
  it('moves dispatching to running and returns the progress', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: jobItem() });
    expect(await jobs.setTotal('j1', { chunks: 3, accepted: 700, invalid: 1 })).toEqual({
      chunksDone: 2,
      totalChunks: 3,
    });
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ ConditionExpression: '#status = :dispatching', ReturnValues: 'ALL_NEW' });
    expect(input?.UpdateExpression).toContain('#status = :running');
  });

  it('keeps a later status: on a failed status condition it records only the totals', async () => {
    ddb.on(UpdateItemCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: jobItem() });
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
  it('puts the chunk marker and adds one in a single transaction, then reads consistently', async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(GetItemCommand).resolves({ Item: jobItem({ chunksDone: { N: '3' } }) });
    expect(await jobs.markChunkDone('j1', '00000002')).toEqual({ chunksDone: 3, totalChunks: 3 });
    const [put, update] = ddb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(put?.Put).toMatchObject({
      Item: { pk: { S: 'job#j1#chunk#00000002' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(put?.Put?.Item?.expiresAt?.N).toMatch(/^\d+$/);
    expect(update?.Update?.UpdateExpression).toContain('ADD #chunksDone :one');
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('a chunk already counted (marker condition failed) changes nothing and reports progress', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(canceled('ConditionalCheckFailed', 'None'));
    ddb.on(GetItemCommand).resolves({ Item: jobItem() });
    expect(await jobs.markChunkDone('j1', '00000001')).toEqual({ chunksDone: 2, totalChunks: 3 });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });

  it('retries a transaction conflict, then counts', async () => {
    ddb
      .on(TransactWriteItemsCommand)
      .rejectsOnce(canceled('None', 'TransactionConflict'))
      .rejectsOnce(canceled('TransactionConflict', 'None'))
      .resolves({});
    ddb.on(GetItemCommand).resolves({ Item: jobItem() });
    await jobs.markChunkDone('j1', '00000001');
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(3);
  });

  it.each([
    ['the job item is missing', () => canceled('None', 'ConditionalCheckFailed'), 'unknown job j1'],
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
});

describe('DynamoJobStore.claimFinalize', () => {
  it('claims with a condition on no live claim, every chunk done and a job still running', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: jobItem({ status: { S: 'finalizing' } }) });
    const before = Date.now();
    expect(await jobs.claimFinalize('j1', 60_000)).toBe(true);
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      '(attribute_not_exists(#finalizeClaimedAt) OR #finalizeClaimedAt <= :expired) AND ' +
        '#chunksDone >= #totalChunks AND (#status = :running OR #status = :finalizing)',
    );
    const values = input?.ExpressionAttributeValues ?? {};
    const now = Number(values[':now']?.N);
    expect(now).toBeGreaterThanOrEqual(before);
    // A claim older than the lease is abandoned: another caller may take it over.
    expect(Number(values[':expired']?.N)).toBe(now - 60_000);
    expect(values[':finalizing']).toEqual({ S: 'finalizing' });
  });

  it('ConditionalCheckFailed → false', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    expect(await jobs.claimFinalize('j1')).toBe(false);
  });

  it('other errors propagate', async () => {
    ddb.on(UpdateItemCommand).rejects(new Error('network'));
    await expect(jobs.claimFinalize('j1')).rejects.toThrow('network');
  });
});

describe('DynamoJobStore reads, finish and cancel', () => {
  it('get maps the item to JobState (consistent read), null when absent', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce({
        Item: jobItem({
          error: { S: 'boom' },
          cancelRequested: { BOOL: true },
          finalizeClaimedAt: { N: '1767225660000' },
          urlsDone: { N: '500' },
          urlsFailed: { N: '7' },
        }),
      })
      .resolvesOnce({});
    expect(await jobs.get('j1')).toEqual({
      jobId: 'j1',
      status: 'running',
      totalChunks: 3,
      chunksDone: 2,
      accepted: 700,
      invalid: 1,
      urlsDone: 500,
      urlsFailed: 7,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:01:00.000Z',
      error: 'boom',
      cancelRequested: true,
    });
    expect(await jobs.get('j2')).toBeNull();
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: { S: 'job#j1' } },
      ConsistentRead: true,
    });
  });

  it('a job item without totals reads totalChunks null', async () => {
    const { totalChunks: _omitted, ...item } = jobItem({ status: { S: 'dispatching' } });
    ddb.on(GetItemCommand).resolves({ Item: item });
    expect((await jobs.get('j1'))?.totalChunks).toBeNull();
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

  it('requestCancel returns the new state, null for an unknown job', async () => {
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: jobItem({ cancelRequested: { BOOL: true } }) })
      .rejectsOnce(conditionFailed());
    expect(await jobs.requestCancel('j1')).toMatchObject({ jobId: 'j1', cancelRequested: true });
    expect(await jobs.requestCancel('nope')).toBeNull();
  });
});

it('createJobTableInput: pk S HASH, on demand', () => {
  expect(createJobTableInput('jobs')).toEqual({
    TableName: 'jobs',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
});
