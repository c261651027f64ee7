import { AddressPolicy } from './address/address-policy.js';
import { BODY_MODES, DEFAULT_OPTIONS, type JobOptions, METHODS, OPTION_LIMITS } from './defaults.js';
import { InvalidOptionError } from './errors.js';

type NumericOption = keyof typeof OPTION_LIMITS;
export type OptionLimits = { [K in NumericOption]: { min: number; max: number } };

const NUMERIC = Object.keys(OPTION_LIMITS) as NumericOption[];
const KNOWN = new Set<string>(Object.keys(DEFAULT_OPTIONS));

/**
 * Applies the defaults to caller-given options and checks every one, collecting all
 * problems into one InvalidOptionError that names each option and its allowed range.
 * `limits` lets a deployment tighten the ranges.
 */
export function resolveOptions(
  given: Record<string, unknown> = {},
  limits: OptionLimits = OPTION_LIMITS,
): JobOptions {
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);
  }
  const options = { ...DEFAULT_OPTIONS, allow: [...DEFAULT_OPTIONS.allow] } as JobOptions;
  const set = options as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (KNOWN.has(key) && value !== undefined) set[key] = value;
  }
  // A small --concurrency without --per-host means "this many at most", not an error.
  if (given.perHost === undefined && Number.isInteger(options.concurrency)) {
    options.perHost = Math.max(1, Math.min(DEFAULT_OPTIONS.perHost, options.concurrency));
  }
  for (const key of NUMERIC) {
    const value = options[key];
    const { min, max } = limits[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const unit = key.endsWith('Ms') ? ' ms' : key.endsWith('Bytes') ? ' bytes' : '';
      problems.push(`${key}: must be an integer from ${min} to ${max}${unit}, got ${JSON.stringify(value)}`);
    }
  }
  if (!BODY_MODES.includes(options.body)) {
    problems.push(`body: must be one of ${BODY_MODES.join(', ')}, got ${JSON.stringify(options.body)}`);
  }
  if (!METHODS.includes(options.method)) {
    problems.push(`method: must be one of ${METHODS.join(', ')}, got ${JSON.stringify(options.method)}`);
  }
  if (
    typeof options.userAgent !== 'string' ||
    options.userAgent.length === 0 ||
    options.userAgent.length > 512
  ) {
    problems.push('userAgent: must be a non-empty string of at most 512 characters');
  } else if (/[\r\n\0]/.test(options.userAgent)) {
    problems.push('userAgent: must not contain line breaks or NUL');
  }
  for (const key of ['dedupe', 'allowPrivate'] as const) {
    if (typeof options[key] !== 'boolean') problems.push(`${key}: must be true or false`);
  }
  if (!Array.isArray(options.allow) || options.allow.some((c) => typeof c !== 'string')) {
    problems.push('allow: must be a list of CIDR strings');
  } else {
    try {
      new AddressPolicy({ allowPrivate: false, allow: options.allow });
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const validCaps =
    Number.isInteger(options.perHost) && Number.isInteger(options.concurrency) && options.concurrency >= 1;
  if (validCaps && options.perHost > options.concurrency) {
    problems.push(`perHost: must not exceed concurrency (${options.concurrency}), got ${options.perHost}`);
  }
  if (problems.length === 1) {
    const [first = ''] = problems;
    const at = first.indexOf(': ');
    throw new InvalidOptionError(first.slice(0, at), first.slice(at + 2));
  }
  if (problems.length > 1)
    throw new InvalidOptionError('options', `${problems.length} problems\n  ${problems.join('\n  ')}`);
  return options;
}
