import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJobTableInput, DynamoJobStore } from '../../../lambda/adapters/aws/dynamo-job-store.js';
import { uniqueName, useMoto } from './moto-fixture.js';

const clients = useMoto();
let tableName: string;
let jobs: DynamoJobStore;

beforeAll(async () => {
  tableName = uniqueName('fanout-jobs');
  await clients().dynamodb.send(new CreateTableCommand(createJobTableInput(tableName)));
  jobs = new DynamoJobStore({ client: clients().dynamodb, tableName, ttlDays: 7 });
});

const chunkId = (i: number) => String(i).padStart(8, '0');

describe('DynamoJobStore against moto', () => {
  it('create is a no-op for an existing job and sets the TTL', async () => {
    const createdAt = new Date('2026-01-02T03:04:05.000Z');
    await jobs.create('job-create', createdAt);
    await jobs.create('job-create', new Date('2030-01-01T00:00:00.000Z'));
    expect(await jobs.get('job-create')).toEqual({
      jobId: 'job-create',
      status: 'dispatching',
      totalChunks: null,
      chunksDone: 0,
      accepted: 0,
      invalid: 0,
      urlsDone: 0,
      urlsFailed: 0,
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:05.000Z',
    });
    const raw = await clients().dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'job#job-create' } } }),
    );
    expect(Number(raw.Item?.expiresAt?.N)).toBe(createdAt.getTime() / 1000 + 7 * 86_400);
  });

  it('a whole lifecycle: totals, idempotent chunk counting, one finalizer, finish', async () => {
    const jobId = 'job-life';
    await jobs.create(jobId, new Date());
    expect(await jobs.markChunkDone(jobId, chunkId(0))).toEqual({ chunksDone: 1, totalChunks: null });
    expect(await jobs.claimFinalize(jobId)).toBe(false);
    expect(await jobs.setTotal(jobId, { chunks: 3, accepted: 700, invalid: 2 })).toEqual({
      chunksDone: 1,
      totalChunks: 3,
    });
    expect((await jobs.get(jobId))?.status).toBe('running');
    expect(await jobs.markChunkDone(jobId, chunkId(0))).toEqual({ chunksDone: 1, totalChunks: 3 });
    expect(await jobs.markChunkDone(jobId, chunkId(1))).toEqual({ chunksDone: 2, totalChunks: 3 });
    expect(await jobs.claimFinalize(jobId)).toBe(false);
    expect(await jobs.markChunkDone(jobId, chunkId(2))).toEqual({ chunksDone: 3, totalChunks: 3 });
    expect(await jobs.markChunkDone(jobId, chunkId(2))).toEqual({ chunksDone: 3, totalChunks: 3 });
    expect(await jobs.claimFinalize(jobId)).toBe(true);
    expect(await jobs.claimFinalize(jobId)).toBe(false);
    expect((await jobs.get(jobId))?.status).toBe('finalizing');
    await jobs.finish(jobId, 'completed_with_errors');
    expect(await jobs.get(jobId)).toMatchObject({
      status: 'completed_with_errors',
      totalChunks: 3,
      chunksDone: 3,
      accepted: 700,
      invalid: 2,
    });
  });

  it('counts URLs with their chunk once; an abandoned finalize claim is taken over, a finished job never', async () => {
    const jobId = 'job-lease';
    await jobs.create(jobId, new Date());
    await jobs.setTotal(jobId, { chunks: 2, accepted: 20, invalid: 0 });
    await jobs.markChunkDone(jobId, chunkId(0), { urls: 10, failed: 3 });
    await jobs.markChunkDone(jobId, chunkId(0), { urls: 10, failed: 3 });
    await jobs.markChunkDone(jobId, chunkId(1), { urls: 10, failed: 0 });
    expect(await jobs.get(jobId)).toMatchObject({ chunksDone: 2, urlsDone: 20, urlsFailed: 3 });
    expect(await jobs.claimFinalize(jobId, 60_000)).toBe(true);
    // The claim is live for a minute…
    expect(await jobs.claimFinalize(jobId, 60_000)).toBe(false);
    // …but a claim older than the lease means its finalizer died: another caller takes over.
    expect(await jobs.claimFinalize(jobId, 0)).toBe(true);
    await jobs.finish(jobId, 'succeeded');
    expect(await jobs.claimFinalize(jobId, 0)).toBe(false);
  });

  it('setTotal after a cancel keeps the cancelled status', async () => {
    await jobs.create('job-cancelled-early', new Date());
    await jobs.finish('job-cancelled-early', 'cancelled');
    await jobs.setTotal('job-cancelled-early', { chunks: 1, accepted: 1, invalid: 0 });
    expect((await jobs.get('job-cancelled-early'))?.status).toBe('cancelled');
  });

  it('finish records an error; requestCancel marks the job; absent jobs read as null', async () => {
    const jobId = 'job-fail';
    await jobs.create(jobId, new Date());
    await jobs.finish(jobId, 'failed', 'manifest missing');
    expect(await jobs.get(jobId)).toMatchObject({ status: 'failed', error: 'manifest missing' });
    expect(await jobs.requestCancel(jobId)).toMatchObject({ jobId, cancelRequested: true, status: 'failed' });
    expect((await jobs.get(jobId))?.cancelRequested).toBe(true);
    expect(await jobs.get('no-such-job')).toBeNull();
    expect(await jobs.requestCancel('no-such-job')).toBeNull();
  });

  it.each([
    ['setTotal', () => jobs.setTotal('ghost', { chunks: 1, accepted: 1, invalid: 0 })],
    ['markChunkDone', () => jobs.markChunkDone('ghost', chunkId(0))],
    ['finish', () => jobs.finish('ghost', 'succeeded')],
  ])('%s of an unknown job throws', async (_name, call) => {
    await expect(call()).rejects.toThrow('unknown job ghost');
  });

  it('listNewest queries the jobs index: job items only, newest first, each with its summed counts', async () => {
    const listTable = uniqueName('fanout-list');
    await clients().dynamodb.send(new CreateTableCommand(createJobTableInput(listTable)));
    const listing = new DynamoJobStore({ client: clients().dynamodb, tableName: listTable });
    for (const [jobId, day] of [
      ['old', 1],
      ['newest', 3],
      ['middle', 2],
    ] as const) {
      await listing.create(jobId, new Date(`2026-01-0${day}T00:00:00.000Z`));
      await listing.setTotal(jobId, { chunks: 3, accepted: 30, invalid: 0 });
      for (let i = 0; i < day; i += 1)
        await listing.markChunkDone(jobId, chunkId(i), { urls: 10, failed: 1 });
    }
    const all = await listing.listNewest(10);
    expect(all.map((j) => [j.jobId, j.chunksDone, j.urlsDone, j.urlsFailed])).toEqual([
      ['newest', 3, 30, 3],
      ['middle', 2, 20, 2],
      ['old', 1, 10, 1],
    ]);
    expect((await listing.listNewest(2)).map((j) => j.jobId)).toEqual(['newest', 'middle']);
  });
});
