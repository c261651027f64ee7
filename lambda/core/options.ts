/**
 * The rules of the option table (job-options.ts) applied: the defaults, the ranges, the check
 * of a set of options and of a deployment's maxima. Every surface (CLI flags, the API's
 * `options`, the construct's props, job-defaults / job-maxima variables (contract.ts HANDLER_ENV)) calls these and
 * names each problem as its user typed it.
 */
import { InvalidOptionError } from './errors.js';
import { JOB_OPTIONS, type JobOptionRow, type JobOptions, type NumericOption } from './job-options.js';
import type { Range } from './option-kinds.js';

/** The table's rows, in its order. */
export const OPTION_ROWS = Object.entries(JOB_OPTIONS) as [keyof JobOptions, JobOptionRow<unknown>][];

/** The defaults, applied in one place. */
export const DEFAULT_OPTIONS: Readonly<JobOptions> = Object.freeze(
  Object.fromEntries(OPTION_ROWS.map(([option, row]) => [option, row.default])) as JobOptions,
);

/** The allowed range of each numeric option. */
export type OptionLimits = Record<NumericOption, Range>;

/** fanout's own inclusive ranges of the numeric options; a deployment may tighten them (JobMaxima). */
export const OPTION_LIMITS: Readonly<OptionLimits> = Object.freeze(
  Object.fromEntries(
    OPTION_ROWS.flatMap(([option, row]) => (row.kind.range ? [[option, row.kind.range]] : [])),
  ) as OptionLimits,
);

/** One thing wrong with a set of options, named by option; each surface renames it. */
export interface OptionProblem {
  option: string;
  /** What is wrong, e.g. "must be an integer from 1 to 900, got 0". */
  message: string;
  /** The other option a relation (`atMost`) compared it with. */
  against?: string;
}

/** What a set of options is checked over and within. */
export interface OptionBase {
  /** Values of the options not given. @default DEFAULT_OPTIONS */
  base?: Readonly<JobOptions>;
  /** The ranges of the numeric options. @default OPTION_LIMITS */
  limits?: Readonly<OptionLimits>;
}

/**
 * Applies `given` over the base and checks every option, returning every problem: unknown
 * names, values outside their kind or range, an option above the one it may not exceed.
 */
export function checkJobOptions(
  given: Record<string, unknown>,
  { base = DEFAULT_OPTIONS, limits = OPTION_LIMITS }: OptionBase = {},
): { options: JobOptions; problems: OptionProblem[] } {
  const problems: OptionProblem[] = [];
  for (const option of Object.keys(given)) {
    if (!(option in JOB_OPTIONS)) problems.push({ option, message: 'unknown option' });
  }
  const values: Record<string, unknown> = {};
  for (const [option] of OPTION_ROWS) {
    const value = given[option] !== undefined ? given[option] : base[option];
    values[option] = Array.isArray(value) ? [...value] : value;
  }
  for (const [option, row] of OPTION_ROWS) {
    const other = row.atMost === undefined ? undefined : values[row.atMost];
    // Left out, it follows the option it may not exceed down: "this many at most".
    if (given[option] === undefined && Number.isInteger(other) && row.kind.range) {
      const fallback = Math.min(base[option] as number, other as number);
      values[option] = Math.max(row.kind.range.min, fallback);
    }
  }
  const limitOf = (option: string) => (limits as Record<string, Range>)[option];
  for (const [option, row] of OPTION_ROWS) {
    const value = values[option];
    const message = row.kind.check(value, limitOf(option));
    if (message !== undefined) {
      problems.push({ option, message });
      continue;
    }
    const related = row.against?.(value, values);
    if (related !== undefined) {
      problems.push({ option, message: related });
      continue;
    }
    const against = row.atMost;
    const other = against === undefined ? undefined : values[against];
    const otherValid =
      against !== undefined && JOB_OPTIONS[against as keyof JobOptions]?.kind.check(other) === undefined;
    if (otherValid && (value as number) > (other as number)) {
      problems.push({ option, message: `must not exceed ${against} (${other}), got ${value}`, against });
    }
  }
  return { options: values as JobOptions, problems };
}

/**
 * One InvalidOptionError for the problems: "name: problem" for one, and for several
 * "options: N problems" with one "name: problem" per line. `nameOf` gives each option the
 * name its user typed (a flag, `options.x`).
 */
export function optionError(
  problems: readonly OptionProblem[],
  nameOf: (option: string) => string = (option) => option,
): InvalidOptionError {
  const lines = problems.map((p) => ({ name: nameOf(p.option), message: p.message }));
  const [first] = lines;
  if (lines.length === 1 && first) return new InvalidOptionError(first.name, first.message);
  const list = lines.map((p) => `${p.name}: ${p.message}`).join('\n  ');
  return new InvalidOptionError('options', `${lines.length} problems\n  ${list}`);
}

/**
 * Applies the defaults (or `within.base`) to caller-given options and checks every one,
 * collecting all problems into one InvalidOptionError that names each option (by `nameOf`)
 * and what is allowed.
 */
export function resolveOptions(
  given: Record<string, unknown> = {},
  within: OptionBase = {},
  nameOf?: (option: string) => string,
): JobOptions {
  const { options, problems } = checkJobOptions(given, within);
  if (problems.length > 0) throw optionError(problems, nameOf);
  return options;
}

/** Upper bounds a deployment sets on numeric options, plus whether API callers may reach private addresses. */
export type JobMaxima = { readonly [K in NumericOption]?: number } & { readonly allowPrivate?: boolean };

/** fanout's own option ranges, each capped by the deployment's maximum where one is given. */
export function limitsWithin(maxima: JobMaxima): OptionLimits {
  const limits = { ...OPTION_LIMITS };
  for (const [option, range] of Object.entries(OPTION_LIMITS) as [NumericOption, Range][]) {
    const max = maxima[option];
    if (max !== undefined) limits[option] = { min: range.min, max: Math.min(range.max, max) };
  }
  return limits;
}

/**
 * Checks a deployment's maxima: each a valid value of its numeric option, allowPrivate true or
 * false. Its problems read after the key: "concurrency must be an integer from 1 to 900, got 0".
 */
export function checkMaxima(given: Record<string, unknown>): {
  maxima: JobMaxima;
  problems: OptionProblem[];
} {
  const problems: OptionProblem[] = [];
  for (const [option, value] of Object.entries(given)) {
    const row = JOB_OPTIONS[option as keyof JobOptions] as JobOptionRow<unknown> | undefined;
    if (option === 'allowPrivate') {
      if (typeof value !== 'boolean') problems.push({ option, message: 'must be true or false' });
    } else if (!row?.kind.range) {
      const allowed = [...Object.keys(OPTION_LIMITS), 'allowPrivate'].join(', ');
      problems.push({ option, message: `is not a numeric option (${allowed})` });
    } else {
      const message = row.kind.check(value);
      if (message !== undefined) problems.push({ option, message });
    }
  }
  return { maxima: given as JobMaxima, problems };
}
