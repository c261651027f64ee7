/**
 * Issue 22, item 5: the progress line counts URLs as they finish, not chunks, and never
 * shows 0/0+, NF, NaN or Infinity.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambda/adapters/memory-object-store.js';
import { ProgressLine, progressLineText, RateMeter } from '../../lambda/cli/progress-line.js';
import { resolveOptions } from '../../lambda/core/options.js';
import { type LocalProgress, runLocalJob } from '../../lambda/local/run-local.js';
import {
  type HeldTarget,
  signal,
  startHeldTarget,
  terminalFrames,
  within,
} from '../helpers/progress-fixture.js';

/** A terminal-like stream that keeps every frame cli-progress draws. */
function fakeTerminal() {
  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      written += chunk.toString();
      done();
    },
  }) as Writable & Record<string, unknown>;
  Object.assign(stream, {
    isTTY: true,
    columns: 120,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  const frames = () => terminalFrames(written);
  return { stream: stream as unknown as NodeJS.WriteStream, frames };
}

const NOT_A_NUMBER = /\bNF\b|NaN|Infinity|undefined/;

describe('ProgressLine on a terminal', () => {
  it('before the first URL is accepted: no total yet, an empty bar, no ETA', () => {
    const { stream, frames } = fakeTerminal();
    const line = new ProgressLine(stream);
    line.stop();
    expect(frames()[0]).toMatch(/^░+ 0\/\? URLs \| 0\/s \| 0 errors \| ETA \?$/);
    expect(frames().join('\n')).not.toMatch(/0\/0\+/);
  });

  it('with a known total and nothing done yet: no NF, NaN or Infinity', () => {
    const { stream, frames } = fakeTerminal();
    const line = new ProgressLine(stream);
    line.update({ accepted: 150, dispatchDone: true, done: 0, failed: 0 });
    line.stop();
    expect(frames().at(-1)).toMatch(/ 0\/150 URLs \| 0\/s \| 0 errors \| ETA \?$/);
    expect(frames().join('\n')).not.toMatch(NOT_A_NUMBER);
  });

  it('one error is "1 error"; a growing total has a + and no ETA', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(10, 1000);
    expect(progressLineText({ accepted: 40, dispatchDone: false, done: 10, failed: 1 }, meter)).toBe(
      '10/40+ URLs | 10/s | 1 error | ETA ?',
    );
    expect(progressLineText({ accepted: 40, dispatchDone: true, done: 10, failed: 2 }, meter)).toBe(
      '10/40 URLs | 10/s | 2 errors | ETA 3s',
    );
  });
});

describe('runLocalJob reports each URL as it finishes', () => {
  let held: HeldTarget;
  beforeAll(async () => {
    held = await startHeldTarget();
  });
  afterAll(() => held?.close());

  it('counts the quick URLs of a chunk while its held URLs are still in flight', async () => {
    const quick = 12;
    const urls = held.urls(quick, 3);
    const seen: LocalProgress[] = [];
    const quickDone = signal();
    // One chunk for every URL: counted per chunk, nothing would move until the held URLs end.
    const running = runLocalJob({
      jobId: 'progress',
      source: 'urls.txt',
      format: 'text',
      options: resolveOptions({ allowPrivate: true, chunkSize: 1000, concurrency: 20, retries: 0 }),
      input: (async function* () {
        yield Buffer.from(`${urls.join('\n')}\n`);
      })(),
      store: new MemoryObjectStore(),
      onProgress: (p) => {
        seen.push(p);
        if (p.done >= quick) quickDone.resolve();
      },
    });
    await within(quickDone.promise, 10_000);
    const beforeRelease = seen.slice();
    held.release();
    const { summary } = await running;

    expect(summary.urls.accepted).toBe(quick + 3);
    expect(beforeRelease.at(-1)).toEqual({ accepted: quick + 3, dispatchDone: true, done: quick, failed: 0 });
    // Every URL moved the count by one.
    expect(seen.map((p) => p.done).filter((done, i, all) => done !== all[i - 1])).toEqual(
      Array.from({ length: quick + 4 }, (_, i) => i),
    );
    expect(seen.at(-1)?.done).toBe(quick + 3);
  }, 30_000);

  it('a re-run of the job counts the URLs its earlier run left in parts', async () => {
    const store = new MemoryObjectStore();
    const urls = held.urls(6, 0);
    const run = (seen: LocalProgress[]) =>
      runLocalJob({
        jobId: 'progress-rerun',
        source: 'urls.txt',
        format: 'text',
        options: resolveOptions({ allowPrivate: true, chunkSize: 2, retries: 0 }),
        input: (async function* () {
          yield Buffer.from(`${urls.join('\n')}\n`);
        })(),
        store,
        onProgress: (p) => seen.push(p),
      });
    await run([]);
    const again: LocalProgress[] = [];
    await run(again);
    expect(again.at(-1)).toEqual({ accepted: 6, dispatchDone: true, done: 6, failed: 0 });
  });
});
