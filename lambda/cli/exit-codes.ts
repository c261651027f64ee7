/** The `fanout` command's exit codes; README documents them. */
export const EXIT = {
  /** The job finished and every URL was fetched without error. */
  OK: 0,
  /** The job finished, but some URLs failed or some input lines were invalid. */
  COMPLETED_WITH_ERRORS: 1,
  /** A flag or option was wrong, or --job-id names a different existing job; nothing was done. */
  USAGE: 2,
  /** The input could not be read, was empty, or lacked a url column. */
  INPUT: 3,
  /** The job could not finish (an output could not be written, an internal error). */
  FAILED: 4,
  /** This Node.js is older than the CLI needs (package.json's engines); nothing was done. */
  NODE_TOO_OLD: 5,
  /** Interrupted (Ctrl-C): the URLs not yet fetched are recorded as CANCELLED. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** How a command ended, as far as the exit code cares. */
export type CommandOutcome =
  | { kind: 'finished'; status: 'succeeded' | 'completed_with_errors' | 'cancelled'; interrupted: boolean }
  | { kind: 'error'; code: string };

const INPUT_CODES = new Set(['INPUT_UNREADABLE', 'EMPTY_INPUT', 'MISSING_URL_COLUMN']);
const USAGE_CODES = new Set(['INVALID_OPTION', 'USAGE', 'JOB_EXISTS']);

/** Maps an outcome to the exit code. */
export function getExitCode(outcome: CommandOutcome): ExitCode {
  if (outcome.kind === 'finished') {
    if (outcome.interrupted || outcome.status === 'cancelled') return EXIT.INTERRUPTED;
    return outcome.status === 'succeeded' ? EXIT.OK : EXIT.COMPLETED_WITH_ERRORS;
  }
  if (USAGE_CODES.has(outcome.code)) return EXIT.USAGE;
  if (INPUT_CODES.has(outcome.code)) return EXIT.INPUT;
  return EXIT.FAILED;
}
