import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../lambda/core/errors.js';
import { DEFAULT_OPTIONS, OPTION_LIMITS, resolveOptions } from '../../lambda/core/options.js';

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
    [{ userAgent: 'a\r\nb' }, 'userAgent', /line breaks/],
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
