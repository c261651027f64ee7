import { describe, expect, it } from 'vitest';
import { bytes, count, duration, edgeLabel, percent, utc } from '../../../lambda/core/report/format.js';

describe('report formats', () => {
  it.each([
    0,
    7,
    999,
    1000,
    1234567,
    1e15,
    -1,
    -1234.5,
    18593.4,
    0.1234,
    0.0004,
    -0.0004,
    999.9996,
    12.3456,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ])('count(%d) is written as en-US writes it', (value) => {
    expect(count(value)).toBe(value.toLocaleString('en-US'));
  });

  it.each([
    [0, 10, '0%'],
    [5, 0, '0%'],
    [1, 10_000, '<0.1%'],
    [1, 3, '33.3%'],
    [9_999, 10_000, '99.9%'],
    [10, 10, '100%'],
  ])('percent(%d, %d) = %s', (part, whole, shown) => {
    expect(percent(part, whole)).toBe(shown);
  });

  it.each([
    [null, '—'],
    [0.42, '0.4 ms'],
    [57.4, '57 ms'],
    [1249, '1.25 s'],
    [41_250, '41.3 s'],
    [192_000, '3.2 min'],
    [5_400_000, '1.5 h'],
  ])('duration(%s) = %s', (ms, shown) => {
    expect(duration(ms)).toBe(shown);
  });

  it('labels axis edges, bytes and times', () => {
    expect([5, 500, 1000, 20_000, 120_000, 7_200_000].map(edgeLabel)).toEqual([
      '5',
      '500',
      '1s',
      '20s',
      '2m',
      '2h',
    ]);
    expect([512, 1536, 88_773_036].map(bytes)).toEqual(['512 B', '1.5 KiB', '84.7 MiB']);
    expect(utc('2026-11-25T22:00:41.250Z')).toBe('2026-11-25 22:00:41 UTC');
    expect(utc('not a time')).toBe('not a time');
  });
});
