/** What the dispatch resume tests share: a collecting queue, memory deps, the job's final files. */
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import type { JobManifest, JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ChunkMessage, ChunkQueue } from '../../../lambda/core/ports.js';
import type { InvalidLine } from '../../../lambda/core/record.js';

export const JOB = 'job-r';

/** A queue that keeps every message sent, duplicates included. */
export class CollectingQueue implements ChunkQueue {
  readonly sent: ChunkMessage[] = [];
  async send(messages: readonly ChunkMessage[]): Promise<void> {
    this.sent.push(...messages);
  }
}

/** The input as a stream of small pieces, so lines straddle reads. */
export async function* streamOf(data: Buffer): AsyncGenerator<Uint8Array> {
  const size = Math.max(97, Math.ceil(data.length / 64));
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

export const lines = (rows: string[]) => Buffer.from(`${rows.join('\n')}\n`);

/** A request for the resume tests' job. */
export function requestFor(
  c: { source: string; options?: Record<string, unknown> },
  chunkSize = 4,
): JobRequest {
  return {
    jobId: JOB,
    source: c.source,
    format: 'auto',
    options: resolveOptions({ chunkSize, ...c.options }),
    submittedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** What a chunk message carries that must not change between runs. */
export const shapeOf = (messages: readonly ChunkMessage[]) =>
  messages.map(({ jobId, chunkId, items }) => ({ jobId, chunkId, items }));

export function deps() {
  return { store: new MemoryObjectStore(), queue: new CollectingQueue(), jobs: new MemoryJobStore() };
}

export type Deps = ReturnType<typeof deps>;

/** The job's final files, comparable across runs (the manifest without its timestamp). */
export async function finalFiles(d: Deps) {
  const manifest = JSON.parse(
    d.store.objects.get(jobKeys.manifest(JOB))?.toString('utf8') ?? 'null',
  ) as JobManifest | null;
  const { dispatchedAt: _dispatchedAt, ...counts } = manifest ?? ({} as JobManifest);
  const state = await d.jobs.get(JOB);
  return {
    manifest: counts,
    invalid: decodeJsonlGz<InvalidLine>(d.store.objects.get(jobKeys.invalid(JOB)) ?? Buffer.alloc(0)),
    totals: { totalChunks: state?.totalChunks, accepted: state?.accepted, invalid: state?.invalid },
  };
}

/** CSV rows with quoted fields and rejected rows (short rows, empty url, bad quoting). */
export function csvRows(n: number): string[] {
  const rows = ['url,id,team'];
  for (let i = 0; i < n; i += 1) {
    rows.push(
      i % 9 === 4 ? `"https://e.com/c/${i}?a=1,2",c${i},` : `https://e.com/c/${i},c${i},team${i % 3}`,
    );
    if (i % 6 === 2) rows.push(`https://e.com/short/${i},only-two`);
    if (i % 10 === 7) rows.push(',no-url,x');
    if (i % 15 === 1) rows.push('"https://e.com/unterminated,x,y');
  }
  return rows;
}

/** JSONL rows with rejected lines (broken JSON, no url, bad meta). */
export function jsonlRows(n: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < n; i += 1) {
    rows.push(JSON.stringify({ url: `https://e.com/j/${i}`, id: i, meta: { i, even: i % 2 === 0 } }));
    if (i % 5 === 1) rows.push('{"url": "https://e.com/broken"');
    if (i % 8 === 6) rows.push('{"id": "no-url"}');
    if (i % 12 === 9) rows.push(JSON.stringify({ url: `https://e.com/j/${i}`, meta: 'not an object' }));
  }
  return rows;
}
