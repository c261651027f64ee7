import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipLines } from '../../../lambda/core/job/gzip-lines.js';

/** Everything a reader gets, member by member. */
async function readAll(lines: GzipLines): Promise<Buffer[]> {
  const members: Buffer[] = [];
  for await (const member of lines) members.push(member);
  return members;
}

/** A line of about 110 characters, different for every n. */
const lineOf = (n: number) => `{"line":${n},"code":"INVALID_URL","text":"${'x'.repeat(60)}${n}"}`;

/** Writes lines until a write asks the writer to wait; returns how many it wrote, and the wait. */
function writeUntilFull(sink: GzipLines): { written: number; wait: Promise<void> } {
  for (let n = 0; n < 100_000; n += 1) {
    const wait = sink.write(lineOf(n));
    if (wait) return { written: n + 1, wait };
  }
  throw new Error('the sink never asked the writer to wait');
}

const settledYet = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

describe('GzipLines', () => {
  it('with no lines, yields one empty gzip member', async () => {
    const sink = new GzipLines();
    sink.end();
    const members = await readAll(sink);
    expect(members).toHaveLength(1);
    expect(gunzipSync(Buffer.concat(members)).toString()).toBe('');
  });

  it('yields every line, newline-terminated and in order, across several gzip members', async () => {
    const sink = new GzipLines();
    const reading = readAll(sink);
    const expected: string[] = [];
    for (let n = 0; n < 12_000; n += 1) {
      expected.push(lineOf(n));
      const wait = sink.write(lineOf(n));
      if (wait) await wait;
    }
    sink.end();
    const members = await reading;
    // About 1.2 MB of text in members of 256 KiB.
    expect(members.length).toBeGreaterThanOrEqual(4);
    for (const member of members) expect(gunzipSync(member).length).toBeGreaterThan(0);
    expect(gunzipSync(Buffer.concat(members)).toString()).toBe(`${expected.join('\n')}\n`);
  });

  it('asks the writer to wait when four members are not yet read, until the reader takes one', async () => {
    const sink = new GzipLines();
    const { written, wait } = writeUntilFull(sink);
    // Four members of at least 256 Ki characters each, every one cut at the line that passed it.
    let characters = 0;
    for (let n = 0; n < written; n += 1) characters += lineOf(n).length + 1;
    expect(characters).toBeGreaterThanOrEqual(4 * 256 * 1024);
    expect(characters).toBeLessThan(4 * (256 * 1024 + lineOf(written).length + 1));
    expect(await settledYet(wait)).toBe(false);
    const reader = sink[Symbol.asyncIterator]();
    await reader.next();
    expect(await settledYet(wait)).toBe(true);
    sink.end();
    let rest = 0;
    for (let step = await reader.next(); !step.done; step = await reader.next()) rest += 1;
    expect(rest).toBeGreaterThanOrEqual(3);
  });

  it('releases a waiting writer when the reader stops early, and drops later lines', async () => {
    const sink = new GzipLines();
    const { wait } = writeUntilFull(sink);
    for await (const _member of sink) break;
    expect(await settledYet(wait)).toBe(true);
    expect(sink.write(lineOf(1))).toBeUndefined();
    sink.end();
  });

  it('fail() ends the reading with the error, releases a waiting writer, and fails later writes', async () => {
    const sink = new GzipLines();
    const { wait } = writeUntilFull(sink);
    const reader = sink[Symbol.asyncIterator]();
    await reader.next();
    writeUntilFull(sink);
    sink.fail(new Error('upload refused'));
    expect(await settledYet(wait)).toBe(true);
    await expect(reader.next()).rejects.toThrow('upload refused');
    expect(() => sink.write(lineOf(2))).toThrow('upload refused');
  });

  it('fail() wakes a reader that is waiting for lines', async () => {
    const sink = new GzipLines();
    const reading = readAll(sink);
    sink.write(lineOf(1));
    await new Promise((resolve) => setImmediate(resolve));
    sink.fail(new Error('dispatch failed'));
    await expect(reading).rejects.toThrow('dispatch failed');
  });

  it('refuses lines after end()', () => {
    const sink = new GzipLines();
    sink.end();
    expect(() => sink.write(lineOf(1))).toThrow('write after end');
  });
});
