/**
 * The kinds of value a job option takes (a count, a duration, a size, one of a few words,
 * a switch, a text, a list of CIDRs). A kind knows how the CLI's text becomes a value, how a
 * value is checked, and how a default is shown in help; the option table gives each option
 * its kind.
 */
import { AddressPolicy } from './address/address-policy.js';
import { InvalidOptionError } from './errors.js';
import { headersProblem, nameProblem, splitHeaderLine, valueProblem } from './headers/header-rules.js';

/** An inclusive range of a numeric option. */
export interface Range {
  min: number;
  max: number;
}

/** What values of one kind are, on every surface. */
export interface OptionKind<T> {
  /** Reads the text typed after a flag; throws an InvalidOptionError naming `name`. */
  parse(text: string, name: string, previous?: T): T;
  /**
   * What is wrong with a value (e.g. "must be an integer from 1 to 900, got 0"), or undefined.
   * `range` replaces the kind's own range: a deployment may tighten it.
   */
  check(value: unknown, range?: Range): string | undefined;
  /** The value as help shows it: 60s, 10MiB, hash; undefined to show no default. */
  show(value: T): string | undefined;
  /** Fanout's own range of a numeric kind. */
  readonly range?: Range;
  /** The words allowed, for a kind that is one of a few. */
  readonly choices?: readonly string[];
  /** A switch: the flag takes no value and turns the option on. */
  readonly switch?: boolean;
}

/** How a numeric kind reads text: `read` gives the value, or undefined; `expected` says what it takes. */
interface NumberText {
  read: (text: string) => number | undefined;
  expected: string;
}

/** Which numbers of its range a kind takes: whole ones, or a finer grain; `noun` names them in messages. */
interface Grain {
  fits: (value: number) => boolean;
  noun: string;
}

const WHOLE: Grain = { fits: Number.isInteger, noun: 'an integer' };

/** A kind of numbers in a range, of a grain, read from text by `text`, shown by `show`, with a unit in messages. */
function numeric(
  range: Range,
  text: NumberText,
  grain: Grain,
  unit: string,
  show: (value: number) => string | undefined,
): OptionKind<number> {
  return {
    range,
    parse(input, name) {
      const value = text.read(input.trim());
      if (value === undefined)
        throw new InvalidOptionError(name, `expected ${text.expected}, got "${input}"`);
      return value;
    },
    check(value, { min, max } = range) {
      if (typeof value === 'number' && grain.fits(value) && value >= min && value <= max) return;
      return `must be ${grain.noun} from ${min} to ${max}${unit}, got ${JSON.stringify(value)}`;
    },
    show,
  };
}

/** A kind of whole numbers in a range. */
const whole = (range: Range, text: NumberText, unit: string, show: (value: number) => string) =>
  numeric(range, text, WHOLE, unit, show);

/** Reads a whole, non-negative number: `64`. */
export const COUNT_TEXT = {
  read: (text: string) => (/^\d+$/.test(text) ? Number(text) : undefined),
  expected: 'a whole number',
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Reads a duration in ms: `500ms`, `30s`, `2m`, or a bare number of seconds. */
export const DURATION_TEXT = {
  read(text: string) {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text);
    return match ? Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000)) : undefined;
  },
  expected: 'a duration like 500ms, 30s or 2m',
};

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Reads a byte size: `65536`, `64KiB`, `10MiB`, `1GB`. */
export const SIZE_TEXT = {
  read(text: string) {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
    const unit = SIZE_UNITS[(match?.[2] ?? '?').toLowerCase()];
    return match && unit !== undefined ? Math.round(Number(match[1]) * unit) : undefined;
  },
  expected: 'a size like 65536, 64KiB or 10MiB',
};

/** A number of things: requests, retries, URLs. */
export const count = (min: number, max: number) => whole({ min, max }, COUNT_TEXT, '', String);

/** A time in ms, typed as `500ms`, `30s` or `2m`. */
export const duration = (min: number, max: number) =>
  whole({ min, max }, DURATION_TEXT, ' ms', (ms) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`));

/** A number of bytes, typed as `65536`, `64KiB` or `10MiB`. */
export const size = (min: number, max: number) =>
  whole({ min, max }, SIZE_TEXT, ' bytes', (bytes) => {
    for (const [unit, factor] of [
      ['GiB', 1024 ** 3],
      ['MiB', 1024 ** 2],
      ['KiB', 1024],
    ] as const) {
      if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
    }
    return String(bytes);
  });

/** Reads a rate: `5`, `0.5` (up to three decimals). */
export const RATE_TEXT = {
  read: (text: string) => (/^\d+(?:\.\d{1,3})?$/.test(text) ? Number(text) : undefined),
  expected: 'a number like 5 or 0.5',
};

/** Requests per second, up to three decimals; 0 means no limit. */
export const rate = (min: number, max: number) =>
  numeric(
    { min, max },
    RATE_TEXT,
    {
      fits: (value) => Number.isFinite(value) && Math.round(value * 1000) === value * 1000,
      noun: 'a number',
    },
    ' per second, at most three decimals (0: no limit)',
    (value) => (value === 0 ? 'none' : `${value}/s`),
  );

/** One of a few words. */
export function oneOf<const W extends string>(words: readonly W[]): OptionKind<W> {
  return {
    choices: words,
    parse: (text) => text as W,
    check: (value) =>
      words.includes(value as W)
        ? undefined
        : `must be one of ${words.join(', ')}, got ${JSON.stringify(value)}`,
    show: (value) => value,
  };
}

/** On or off; a flag turns it on. */
export function toggle(): OptionKind<boolean> {
  return {
    switch: true,
    parse: () => true,
    check: (value) => (typeof value === 'boolean' ? undefined : 'must be true or false'),
    show: (value) => (value ? 'on' : undefined),
  };
}

/**
 * The value of a request header fanout sends (the User-Agent): non-empty, at most `maxLength`
 * characters, and a valid HTTP field value as undici checks it (header-rules.ts), so a bad one
 * is refused as an option instead of failing every URL.
 */
export function headerValue(header: string, maxLength: number): OptionKind<string> {
  return {
    parse: (text) => text,
    check(value) {
      if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
        return `must be a non-empty string of at most ${maxLength} characters`;
      }
      const problem = valueProblem(header, value);
      return problem && `must be a valid ${header} value: ${problem.replace(`header ${header}: `, '')}`;
    },
    show: (value) => value,
  };
}

/** Address ranges exempt from the private-address block, like `127.0.0.0/8`; the flag repeats. */
export function cidrs(): OptionKind<string[]> {
  return {
    // Each use of the flag adds one more value.
    parse: (text, _name, previous = []) => [...previous, text],
    check(value) {
      if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) {
        return 'must be a list of CIDR strings';
      }
      try {
        new AddressPolicy({ allowPrivate: false, allow: value });
        return undefined;
      } catch (err) {
        return err instanceof InvalidOptionError ? err.detail : (err as Error).message;
      }
    },
    show: (value) => (value.length > 0 ? value.join(', ') : undefined),
  };
}

/**
 * Request headers, name → value (a value may be a reference: env:NAME, secret:NAME); the flag
 * repeats, `Name: value` each. The check refuses what undici would, the headers fanout sets
 * itself, and a literal value for an always-sensitive header (header-rules.ts).
 */
export function headerSet(): OptionKind<Record<string, string>> {
  return {
    parse(text, name, previous = {}) {
      const pair = splitHeaderLine(text);
      if (!pair) throw new InvalidOptionError(name, `expected "Name: value", got ${JSON.stringify(text)}`);
      const [header, value] = pair;
      const problem = nameProblem(header) ?? valueProblem(header, value);
      if (problem) throw new InvalidOptionError(name, problem);
      if (Object.keys(previous).some((h) => h.toLowerCase() === header.toLowerCase())) {
        throw new InvalidOptionError(name, `header ${header} is given twice`);
      }
      return { ...previous, [header]: value };
    },
    check: (value) => headersProblem(value),
    show: (value) => (Object.keys(value).length > 0 ? Object.keys(value).join(', ') : undefined),
  };
}

/** Header names, like the ones a job marks sensitive; the flag repeats. */
export function headerNames(): OptionKind<string[]> {
  return {
    parse: (text, _name, previous = []) => [...previous, text.trim()],
    check(value) {
      if (!Array.isArray(value) || value.some((n) => typeof n !== 'string')) {
        return 'must be a list of header names';
      }
      const bad = (value as string[]).find((n) => !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n));
      return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a valid header name`;
    },
    show: (value) => (value.length > 0 ? value.join(', ') : undefined),
  };
}
