/**
 * Limits on a job's input. The job options, with their defaults and ranges, are the table in
 * `job-options.ts`.
 */

/** Limits on the input itself. */
export const INPUT_LIMITS = {
  /** Longest URL accepted (characters). */
  maxUrlLength: 8192,
  /** Longest input line kept; the rest of a longer line is skipped and reported. */
  maxLineBytes: 64 * 1024,
  /** Largest chunk message (bytes), under SQS's 256 KiB message limit with room for the envelope. */
  maxChunkBytes: 200 * 1024,
} as const;
