import { describe, expect, it } from 'vitest';
import { Histogram } from '../../lambda/core/histogram.js';

function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('Histogram', () => {
  it('quantiles are within 1% of the exact values', () => {
    const random = seeded(7);
    const values = Array.from({ length: 20_000 }, () => 1 + random() ** 3 * 5000);
    const h = new Histogram();
    for (const v of values) h.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))] ?? 0;
      expect(Math.abs((h.quantile(q) ?? 0) - exact) / exact).toBeLessThanOrEqual(0.011);
    }
    expect(h.quantile(1)).toBe(Math.max(...values));
  });

  it('merging parts equals recording everything in one', () => {
    const random = seeded(11);
    const values = Array.from({ length: 5000 }, () => random() * 3000);
    const whole = new Histogram();
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    values.forEach((v, i) => {
      whole.record(v);
      parts[i % 3]?.record(v);
    });
    const merged = parts.reduce((acc, p) => acc.merge(p), new Histogram());
    expect(merged.toJSON()).toEqual(whole.toJSON());
    // Merge order does not matter, and serialisation round-trips exactly.
    const reversed = [...parts]
      .reverse()
      .reduce((acc, p) => acc.merge(Histogram.fromJSON(p.toJSON())), new Histogram());
    expect(reversed.toJSON()).toEqual(whole.toJSON());
  });

  it('handles zeros, negatives and the empty case', () => {
    const h = new Histogram();
    expect(h.quantile(0.5)).toBeNull();
    expect(h.mean()).toBeNull();
    h.record(0);
    h.record(-5);
    h.record(Number.NaN);
    expect(h.count).toBe(3);
    expect(h.quantile(0.99)).toBe(0);
  });
});
