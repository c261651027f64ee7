import { describe, expect, it } from 'vitest';
import { makeDeadLetterHandler } from '../../lambda/handlers/dead-letters.js';
import { makeSqsRecord } from '../helpers/factories.js';
import { memoryServices } from '../helpers/memory-services.js';

function services() {
  const s = memoryServices();
  return { s, jobs: s.jobs };
}

describe('dead-letter handler', () => {
  it('ends the job as failed, naming the chunk', async () => {
    const { s, jobs } = services();
    await jobs.create('j', new Date());
    await jobs.setTotal('j', { chunks: 3, accepted: 30, invalid: 0 });
    const record = makeSqsRecord(JSON.stringify({ jobId: 'j', chunkId: '00000002', options: {}, items: [] }));
    record.attributes.ApproximateReceiveCount = '3';
    await makeDeadLetterHandler(() => s)({ Records: [record] });
    const job = await jobs.get('j');
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatch(/chunk 00000002 failed every delivery .*receive count 3/);
  });

  it('names every dead chunk of a job', async () => {
    const { s, jobs } = services();
    await jobs.create('j', new Date());
    const handler = makeDeadLetterHandler(() => s);
    for (const chunkId of ['00000000', '00000001']) {
      await handler({ Records: [makeSqsRecord(JSON.stringify({ jobId: 'j', chunkId }))] });
    }
    expect((await jobs.get('j'))?.error).toMatch(/00000000.*00000001/);
  });

  it('a message that names no job is dropped without failing the batch', async () => {
    const { s } = services();
    await expect(
      makeDeadLetterHandler(() => s)({ Records: [makeSqsRecord('garbage')] }),
    ).resolves.toBeUndefined();
  });

  it('leaves a job that already finished alone', async () => {
    const { s, jobs } = services();
    await jobs.create('j', new Date());
    await jobs.finish('j', 'succeeded');
    await makeDeadLetterHandler(() => s)({
      Records: [makeSqsRecord(JSON.stringify({ jobId: 'j', chunkId: '00000000' }))],
    });
    expect((await jobs.get('j'))?.status).toBe('succeeded');
  });

  it('a dead chunk of an unknown (expired) job is dropped, not retried forever', async () => {
    const { s } = services();
    await expect(
      makeDeadLetterHandler(() => s)({
        Records: [makeSqsRecord(JSON.stringify({ jobId: 'gone', chunkId: '00000000' }))],
      }),
    ).resolves.toBeUndefined();
    expect(await s.jobs.get('gone')).toBeNull();
  });
});
