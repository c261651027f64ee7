import { InvalidOptionError } from '../core/errors.js';

/** Parses a whole, non-negative number given to `flag`. */
export function parseCount(flag: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim()))
      throw new InvalidOptionError(flag, `expected a whole number, got "${text}"`);
    return Number(text);
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Parses a duration to ms: `500ms`, `30s`, `2m`, or a bare number of seconds. */
export function parseDuration(flag: string) {
  return (text: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
    if (!match)
      throw new InvalidOptionError(flag, `expected a duration like 500ms, 30s or 2m, got "${text}"`);
    return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000));
  };
}

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

/** Parses a byte size: `65536`, `64KiB`, `10MiB`, `1GB`. */
export function parseSize(flag: string) {
  return (text: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
    const unit = SIZE_UNITS[(match?.[2] ?? '?').toLowerCase()];
    if (!match || unit === undefined)
      throw new InvalidOptionError(flag, `expected a size like 65536, 64KiB or 10MiB, got "${text}"`);
    return Math.round(Number(match[1]) * unit);
  };
}

/** Collects a repeatable flag's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
