/**
 * A dispatch paused at chunk boundaries and resumed from its checkpoints, run after run,
 * must send exactly what one uninterrupted run sends, and leave the same files.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENT_DEFAULTS } from '../../../lambda/core/contract.js';
import { INPUT_LIMITS } from '../../../lambda/core/defaults.js';
import { hostGroupsFor } from '../../../lambda/core/host-group.js';
import {
  type DispatchCheckpoint,
  type DispatchResult,
  dispatchJob,
} from '../../../lambda/core/job/dispatch.js';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';
import type { InvalidLine } from '../../../lambda/core/record.js';
import {
  csvRows,
  type Deps,
  deps,
  finalFiles,
  JOB,
  jsonlRows,
  lines,
  requestFor,
  shapeOf,
  streamOf,
} from './dispatch-resume-helpers.js';

interface Case {
  name: string;
  /** The object name; it decides the format ('auto'). */
  source: string;
  input: Buffer;
  options?: Record<string, unknown>;
}

function textRows(n: number): string[] {
  const rows = ['# a list for the resume tests', ''];
  for (let i = 0; i < n; i += 1) {
    rows.push(`https://e.com/t/${i}`);
    if (i % 7 === 3) rows.push('not a url');
    if (i % 11 === 5) rows.push(`ftp://e.com/${i}`);
    if (i % 13 === 0) rows.push('', '# comment');
  }
  rows.push(`https://e.com/${'x'.repeat(INPUT_LIMITS.maxLineBytes + 10)}`, 'https://e.com/after-long');
  return rows;
}

function duplicateRows(n: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < n; i += 1) {
    rows.push(`https://e.com/d/${i % 31}`);
    if (i % 9 === 0) rows.push('nope');
  }
  return rows;
}

/** URLs over many hosts: chunks fill by host group, and paused runs leave URLs pending in groups. */
function manyHostRows(n: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < n; i += 1) {
    rows.push(`https://h${i % 13}.example/${i}`);
    if (i % 10 === 7) rows.push('not a url');
  }
  return rows;
}

const CASES: Case[] = [
  {
    name: 'text over many hosts',
    source: 'inputs/hosts.txt',
    input: lines(manyHostRows(200)),
    options: { chunkSize: 6 },
  },
  { name: 'text', source: 'inputs/list.txt', input: lines(textRows(60)) },
  { name: 'CSV', source: 'inputs/list.csv', input: lines(csvRows(50)) },
  { name: 'JSONL', source: 'inputs/list.jsonl', input: lines(jsonlRows(50)) },
  { name: 'gzip text', source: 'inputs/list.txt.gz', input: gzipSync(lines(textRows(45))) },
  {
    name: 'text with dedupe',
    source: 'inputs/dupes.txt',
    input: lines(duplicateRows(80)),
    options: { dedupe: true },
  },
];

async function uninterrupted(request: JobRequest, input: Buffer) {
  const d = deps();
  const result = await dispatchJob(d, request, streamOf(input));
  return { d, result, files: await finalFiles(d) };
}

/** One run that pauses after every `every` chunks it makes. */
function runOnce(
  d: Deps,
  request: JobRequest,
  input: Buffer,
  every: number,
  resume?: DispatchCheckpoint,
): Promise<DispatchResult> {
  let made = 0;
  const shouldPause = () => {
    made += 1;
    return made % every === 0;
  };
  return dispatchJob(d, request, streamOf(input), { shouldPause, ...(resume && { resume }) });
}

/** Runs until done, each run starting from the previous run's checkpoint. */
async function inSteps(request: JobRequest, input: Buffer, every: number) {
  const d = deps();
  const checkpoints: DispatchCheckpoint[] = [];
  let resume: DispatchCheckpoint | undefined;
  for (let run = 0; run < 1000; run += 1) {
    const result = await runOnce(d, request, input, every, resume);
    if (!result.paused) return { d, result, checkpoints, files: await finalFiles(d) };
    checkpoints.push(result.paused);
    resume = result.paused;
  }
  throw new Error('dispatch never finished');
}

describe.each(CASES)('dispatch paused and resumed: $name', (c) => {
  it.each([1, 2, 3])('pausing every %i chunks sends exactly the chunks of one run', async (every) => {
    const request = requestFor(c);
    const whole = await uninterrupted(request, c.input);
    const steps = await inSteps(request, c.input, every);

    expect(whole.result.manifest.chunks).toBeGreaterThan(6);
    expect(whole.result.manifest.invalid).toBeGreaterThan(3);
    expect(shapeOf(steps.d.queue.sent)).toEqual(shapeOf(whole.d.queue.sent));
    for (const message of steps.d.queue.sent) expect(message.options).toEqual(request.options);
    expect(steps.files).toEqual(whole.files);
    expect(steps.result.manifest).toMatchObject(whole.files.manifest);
    // A run pauses after `every` chunks; the last one finishes (with no chunk left, if need be).
    expect(steps.checkpoints).toHaveLength(Math.floor(whole.result.manifest.chunks / every));
    expect(steps.checkpoints.map((cp) => cp.runs)).toEqual(steps.checkpoints.map((_, i) => i + 1));
    expect(steps.checkpoints.map((cp) => cp.chunks)).toEqual(
      steps.checkpoints.map((_, i) => (i + 1) * every),
    );
  });

  it('two chains of one job (a duplicated S3 event) pausing at different chunks keep their rejected lines apart', async () => {
    const request = requestFor(c);
    const whole = await uninterrupted(request, c.input);
    const d = deps();
    let a: DispatchResult | null = null;
    let b: DispatchResult | null = null;
    for (let step = 0; step < 1000 && !(a && !a.paused && b && !b.paused); step += 1) {
      if (!a || a.paused) a = await runOnce(d, request, c.input, 1, a?.paused ?? undefined);
      if (!b || b.paused) b = await runOnce(d, request, c.input, 3, b?.paused ?? undefined);
    }
    expect(a?.paused).toBeNull();
    expect(b?.paused).toBeNull();
    expect((await finalFiles(d)).invalid).toEqual(whole.files.invalid);
  });

  it('invalid.jsonl.gz holds every rejected line once, in input order', async () => {
    const request = requestFor(c);
    const steps = await inSteps(request, c.input, 2);
    const invalid = steps.files.invalid;
    const { manifest } = steps.result;
    expect(invalid).toHaveLength(manifest.invalid + (manifest.duplicates ?? 0));
    const numbers = invalid.map((i) => i.line);
    expect(numbers).toEqual([...new Set(numbers)].sort((a, b) => a - b));
  });

  it('every run retried from the same checkpoint sends the same messages and ends with the same files', async () => {
    const request = requestFor(c);
    const whole = await uninterrupted(request, c.input);
    const d = deps();
    const perRun: ChunkMessage[][] = [];
    let resume: DispatchCheckpoint | undefined;
    let finished = false;
    while (!finished) {
      const before = d.queue.sent.length;
      const first = await runOnce(d, request, c.input, 3, resume);
      const firstSent = d.queue.sent.slice(before);
      // The invocation is retried (Lambda's async retry): same checkpoint, same run number.
      const middle = d.queue.sent.length;
      const retried = await runOnce(d, request, c.input, 3, resume);
      const retriedSent = d.queue.sent.slice(middle);
      expect(shapeOf(retriedSent)).toEqual(shapeOf(firstSent));
      // A retried first run starts a chain of its own; a later run carries its chain on.
      const place = (r: DispatchResult) => (r.paused ? { ...r.paused, chain: undefined } : null);
      expect(place(retried)).toEqual(place(first));
      if (resume) expect(retried.paused?.chain ?? resume.chain).toBe(resume.chain);
      perRun.push(firstSent);
      finished = retried.paused === null;
      if (retried.paused) resume = retried.paused;
    }
    // Every message went out twice; once each, they are the uninterrupted run's.
    expect(d.queue.sent).toHaveLength(2 * whole.d.queue.sent.length);
    expect(shapeOf(perRun.flat())).toEqual(shapeOf(whole.d.queue.sent));
    expect(await finalFiles(d)).toEqual(whole.files);
  });
});

describe('dispatch checkpoints', () => {
  const c = CASES[0] as Case;

  it('a paused run writes its checkpoint to jobs/<id>/dispatch/checkpoint.json', async () => {
    const d = deps();
    const request = requestFor(c);
    const first = await runOnce(d, request, c.input, 2);
    expect(first.paused).not.toBeNull();
    expect(first.manifest).toBeNull();
    expect(first.claimedFinalize).toBe(false);
    const key = `jobs/${JOB}/dispatch/checkpoint.json`;
    expect(jobKeys.dispatchCheckpoint(JOB)).toBe(key);
    expect(JSON.parse(d.store.objects.get(key)?.toString('utf8') ?? 'null')).toEqual(first.paused);
    // Accepted: the URLs of the chunks sent, and those waiting in host groups' next chunks.
    const size = request.options.chunkSize;
    const sentOf = (cp: DispatchCheckpoint | null) => (cp ? cp.accepted - (cp.pending ?? 0) : 0);
    expect(first.paused).toMatchObject({ chunks: 2, runs: 1 });
    expect(sentOf(first.paused)).toBe(2 * size);
    // Nothing final yet: no manifest, no invalid.jsonl.gz, no chunk total.
    expect(d.store.objects.has(jobKeys.manifest(JOB))).toBe(false);
    expect(d.store.objects.has(jobKeys.invalid(JOB))).toBe(false);
    expect((await d.jobs.get(JOB))?.totalChunks).toBeNull();

    const second = await runOnce(d, request, c.input, 2, first.paused ?? undefined);
    expect(second.paused).toMatchObject({ chunks: 4, runs: 2 });
    expect(sentOf(second.paused)).toBe(4 * size);
    expect(JSON.parse(d.store.objects.get(key)?.toString('utf8') ?? 'null')).toEqual(second.paused);
  });

  it('each run keeps its rejected lines in its own segment until the last joins them', async () => {
    const request = requestFor(c);
    const steps = await inSteps(request, c.input, 3);
    const runs = steps.checkpoints.length + 1;
    const segments = steps.d.store.keys(`jobs/${JOB}/dispatch/invalid-`);
    const chain = steps.checkpoints[0]?.chain ?? '';
    expect(steps.checkpoints.every((checkpoint) => checkpoint.chain === chain)).toBe(true);
    expect(segments).toEqual(
      Array.from({ length: runs }, (_, run) => jobKeys.invalidSegment(JOB, chain, run)),
    );
    const joined = segments.flatMap((key) =>
      decodeJsonlGz<InvalidLine>(steps.d.store.objects.get(key) ?? Buffer.alloc(0)),
    );
    expect(joined).toEqual(steps.files.invalid);
  });

  it('pausing at a last chunk that filled up: the next run sends nothing and finishes', async () => {
    const urls = Array.from({ length: 8 }, (_, i) => `https://e.com/${i}`);
    const input = lines([...urls, 'not a url', '', 'ftp://e.com/x']);
    const request = requestFor({ source: 'l.txt' });
    const d = deps();
    const always = { shouldPause: () => true };
    const first = await dispatchJob(d, request, streamOf(input), always);
    const second = await dispatchJob(d, request, streamOf(input), {
      ...always,
      resume: first.paused ?? undefined,
    });
    expect(second.paused).toEqual({
      line: 8,
      // Eight lines of 16 bytes: the next line starts at byte 128.
      offset: 128,
      parsed: { format: 'text' },
      chunks: 2,
      groups: hostGroupsFor(DEPLOYMENT_DEFAULTS.maxWorkerConcurrency),
      pending: 0,
      accepted: 8,
      invalid: 0,
      duplicates: 0,
      lines: 8,
      runs: 2,
      chain: first.paused?.chain,
    });
    const sentBefore = d.queue.sent.length;
    const last = await dispatchJob(d, request, streamOf(input), {
      ...always,
      resume: second.paused ?? undefined,
    });
    expect(last.paused).toBeNull();
    expect(d.queue.sent).toHaveLength(sentBefore);
    expect(last.manifest).toMatchObject({ lines: 11, accepted: 8, invalid: 2, chunks: 2 });
    expect((await finalFiles(d)).invalid.map((i) => [i.line, i.code])).toEqual([
      [9, 'INVALID_URL'],
      [11, 'UNSUPPORTED_SCHEME'],
    ]);
    expect(await d.jobs.get(JOB)).toMatchObject({ status: 'running', totalChunks: 2, accepted: 8 });
  });

  it('pausing at a last, partial chunk: the next run finishes', async () => {
    const input = lines(Array.from({ length: 9 }, (_, i) => `https://e.com/${i}`));
    const request = requestFor({ source: 'l.txt' });
    const whole = await uninterrupted(request, input);
    const steps = await inSteps(request, input, 1);
    expect(steps.checkpoints.map((cp) => cp.chunks)).toEqual([1, 2, 3]);
    expect(steps.checkpoints.at(-1)).toMatchObject({ line: 9, accepted: 9 });
    expect(shapeOf(steps.d.queue.sent)).toEqual(shapeOf(whole.d.queue.sent));
    expect(steps.files).toEqual(whole.files);
  });

  it('a job whose chunks were all done during the last run is claimed for finalizing by it', async () => {
    const input = lines(Array.from({ length: 8 }, (_, i) => `https://e.com/${i}`));
    const request = requestFor({ source: 'l.txt' });
    const d = deps();
    const first = await runOnce(d, request, input, 1);
    for (const m of d.queue.sent) await d.jobs.markChunkDone(JOB, m.chunkId);
    const second = await runOnce(d, request, input, 1, first.paused ?? undefined);
    for (const m of d.queue.sent) await d.jobs.markChunkDone(JOB, m.chunkId);
    const last = await runOnce(d, request, input, 1, second.paused ?? undefined);
    expect(last).toMatchObject({ paused: null, claimedFinalize: true });
  });
});

describe('dispatch paused around chunks cut by size', () => {
  // URLs of ~7 KB fill a chunk's 200 KiB byte budget after ~29 of them: such a chunk ends
  // because the next URL does not fit, and that URL starts the next chunk. Runs of short
  // URLs between them make chunks that end by count.
  const rows: string[] = [];
  for (let block = 0; block < 4; block += 1) {
    for (let i = 0; i < 70; i += 1) rows.push(`https://e.com/${'a'.repeat(7000)}?b=${block}&i=${i}`);
    rows.push('not a url');
    for (let i = 0; i < 50; i += 1) rows.push(`https://e.com/short?b=${block}&i=${i}`);
  }
  const input = lines(rows);
  const urls = rows.filter((row) => row.startsWith('https://')).length;
  const request = requestFor({ source: 'long.txt' }, 40);

  it.each([1, 2])('pausing every %i chunks loses no URL and sends the same chunks', async (every) => {
    const whole = await uninterrupted(request, input);
    const cutBySize = whole.d.queue.sent.slice(0, -1).filter((m) => m.items.length < 40);
    expect(cutBySize.length).toBeGreaterThan(1);
    const steps = await inSteps(request, input, every);
    expect(steps.checkpoints.length).toBeGreaterThan(1);
    expect(steps.d.queue.sent.flatMap((m) => m.items)).toHaveLength(urls);
    expect(shapeOf(steps.d.queue.sent)).toEqual(shapeOf(whole.d.queue.sent));
    expect(steps.files).toEqual(whole.files);
  });
});

describe('dispatch of URLs so long that every chunk is cut by size', () => {
  // ~1 KB URLs: 250 of them would be ~250 KB, over a chunk's 200 KiB, so every chunk ends
  // because the next URL does not fit, and there is always one URL waiting for the next chunk.
  const rows = Array.from({ length: 1000 }, (_, i) => `https://e.com/${'p'.repeat(1000)}?i=${i}`);
  const input = lines(rows);
  const request = requestFor({ source: 'long.txt' }, 250);

  it('still pauses after every chunk when asked to, and sends the same chunks', async () => {
    const whole = await uninterrupted(request, input);
    expect(whole.d.queue.sent.every((m) => m.items.length < 250)).toBe(true);
    const steps = await inSteps(request, input, 1);
    // A dispatcher that never pauses runs out of Lambda time on a long list of such URLs.
    expect(steps.checkpoints).toHaveLength(whole.result.manifest.chunks);
    expect(shapeOf(steps.d.queue.sent)).toEqual(shapeOf(whole.d.queue.sent));
    expect(steps.files).toEqual(whole.files);
  });
});
