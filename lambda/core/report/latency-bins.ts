import type { HistogramJSON } from '../histogram.js';

/**
 * Must match histogram.ts (RELATIVE_ACCURACY 0.01): bucket `i` holds values in
 * (GAMMA^(i-1), GAMMA^i]. A test re-bins recorded values both ways to catch drift.
 */
const GAMMA = 1.01 / 0.99;

/** One display bin: [fromMs, toMs); the first bin starts at 0, the last has toMs null. */
export interface LatencyBin {
  fromMs: number;
  toMs: number | null;
  count: number;
}

/** Display bin edges, 1-2-5 per decade from 1 ms to 10^7 ms (about 2.8 hours). */
const EDGES: readonly number[] = (() => {
  const edges: number[] = [];
  for (let decade = 1; decade <= 1e7; decade *= 10) edges.push(decade, 2 * decade, 5 * decade);
  return edges.filter((e) => e <= 1e7);
})();

/** Index of the display bin holding `ms`: 0 is [0, 1 ms), k is [EDGES[k-1], EDGES[k]). */
export function binIndex(ms: number): number {
  let k = 0;
  while (k < EDGES.length && ms >= (EDGES[k] as number)) k += 1;
  return k;
}

function binAt(k: number, count: number): LatencyBin {
  return { fromMs: k === 0 ? 0 : (EDGES[k - 1] as number), toMs: EDGES[k] ?? null, count };
}

/**
 * Re-bins a summary's latency histogram into 1-2-5 bins from its smallest to its
 * largest value. Each log bucket goes whole to the bin of its midpoint, so a bin's
 * edges are exact to within the histogram's 1%. Empty when the histogram is.
 */
export function latencyBins(histogram: HistogramJSON): LatencyBin[] {
  if (histogram.count === 0 || histogram.min === null || histogram.max === null) return [];
  const { min, max } = histogram;
  const counts = new Map<number, number>();
  const bump = (k: number, n: number) => counts.set(k, (counts.get(k) ?? 0) + n);
  if (histogram.zeros > 0) bump(0, histogram.zeros);
  for (const [index, n] of Object.entries(histogram.buckets)) {
    const mid = (2 * GAMMA ** Number(index)) / (GAMMA + 1);
    bump(binIndex(Math.min(max, Math.max(min, mid))), n);
  }
  const first = Math.min(binIndex(min), ...counts.keys());
  const last = Math.max(binIndex(max), ...counts.keys());
  const bins: LatencyBin[] = [];
  for (let k = first; k <= last; k += 1) bins.push(binAt(k, counts.get(k) ?? 0));
  return bins;
}

/** Where `ms` falls along `bins`, from 0 (left edge of the first) to 1 (right edge of the last), log-scaled inside a bin. */
export function binPosition(bins: readonly LatencyBin[], ms: number): number {
  if (bins.length === 0) return 0;
  const i = bins.findIndex((b) => b.toMs === null || ms < b.toMs);
  if (i < 0) return 1;
  const bin = bins[i] as LatencyBin;
  let fraction: number;
  if (bin.toMs === null) fraction = 0.5;
  else if (bin.fromMs === 0) fraction = Math.max(0, ms) / bin.toMs;
  else fraction = Math.log(Math.max(ms, bin.fromMs) / bin.fromMs) / Math.log(bin.toMs / bin.fromMs);
  return (i + Math.min(1, Math.max(0, fraction))) / bins.length;
}
