import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  decideRetry,
  isRetryableStatus,
  parseRetryAfter,
  RetryPolicy,
} from '../../../lambda/core/fetch/retry-policy.js';

describe('isRetryableStatus', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [503, true],
    [599, true],
    [200, false],
    [301, false],
    [404, false],
    [410, false],
  ])('%i → %s', (status, expected) => expect(isRetryableStatus(status)).toBe(expected));
});

describe('backoffDelay (full jitter)', () => {
  it.each([
    [1, 100, 10_000, 100],
    [2, 100, 10_000, 200],
    [5, 100, 10_000, 1600],
    [10, 100, 10_000, 10_000],
  ])('retry %i, base %i, max %i: uniform below %i', (retry, base, max, ceiling) => {
    expect(backoffDelay(retry, base, max, () => 0)).toBe(0);
    expect(backoffDelay(retry, base, max, () => 0.5)).toBe(Math.floor(ceiling / 2));
    const top = backoffDelay(retry, base, max, () => 0.9999);
    expect(top).toBeLessThan(ceiling);
    expect(top).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.999));
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['120', 120_000],
    ['0', 0],
    [' 5 ', 5_000],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['soon', null],
    ['-5', null],
    ['1.5', null],
    [undefined, null],
  ])('%s → %s', (value, expected) => expect(parseRetryAfter(value, now)).toBe(expected));
});

const base = {
  retries: 3,
  maxRetryAfterMs: 30_000,
  backoffBaseMs: 100,
  backoffMaxMs: 1000,
  remainingMs: 60_000,
  random: () => 0.5,
};

describe('decideRetry', () => {
  it('retries with backoff while attempts remain', () => {
    expect(decideRetry({ ...base, attempt: 1, retryAfterMs: null })).toEqual({ retry: true, delayMs: 50 });
  });
  it('stops when the retries are used up', () => {
    expect(decideRetry({ ...base, attempt: 4, retryAfterMs: null })).toEqual({
      retry: false,
      reason: 'exhausted',
    });
  });
  it('waits exactly the Retry-After', () => {
    expect(decideRetry({ ...base, attempt: 1, retryAfterMs: 2000 })).toEqual({ retry: true, delayMs: 2000 });
  });
  it('refuses a Retry-After over the bound', () => {
    expect(decideRetry({ ...base, attempt: 1, retryAfterMs: 31_000 })).toEqual({
      retry: false,
      reason: 'retry-after-too-long',
    });
  });
  it('never sleeps past the deadline', () => {
    expect(decideRetry({ ...base, attempt: 1, retryAfterMs: 2000, remainingMs: 1500 })).toEqual({
      retry: false,
      reason: 'deadline',
    });
  });
});

describe('RetryPolicy', () => {
  const policy = new RetryPolicy(base);

  it('retries a failed attempt with backoff until the retries are used up', () => {
    expect(policy.afterFailure(1, 60_000)).toEqual({ retry: true, delayMs: 50 });
    expect(policy.afterFailure(3, 60_000)).toEqual({ retry: true, delayMs: 200 });
    expect(policy.afterFailure(4, 60_000)).toEqual({ retry: false, reason: 'exhausted' });
  });

  it.each<[string, number, number, string | string[] | undefined, number, object]>([
    ['a 503 with retries left', 503, 1, undefined, 60_000, { retry: true, delayMs: 50 }],
    ['a 429 with Retry-After', 429, 1, '3', 60_000, { retry: true, delayMs: 3000 }],
    [
      'a 500 after the last retry',
      500,
      4,
      undefined,
      60_000,
      { retry: false, failure: 'HTTP 500 after 4 attempts' },
    ],
    [
      'a 503 with no time left',
      503,
      1,
      '10',
      5000,
      { retry: false, failure: 'HTTP 503 and no time left for another attempt' },
    ],
    [
      'a 429 asking for too long',
      429,
      1,
      '120',
      600_000,
      { retry: false, failure: 'HTTP 429 with a Retry-After longer than allowed' },
    ],
  ])('%s', (_name, status, attempt, retryAfter, remainingMs, expected) => {
    expect(policy.afterStatus(status, attempt, retryAfter, remainingMs)).toEqual(expected);
  });
});
