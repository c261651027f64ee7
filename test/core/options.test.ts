import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../lambda/core/errors.js';
import {
  checkJobOptions,
  checkMaxima,
  DEFAULT_OPTIONS,
  limitsWithin,
  OPTION_LIMITS,
  OPTION_ROWS,
  resolveOptions,
} from '../../lambda/core/options.js';

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    expect(resolveOptions({})).toEqual(DEFAULT_OPTIONS);
  });

  it('keeps given values', () => {
    expect(resolveOptions({ concurrency: 10, perHost: 2, body: 'inline' })).toMatchObject({
      concurrency: 10,
      perHost: 2,
      body: 'inline',
    });
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency', /from 1 to 900/],
    [{ concurrency: 1.5 }, 'concurrency', /integer/],
    [{ retries: 11 }, 'retries', /from 0 to 10/],
    [{ timeoutMs: '5s' }, 'timeoutMs', /integer/],
    [{ body: 'all' }, 'body', /none, hash, inline, store/],
    [{ method: 'POST' }, 'method', /GET, HEAD/],
    [{ userAgent: 'a\r\nb' }, 'userAgent', /CR, LF or NUL/],
    [{ userAgent: 'bot\u0007' }, 'userAgent', /character HTTP does not allow/],
    [{ userAgent: 'bot \u2603' }, 'userAgent', /character HTTP does not allow/],
    [{ dedupe: 'yes' }, 'dedupe', /true or false/],
    [{ allow: ['10.0.0.0/99'] }, 'allow', /10\.0\.0\.0\/99/],
    [{ perHost: 50, concurrency: 10 }, 'perHost', /must not exceed concurrency/],
    [{ nonsense: 1 }, 'nonsense', /unknown option/],
  ])('%j is rejected naming %s', (given, option, message) => {
    let error: unknown;
    try {
      resolveOptions(given as Record<string, unknown>);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toMatch(message);
  });

  it('collects every problem into one error', () => {
    expect(() => resolveOptions({ concurrency: 0, retries: -1, body: 'x' })).toThrow(
      /concurrency.*\n.*retries.*\n.*body/s,
    );
  });

  it('a small concurrency without perHost lowers perHost to match', () => {
    expect(resolveOptions({ concurrency: 3 })).toMatchObject({ concurrency: 3, perHost: 3 });
  });

  it('a deployment can tighten the limits', () => {
    const limits = { ...OPTION_LIMITS, concurrency: { min: 1, max: 50 } };
    expect(() => resolveOptions({ concurrency: 100 }, { limits })).toThrow(
      /concurrency: must be an integer from 1 to 50, got 100/,
    );
    expect(resolveOptions({ concurrency: 50 }, { limits }).concurrency).toBe(50);
  });
});

describe('the table applied', () => {
  it('the defaults and the ranges are the rows', () => {
    for (const [option, row] of OPTION_ROWS) {
      expect(DEFAULT_OPTIONS[option]).toEqual(row.default);
      if (row.kind.range) expect(OPTION_LIMITS).toHaveProperty(option, row.kind.range);
    }
    expect(Object.keys(OPTION_LIMITS)).not.toContain('body');
  });

  it('a given value replaces the base; null is a value, and refused', () => {
    const base = { ...DEFAULT_OPTIONS, retries: 1 };
    expect(checkJobOptions({}, { base }).options.retries).toBe(1);
    expect(checkJobOptions({ retries: null }, { base }).problems).toEqual([
      { option: 'retries', message: 'must be an integer from 0 to 10, got null' },
    ]);
  });

  it('a relation names the option it compared with; none when that one is itself wrong', () => {
    expect(checkJobOptions({ concurrency: 4, perHost: 5 }).problems).toEqual([
      { option: 'perHost', message: 'must not exceed concurrency (4), got 5', against: 'concurrency' },
    ]);
    expect(checkJobOptions({ concurrency: 0, perHost: 5 }).problems.map((p) => p.option)).toEqual([
      'concurrency',
    ]);
  });

  it('names problems as the caller typed them', () => {
    expect(() => resolveOptions({ retries: 11 }, {}, (o) => `--${o}`)).toThrow(
      /^--retries: must be an integer from 0 to 10, got 11$/,
    );
  });
});

describe('checkMaxima', () => {
  it('takes a valid value of any numeric option, and allowPrivate', () => {
    expect(checkMaxima({ retries: 2, concurrency: 16, allowPrivate: true })).toEqual({
      maxima: { retries: 2, concurrency: 16, allowPrivate: true },
      problems: [],
    });
  });

  it('names every problem', () => {
    expect(checkMaxima({ retries: 11, body: 'none', allowPrivate: 'yes' }).problems).toEqual([
      { option: 'retries', message: 'must be an integer from 0 to 10, got 11' },
      {
        option: 'body',
        message: `is not a numeric option (${Object.keys(OPTION_LIMITS).join(', ')}, allowPrivate)`,
      },
      { option: 'allowPrivate', message: 'must be true or false' },
    ]);
  });
});

describe('limitsWithin', () => {
  it('without maxima, the ranges are fanout’s own', () => {
    expect(limitsWithin({})).toEqual(OPTION_LIMITS);
  });

  it('a maximum lowers only the upper bound of its option', () => {
    const limits = limitsWithin({ concurrency: 16, timeoutMs: 30_000 });
    expect(limits.concurrency).toEqual({ min: 1, max: 16 });
    expect(limits.timeoutMs).toEqual({ min: 100, max: 30_000 });
    expect(limits.retries).toEqual(OPTION_LIMITS.retries);
  });

  it('a maximum above fanout’s own never widens the range', () => {
    expect(limitsWithin({ retries: 100 }).retries).toEqual(OPTION_LIMITS.retries);
  });

  it('leaves OPTION_LIMITS untouched', () => {
    limitsWithin({ concurrency: 1 });
    expect(OPTION_LIMITS.concurrency).toEqual({ min: 1, max: 900 });
  });
});
