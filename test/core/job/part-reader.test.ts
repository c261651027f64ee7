import { describe, expect, it } from 'vitest';
import { PartReader } from '../../../lambda/core/job/part-reader.js';

/** A store whose gets resolve on the next tick, counting reads under way. */
function slowStore(sizeOf: (key: string) => number | null, fail?: string) {
  let inFlight = 0;
  const stats = { maxInFlight: 0, reads: [] as string[] };
  const store = {
    async get(key: string): Promise<Buffer | null> {
      stats.reads.push(key);
      inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      if (key === fail) throw new Error(`cannot read ${key}`);
      const size = sizeOf(key);
      return size === null ? null : Buffer.alloc(size, key.slice(-1));
    },
  };
  return { store, stats };
}

const keyOf = (index: number) => `parts/${index}`;

async function readAll(reader: PartReader, count: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < count; i += 1) seen.push((await reader.next()).toString('latin1', 0, 1));
  return seen;
}

describe('PartReader', () => {
  it('reads every part once, in order, with up to 32 reads under way for small parts', async () => {
    const { store, stats } = slowStore(() => 1000);
    const reader = new PartReader(store, keyOf, 50);
    const seen = await readAll(reader, 50);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => String(i).slice(-1)));
    expect(stats.reads).toEqual(Array.from({ length: 50 }, (_, i) => keyOf(i)));
    expect(stats.maxInFlight).toBe(32);
    await expect(reader.next()).rejects.toThrow('all 50 parts were read already');
  });

  it('starts at a given part (a fan-in going on from its checkpoint) and reads none before it', async () => {
    const { store, stats } = slowStore(() => 10);
    const reader = new PartReader(store, keyOf, 12, {}, 7);
    expect(await readAll(reader, 5)).toEqual(['7', '8', '9', '0', '1']);
    expect(stats.reads).toEqual([7, 8, 9, 10, 11].map(keyOf));
  });

  it('reads one part at a time once parts are too large for the read-ahead budget', async () => {
    const { store, stats } = slowStore(() => 600);
    const reader = new PartReader(store, keyOf, 10, { aheadBytes: 1000 });
    await readAll(reader, 10);
    // Two before the first size is known; from then on, one at a time.
    expect(stats.maxInFlight).toBe(2);
    expect(stats.reads).toHaveLength(10);
  });

  it('fits as many parts ahead as the budget holds at the largest size seen', async () => {
    const { store, stats } = slowStore(() => 250);
    await readAll(new PartReader(store, keyOf, 20, { aheadBytes: 1000 }), 20);
    expect(stats.maxInFlight).toBe(4);
  });

  it('names a missing part', async () => {
    const { store } = slowStore((key) => (key === keyOf(3) ? null : 10));
    const reader = new PartReader(store, keyOf, 6);
    await readAll(reader, 3);
    await expect(reader.next()).rejects.toThrow('parts/3 is missing although its chunk was counted');
  });

  it('a read that fails ahead of its turn fails the reader when its turn comes, not before', async () => {
    const { store } = slowStore(() => 10, keyOf(2));
    const reader = new PartReader(store, keyOf, 5);
    // Parts 0 and 1 arrive although part 2's read, already under way, has failed.
    expect(await readAll(reader, 2)).toEqual(['0', '1']);
    await expect(reader.next()).rejects.toThrow('cannot read parts/2');
  });
});
