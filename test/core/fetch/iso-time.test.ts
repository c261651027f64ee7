import { describe, expect, it } from 'vitest';
import { isoTime } from '../../../lambda/core/fetch/iso-time.js';

describe('isoTime', () => {
  it.each([0, 5, 55, 999, 1000, 1_764_110_531_002, 1_764_110_531_099, 1_764_110_531_402, 4_102_444_799_999])(
    'formats %i as Date#toISOString does',
    (ms) => {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    },
  );

  it('stays right across seconds, in any order', () => {
    const start = Date.now();
    for (const ms of [start, start + 1, start + 1500, start - 2500, start, start + 999]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
