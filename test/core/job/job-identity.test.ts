/**
 * A job's identity includes its list: a re-run under the same id with another list is
 * refused before anything is sent or written; dedupe's skipped duplicates are no errors.
 */
import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { FanoutError } from '../../../lambda/core/errors.js';
import { dispatchJob } from '../../../lambda/core/job/dispatch.js';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ChunkMessage, ChunkQueue } from '../../../lambda/core/ports.js';
import type { InvalidLine } from '../../../lambda/core/record.js';

class CollectingQueue implements ChunkQueue {
  readonly sent: ChunkMessage[] = [];
  async send(messages: readonly ChunkMessage[]): Promise<void> {
    this.sent.push(...messages);
  }
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

const deps = () => ({
  store: new MemoryObjectStore(),
  queue: new CollectingQueue(),
  jobs: new MemoryJobStore(),
});

const request = (inputDigest: string, options: Record<string, unknown> = {}): JobRequest => ({
  jobId: 'same-id',
  source: 'list.txt',
  format: 'auto',
  options: resolveOptions({ chunkSize: 2, ...options }),
  submittedAt: new Date().toISOString(),
  inputDigest,
});

describe('dispatchJob: the list is part of the job id', () => {
  it('another list under an existing id is refused with JOB_EXISTS: nothing sent, nothing written', async () => {
    const d = deps();
    await dispatchJob(d, request('digest-a'), bytesOf('https://a.example/1\nhttps://a.example/2\n'));
    const before = new Map(d.store.objects);
    const sentBefore = d.queue.sent.length;
    const claims: boolean[] = [];
    const again = dispatchJob(d, request('digest-b'), bytesOf('https://b.example/1\n'), {
      onClaimed: async (created) => {
        claims.push(created);
      },
    });
    await expect(again).rejects.toThrow(FanoutError);
    await expect(again).rejects.toMatchObject({ code: 'JOB_EXISTS' });
    await expect(again).rejects.toThrow(
      /^job same-id already exists with a different list \(JOB_EXISTS\); choose another job id/,
    );
    expect(claims).toEqual([]);
    expect(d.queue.sent).toHaveLength(sentBefore);
    expect(d.store.objects).toEqual(before);
  });

  it('the refusal names everything that differs', async () => {
    const d = deps();
    await dispatchJob(d, request('digest-a'), bytesOf('https://a.example/1\n'));
    const other = { ...request('digest-b', { retries: 5 }), source: 'other.txt' };
    await expect(dispatchJob(d, other, bytesOf('https://b.example/1\n'))).rejects.toThrow(
      /^job same-id already exists with a different source, options and list \(JOB_EXISTS\)/,
    );
  });

  it('the same list under the same id is a re-run: onClaimed says so before any chunk is sent', async () => {
    const d = deps();
    const seen: Array<[boolean, number]> = [];
    const onClaimed = async (created: boolean) => {
      seen.push([created, d.queue.sent.length]);
    };
    const list = 'https://a.example/1\nhttps://a.example/2\nhttps://a.example/3\n';
    await dispatchJob(d, request('digest-a'), bytesOf(list), { onClaimed });
    await dispatchJob(d, request('digest-a'), bytesOf(list), { onClaimed });
    expect(seen).toEqual([
      [true, 0],
      [false, 2],
    ]);
  });
});

describe('dispatchJob with dedupe', () => {
  it('counts skipped duplicates apart from invalid lines, and lists them as DUPLICATE', async () => {
    const d = deps();
    const list = ['https://a.example/1', 'https://a.example/1', 'not a url', 'https://a.example/1', ''].join(
      '\n',
    );
    const { manifest } = await dispatchJob(d, request('x', { dedupe: true }), bytesOf(list));
    expect(manifest).toMatchObject({ accepted: 1, invalid: 1, duplicates: 2 });
    expect(await d.jobs.get('same-id')).toMatchObject({ accepted: 1, invalid: 1 });
    const listed = decodeJsonlGz<InvalidLine>(
      d.store.objects.get(jobKeys.invalid('same-id')) ?? Buffer.alloc(0),
    );
    expect(listed.map((l) => [l.line, l.code])).toEqual([
      [2, 'DUPLICATE'],
      [3, 'INVALID_URL'],
      [4, 'DUPLICATE'],
    ]);
  });
});
