import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../lambda/core/histogram.js';
import { binIndex, binPosition, latencyBins } from '../../../lambda/core/report/latency-bins.js';

function histogramOf(values: number[]) {
  const h = new Histogram();
  for (const v of values) h.record(v);
  return h.toJSON();
}

describe('latencyBins', () => {
  it('is empty for an empty histogram', () => {
    expect(latencyBins(histogramOf([]))).toEqual([]);
  });

  it('re-bins histogram buckets into 1-2-5 bins, matching the values binned directly', () => {
    // Values at least 2% away from every 1-2-5 edge: the log buckets cannot straddle one.
    const values = [0, 0, 0.4, 3, 3.3, 7, 15, 15, 16, 70, 150, 300, 310, 320, 1500, 7000, 7100, 42_000];
    const bins = latencyBins(histogramOf(values));
    const direct = new Map<number, number>();
    for (const v of values) direct.set(binIndex(v), (direct.get(binIndex(v)) ?? 0) + 1);
    expect(bins[0]).toEqual({ fromMs: 0, toMs: 1, count: 3 });
    expect(bins.at(-1)).toEqual({ fromMs: 20_000, toMs: 50_000, count: 1 });
    for (const bin of bins) expect(bin.count).toBe(direct.get(binIndex(bin.fromMs)) ?? 0);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(values.length);
    // Contiguous from the smallest to the largest value, empty bins included.
    for (let i = 1; i < bins.length; i += 1) expect(bins[i]?.fromMs).toBe(bins[i - 1]?.toMs);
    expect(bins.map((b) => b.fromMs)).toContain(20);
    expect(bins.find((b) => b.fromMs === 20)?.count).toBe(0);
  });

  it('counts every record whatever the values, one bin for a single value', () => {
    expect(latencyBins(histogramOf([123]))).toEqual([{ fromMs: 100, toMs: 200, count: 1 }]);
    const spread = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 100_000);
    expect(latencyBins(histogramOf(spread)).reduce((n, b) => n + b.count, 0)).toBe(5000);
  });

  it('has an open last bin past 10^7 ms', () => {
    expect(latencyBins(histogramOf([2e7])).at(-1)).toEqual({ fromMs: 1e7, toMs: null, count: 1 });
  });

  it('places a value along the bins, log-scaled inside its bin', () => {
    const bins = latencyBins(histogramOf([10, 150, 300])); // bins 10-20, 20-50, 50-100, 100-200, 200-500
    expect(bins).toHaveLength(5);
    expect(binPosition(bins, 10)).toBeCloseTo(0);
    expect(binPosition(bins, 100)).toBeCloseTo(3 / 5);
    expect(binPosition(bins, Math.sqrt(100 * 200))).toBeCloseTo(3.5 / 5);
    expect(binPosition(bins, 1e6)).toBe(1);
  });
});
