import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { JsonlGzWriter } from '../../../lambda/core/job/jsonl-gz-writer.js';

/** Everything a reader gets, member by member. */
async function readAll(writer: JsonlGzWriter): Promise<Buffer[]> {
  const members: Buffer[] = [];
  for await (const member of writer) members.push(member);
  return members;
}

const rowOf = (n: number) => ({ line: n, code: 'INVALID_URL', raw: `not a url ${n}` });

/** Writes rows until a write asks the writer to wait; returns how many it wrote, and the wait. */
function writeUntilFull(writer: JsonlGzWriter, first = 0): { written: number; wait: Promise<void> } {
  for (let n = first; n < first + 100_000; n += 1) {
    const wait = writer.write(rowOf(n));
    if (wait) return { written: n + 1 - first, wait };
  }
  throw new Error('the writer never asked to wait');
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

describe('JsonlGzWriter', () => {
  it('with no rows, yields one empty gzip member', async () => {
    const writer = new JsonlGzWriter();
    writer.end();
    const members = await readAll(writer);
    expect(members).toHaveLength(1);
    expect(gunzipSync(Buffer.concat(members)).toString()).toBe('');
  });

  it('yields every row as a JSON line, in order, one gzip member per 1,000 rows', async () => {
    const writer = new JsonlGzWriter();
    const reading = readAll(writer);
    const rows = Array.from({ length: 12_345 }, (_, n) => rowOf(n));
    for (const row of rows) {
      const wait = writer.write(row);
      if (wait) await wait;
    }
    writer.end();
    const members = await reading;
    expect(members).toHaveLength(13);
    expect(decodeJsonlGz(members[0] as Buffer)).toEqual(rows.slice(0, 1000));
    expect(decodeJsonlGz(Buffer.concat(members))).toEqual(rows);
  });

  it('asks the writer to wait when four members are not yet read, until the reader takes one', async () => {
    const writer = new JsonlGzWriter();
    const { written, wait } = writeUntilFull(writer);
    expect(written).toBe(4 * 1000);
    expect(await settledYet(wait)).toBe(false);
    const reader = writer[Symbol.asyncIterator]();
    await reader.next();
    expect(await settledYet(wait)).toBe(true);
    writer.end();
    let rest = 0;
    for (let step = await reader.next(); !step.done; step = await reader.next()) rest += 1;
    expect(rest).toBe(3);
  });

  it('releases a waiting writer when the reader stops early, and drops later rows', async () => {
    const writer = new JsonlGzWriter();
    const { wait } = writeUntilFull(writer);
    for await (const _member of writer) break;
    expect(await settledYet(wait)).toBe(true);
    expect(writer.write(rowOf(1))).toBeUndefined();
    writer.end();
  });

  it('fail() ends the reading with the error, releases a waiting writer, and fails later writes', async () => {
    const writer = new JsonlGzWriter();
    writeUntilFull(writer);
    const reader = writer[Symbol.asyncIterator]();
    await reader.next();
    // The reader took one member; one more makes four again, and the writer waits.
    const { written, wait } = writeUntilFull(writer, 4000);
    expect(written).toBe(1000);
    expect(await settledYet(wait)).toBe(false);
    writer.fail(new Error('upload refused'));
    expect(await settledYet(wait)).toBe(true);
    await expect(reader.next()).rejects.toThrow('upload refused');
    expect(() => writer.write(rowOf(2))).toThrow('upload refused');
  });

  it('fail() wakes a reader that is waiting for rows', async () => {
    const writer = new JsonlGzWriter();
    const reading = readAll(writer);
    writer.write(rowOf(1));
    await new Promise((resolve) => setImmediate(resolve));
    writer.fail(new Error('dispatch failed'));
    await expect(reading).rejects.toThrow('dispatch failed');
  });

  it('refuses rows after end()', () => {
    const writer = new JsonlGzWriter();
    writer.end();
    expect(() => writer.write(rowOf(1))).toThrow('write after end');
  });
});
