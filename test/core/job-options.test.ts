import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../lambda/core/errors.js';
import { JOB_OPTIONS } from '../../lambda/core/job-options.js';
import {
  cidrs,
  count,
  duration,
  headerValue,
  oneOf,
  rate,
  size,
  toggle,
} from '../../lambda/core/option-kinds.js';
import { OPTION_ROWS } from '../../lambda/core/options.js';

describe('the option table', () => {
  it.each(OPTION_ROWS)('%s: its default is a valid value of its kind', (_option, row) => {
    expect(row.kind.check(row.default)).toBeUndefined();
    if (row.deploymentMax !== undefined) expect(row.kind.check(row.deploymentMax)).toBeUndefined();
  });

  it('flags and their attribute names are unique', () => {
    const flags = OPTION_ROWS.flatMap(([, row]) => (row.flag ? [new Option(row.flag)] : []));
    expect(new Set(flags.map((f) => f.long)).size).toBe(flags.length);
    expect(new Set(flags.map((f) => f.attributeName())).size).toBe(flags.length);
  });

  it('an option another may not exceed is a row of the table', () => {
    for (const [, row] of OPTION_ROWS) if (row.atMost) expect(JOB_OPTIONS).toHaveProperty(row.atMost);
  });
});

describe('option kinds', () => {
  const parsed = (kind: { parse(text: string, name: string): unknown }, text: string) => {
    try {
      return kind.parse(text, '--x');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidOptionError);
      return (err as Error).message;
    }
  };

  it.each([
    [count(0, 10), '7', 7],
    [count(0, 10), ' 7 ', 7],
    [count(0, 10), '-1', '--x: expected a whole number, got "-1"'],
    [duration(0, 1e6), '500ms', 500],
    [duration(0, 1e6), '1.5s', 1500],
    [duration(0, 1e6), '2m', 120_000],
    [duration(0, 1e6), '30', 30_000],
    [duration(0, 1e6), '5x', '--x: expected a duration like 500ms, 30s or 2m, got "5x"'],
    [size(0, 1e9), '64KiB', 65_536],
    [size(0, 1e9), '1MB', 1_000_000],
    [size(0, 1e9), '10XB', '--x: expected a size like 65536, 64KiB or 10MiB, got "10XB"'],
    [rate(0, 1000), '5', 5],
    [rate(0, 1000), '0.25', 0.25],
    [rate(0, 1000), '0.0001', '--x: expected a number like 5 or 0.5, got "0.0001"'],
    [rate(0, 1000), '-1', '--x: expected a number like 5 or 0.5, got "-1"'],
  ])('%# reads %j', (kind, text, expected) => {
    expect(parsed(kind, text)).toBe(expected);
  });

  it('a numeric kind checks its range, or the range a deployment gives, with its unit', () => {
    expect(duration(100, 1000).check(50)).toBe('must be an integer from 100 to 1000 ms, got 50');
    expect(size(0, 10).check(1.5)).toBe('must be an integer from 0 to 10 bytes, got 1.5');
    expect(count(1, 900).check(100, { min: 1, max: 50 })).toBe('must be an integer from 1 to 50, got 100');
    expect(count(1, 900).check('5')).toBe('must be an integer from 1 to 900, got "5"');
    expect(rate(0, 1000).check(0.125)).toBeUndefined();
    expect(rate(0, 1000).check(2000)).toBe(
      'must be a number from 0 to 1000 per second, at most three decimals (0: no limit), got 2000',
    );
    expect(rate(0, 1000).check(0.0005)).toMatch(/^must be a number from 0 to 1000/);
  });

  it('shows defaults as a user would type them', () => {
    expect(duration(0, 1e6).show(60_000)).toBe('60s');
    expect(duration(0, 1e6).show(250)).toBe('250ms');
    expect(rate(0, 1000).show(0)).toBe('none');
    expect(rate(0, 1000).show(2.5)).toBe('2.5/s');
    expect(size(0, 1e9).show(10 * 1024 * 1024)).toBe('10MiB');
    expect(size(0, 1e9).show(65_536)).toBe('64KiB');
    expect(size(0, 1e9).show(1000)).toBe('1000');
    expect(toggle().show(false)).toBeUndefined();
    expect(cidrs().show([])).toBeUndefined();
  });

  it('checks words, switches, text and CIDR lists', () => {
    expect(oneOf(['a', 'b']).check('c')).toBe('must be one of a, b, got "c"');
    expect(toggle().check('yes')).toBe('must be true or false');
    const ua = headerValue('User-Agent', 8);
    expect(ua.check('')).toBe('must be a non-empty string of at most 8 characters');
    expect(ua.check('a\nb')).toBe('must be a valid User-Agent value: value must not contain CR, LF or NUL');
    // What undici refuses as a header value is refused here, not URL by URL (issue 27, item 3).
    for (const bad of ['a\u0001b', 'a\tb\u007f', 'caf\u00e9\u2603', ' lead'])
      expect(ua.check(bad), JSON.stringify(bad)).toMatch(/^must be a valid User-Agent value: /);
    expect(ua.check('fanout/1')).toBeUndefined();
    expect(cidrs().check(['10.0.0.0/99'])).toMatch(/"10\.0\.0\.0\/99" is not valid/);
    expect(cidrs().check('10.0.0.0/8')).toBe('must be a list of CIDR strings');
    expect(cidrs().parse('b', '--allow', ['a'])).toEqual(['a', 'b']);
  });
});
