/**
 * A dispatch resumed from a checkpoint's byte offset reads only the rest of the list,
 * and still sends exactly what one uninterrupted run sends and leaves the same files.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { INPUT_LIMITS } from '../../../lambda/core/defaults.js';
import type { SourceStart } from '../../../lambda/core/input/open-input.js';
import {
  type DispatchCheckpoint,
  type DispatchResult,
  dispatchJob,
  type OpenSource,
} from '../../../lambda/core/job/dispatch.js';
import type { JobRequest } from '../../../lambda/core/job/job-request.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import {
  csvRows,
  type Deps,
  deps,
  finalFiles,
  JOB,
  jsonlRows,
  requestFor,
} from './dispatch-resume-helpers.js';

/** Bytes per read of the memory source: small, so lines straddle reads. */
const PIECE = 101;
const ETAG = '"v1"';

/** One opening of the list: where it started, how many bytes the run pulled, whether it was closed. */
interface Opening {
  start: SourceStart;
  read: number;
  closed: boolean;
}

/** An OpenSource over `data` that honours the offset and keeps every opening. */
function memorySource(data: Buffer, openings: Opening[]): OpenSource {
  return async (start) => {
    const opening: Opening = { start, read: 0, closed: false };
    openings.push(opening);
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        for (let at = start.offset ?? 0; at < data.length; at += PIECE) {
          const piece = data.subarray(at, at + PIECE);
          opening.read += piece.length;
          yield piece;
        }
      } finally {
        opening.closed = true;
      }
    }
    return { body: body(), etag: ETAG };
  };
}

const crlf = (rows: string[]) => Buffer.from(`${rows.join('\r\n')}\r\n`);
const lf = (rows: string[]) => Buffer.from(`${rows.join('\n')}\n`);
const LONG = INPUT_LIMITS.maxLineBytes + 37;

function textRows(n: number): string[] {
  // A BOM at offset 0: only the first run sees it.
  const rows = ['\uFEFF# a list for the offset tests', ''];
  for (let i = 0; i < n; i += 1) {
    rows.push(`https://e.com/t/${i}`);
    if (i % 7 === 3) rows.push('not a url');
    if (i % 11 === 5) rows.push(`ftp://e.com/${i}`);
    if (i % 13 === 0) rows.push('', '# comment');
    // A line over the length limit right after the fourth URL of a chunk: at the boundary.
    if (i % 16 === 7) rows.push(`https://e.com/${'x'.repeat(LONG)}`);
    if (i % 16 === 11) rows.push(`# ${'c'.repeat(LONG)}`);
  }
  return rows;
}

/** URLs of ~7 KB fill a chunk's byte budget after ~29: those chunks are cut by size. */
function sizeCutRows(): string[] {
  const rows: string[] = [];
  for (let block = 0; block < 3; block += 1) {
    for (let i = 0; i < 40; i += 1) rows.push(`https://e.com/${'a'.repeat(7000)}?b=${block}&i=${i}`);
    rows.push('not a url', '# between');
    for (let i = 0; i < 30; i += 1) rows.push(`https://e.com/short?b=${block}&i=${i}`);
  }
  return rows;
}

interface Case {
  name: string;
  source: string;
  input: Buffer;
  chunkSize: number;
}

const CASES: Case[] = [
  {
    name: 'text, CRLF, BOM, over-long lines',
    source: 'inputs/list.txt',
    input: crlf(textRows(60)),
    chunkSize: 4,
  },
  {
    name: 'text, LF, no last newline',
    source: 'inputs/list.txt',
    input: lf(textRows(40)).subarray(0, -1),
    chunkSize: 4,
  },
  { name: 'CSV, CRLF', source: 'inputs/list.csv', input: crlf(csvRows(50)), chunkSize: 4 },
  { name: 'JSONL', source: 'inputs/list.jsonl', input: lf(jsonlRows(50)), chunkSize: 4 },
  { name: 'chunks cut by size', source: 'inputs/long.txt', input: lf(sizeCutRows()), chunkSize: 35 },
];

/** Everything a dispatch leaves, as bytes: messages, invalid lines (decompressed), manifest, totals. */
async function outputOf(d: Deps) {
  const files = await finalFiles(d);
  const invalid = d.store.objects.get(jobKeys.invalid(JOB));
  return {
    messages: JSON.stringify(d.queue.sent),
    invalid: invalid ? gunzipSync(invalid).toString('utf8') : null,
    manifest: JSON.stringify(files.manifest),
    totals: files.totals,
  };
}

/** The offset where line `line + 1` of `data` starts, counted independently of the reader. */
function startOfLine(data: Buffer, line: number): number {
  let at = 0;
  for (let n = 0; n < line; n += 1) {
    const nl = data.indexOf(0x0a, at);
    if (nl === -1) return data.length;
    at = nl + 1;
  }
  return at;
}

async function oneRun(request: JobRequest, input: Buffer) {
  const d = deps();
  const result = await dispatchJob(d, request, memorySource(input, []));
  return { result, output: await outputOf(d) };
}

/** Runs until done; run `r` pauses after the chunks `pauseAfter(r, made)` says. */
async function chain(request: JobRequest, input: Buffer, pauseAfter: (run: number, made: number) => boolean) {
  const d = deps();
  const openings: Opening[] = [];
  const checkpoints: DispatchCheckpoint[] = [];
  let resume: DispatchCheckpoint | undefined;
  for (let run = 0; run < 1000; run += 1) {
    let made = 0;
    const shouldPause = () => pauseAfter(run, ++made);
    const result: DispatchResult = await dispatchJob(d, request, memorySource(input, openings), {
      shouldPause,
      ...(resume && { resume }),
    });
    if (!result.paused) return { d, openings, checkpoints, output: await outputOf(d) };
    checkpoints.push(result.paused);
    resume = result.paused;
    // A paused run closes the list it stopped reading (a file handle, an S3 socket).
    expect(openings.at(-1)?.closed).toBe(true);
  }
  throw new Error('dispatch never finished');
}

describe.each(CASES)('dispatch resumed by offset: $name', (c) => {
  const request = requestFor({ source: c.source }, c.chunkSize);

  it.each([1, 2, 3])(
    'pausing every %i chunks: each run reads on from the offset, same output',
    async (every) => {
      const whole = await oneRun(request, c.input);
      const steps = await chain(request, c.input, (_run, made) => made % every === 0);
      expect(whole.result.manifest.chunks).toBeGreaterThan(5);
      expect(steps.checkpoints.length).toBe(Math.floor(whole.result.manifest.chunks / every));
      expect(steps.output).toEqual(whole.output);

      // Every checkpoint's offset is the start of the line after its last line handled.
      for (const checkpoint of steps.checkpoints) {
        expect(checkpoint.offset).toBe(startOfLine(c.input, checkpoint.line));
        expect(checkpoint.etag).toBe(ETAG);
      }
      // The first run reads from the start; each later run opens the list at the previous
      // checkpoint's offset, for the ETag the first run saw, and reads nothing before it.
      expect(steps.openings[0]?.start).toEqual({});
      steps.openings.slice(1).forEach((opening, i) => {
        const offset = steps.checkpoints[i]?.offset as number;
        expect(opening.start).toEqual(offset > 0 ? { offset, etag: ETAG } : { etag: ETAG });
        expect(opening.read).toBeLessThanOrEqual(c.input.length - offset);
      });
    },
  );

  it('paused once at every chunk boundary in turn: the same output each time', async () => {
    const whole = await oneRun(request, c.input);
    for (let at = 1; at <= whole.result.manifest.chunks; at += 1) {
      const steps = await chain(request, c.input, (run, made) => run === 0 && made === at);
      expect(steps.checkpoints).toHaveLength(1);
      expect(steps.checkpoints[0]?.chunks).toBe(at);
      expect(steps.output).toEqual(whole.output);
      expect(steps.openings[1]?.start.offset ?? 0).toBe(steps.checkpoints[0]?.offset);
    }
  });
});

describe('dispatch resumed where a ranged read cannot serve', () => {
  const rows = textRows(40);

  it.each([
    ['a gzipped list', 'inputs/list.txt.gz', gzipSync(crlf(rows)), {}],
    ['a list read with dedupe', 'inputs/list.txt', crlf([...rows, ...rows.slice(2, 30)]), { dedupe: true }],
  ])('%s re-reads from the start, and still sends the same chunks', async (_name, source, input, options) => {
    const request = requestFor({ source, options }, 4);
    const whole = await oneRun(request, input);
    const steps = await chain(request, input, (_run, made) => made % 2 === 0);
    expect(steps.checkpoints.length).toBeGreaterThan(3);
    expect(steps.output).toEqual(whole.output);
    for (const checkpoint of steps.checkpoints) {
      expect(checkpoint.offset).toBeUndefined();
      expect(checkpoint.etag).toBe(ETAG);
    }
    for (const opening of steps.openings.slice(1)) expect(opening.start).toEqual({ etag: ETAG });
  });
});

describe('dispatch checkpoint for a ranged resume', () => {
  it('keeps the CSV header, so a run that starts past it reads the rows by its columns', async () => {
    const input = crlf([
      '# people',
      'name,URL,id',
      ...Array.from({ length: 9 }, (_, i) => `n${i},https://e.com/${i},${i}`),
    ]);
    const request = requestFor({ source: 'inputs/people.csv' }, 4);
    const steps = await chain(request, input, (run) => run === 0);
    expect(steps.checkpoints[0]).toMatchObject({
      line: 6,
      offset: startOfLine(input, 6),
      parsed: {
        format: 'csv',
        header: { line: 2, width: 3, urlIndex: 1, idIndex: 2, metaColumns: [[0, 'name']] },
      },
    });
    const items = steps.d.queue.sent.flatMap((m) => m.items);
    expect(items.at(-1)).toEqual({ line: 11, url: 'https://e.com/8', id: '8', meta: { name: 'n8' } });
  });

  it('a pause after the last line leaves the next run nothing to read but the end', async () => {
    const input = lf(Array.from({ length: 8 }, (_, i) => `https://e.com/${i}`));
    const request = requestFor({ source: 'inputs/l.txt' }, 4);
    const steps = await chain(request, input, (run) => run < 2);
    expect(steps.checkpoints.map((cp) => cp.offset)).toEqual([64, 128]);
    expect(steps.openings.map((o) => o.read)).toEqual([expect.any(Number), 64, 0]);
    expect((await finalFiles(steps.d)).manifest).toMatchObject({ lines: 8, accepted: 8, chunks: 2 });
  });
});
