/**
 * Every tunable of a fanout job, with its default and its allowed range, in one place.
 * The CLI, the API handler and the CDK construct all read this object; README's option
 * table documents the same values.
 */

/** How a response body is kept in the result record. */
export const BODY_MODES = ['none', 'hash', 'inline', 'store'] as const;
export type BodyMode = (typeof BODY_MODES)[number];

/** HTTP methods a job may use. GET fetches bodies; HEAD checks links cheaply. */
export const METHODS = ['GET', 'HEAD'] as const;
export type Method = (typeof METHODS)[number];

/** Options a caller may set per job. */
export interface JobOptions {
  /** Requests in flight at once, per worker process. @default 256 */
  concurrency: number;
  /** Requests in flight at once to one host name, per worker process. @default 8 */
  perHost: number;
  /** Total time budget for one URL, all attempts and redirects included (ms). @default 60000 */
  timeoutMs: number;
  /** TCP+TLS connect timeout per attempt (ms). @default 10000 */
  connectTimeoutMs: number;
  /** Time to wait for response headers per attempt (ms). @default 15000 */
  headersTimeoutMs: number;
  /** Longest silence between two body chunks (ms). @default 15000 */
  bodyTimeoutMs: number;
  /** Retries after the first attempt, for network errors, 408, 429 and 5xx. @default 3 */
  retries: number;
  /** First backoff step; doubled per retry, full jitter. (ms) @default 250 */
  backoffBaseMs: number;
  /** Largest single backoff (ms). @default 10000 */
  backoffMaxMs: number;
  /** Longest Retry-After honoured; a longer one ends the URL with HTTP_STATUS (ms). @default 30000 */
  maxRetryAfterMs: number;
  /** Redirects followed before TOO_MANY_REDIRECTS. @default 10 */
  maxRedirects: number;
  /** Largest decoded body accepted before BODY_TOO_LARGE (bytes). @default 10 MiB */
  maxBodyBytes: number;
  /** What to keep of each body. @default 'hash' */
  body: BodyMode;
  /** Largest body kept inline in the record when body is 'inline' (bytes). @default 64 KiB */
  inlineMaxBytes: number;
  /** HTTP method. @default 'GET' */
  method: Method;
  /** User-Agent header sent with every request. */
  userAgent: string;
  /** URLs per chunk (one SQS message, one part). @default 1000 */
  chunkSize: number;
  /** Drop exact duplicate URLs (reported in invalid.jsonl.gz as DUPLICATE). @default false */
  dedupe: boolean;
  /** Lift the private-address block entirely (tests and local use only). @default false */
  allowPrivate: boolean;
  /** CIDR ranges exempt from the private-address block. @default [] */
  allow: string[];
}

/** Polite crawlers name themselves; set userAgent to include a contact for your job. */
export const DEFAULT_USER_AGENT = 'fanout/0.1';

/** The defaults, applied in one place. */
export const DEFAULT_OPTIONS: Readonly<JobOptions> = Object.freeze({
  concurrency: 256,
  perHost: 8,
  timeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 15_000,
  retries: 3,
  backoffBaseMs: 250,
  backoffMaxMs: 10_000,
  maxRetryAfterMs: 30_000,
  maxRedirects: 10,
  maxBodyBytes: 10 * 1024 * 1024,
  body: 'hash',
  inlineMaxBytes: 64 * 1024,
  method: 'GET',
  userAgent: DEFAULT_USER_AGENT,
  chunkSize: 1000,
  dedupe: false,
  allowPrivate: false,
  allow: [],
});

/** Inclusive ranges for the numeric options; the API and construct may tighten them. */
export const OPTION_LIMITS = {
  concurrency: { min: 1, max: 900 },
  perHost: { min: 1, max: 900 },
  timeoutMs: { min: 100, max: 900_000 },
  connectTimeoutMs: { min: 100, max: 120_000 },
  headersTimeoutMs: { min: 100, max: 300_000 },
  bodyTimeoutMs: { min: 100, max: 300_000 },
  retries: { min: 0, max: 10 },
  backoffBaseMs: { min: 0, max: 60_000 },
  backoffMaxMs: { min: 0, max: 300_000 },
  maxRetryAfterMs: { min: 0, max: 600_000 },
  maxRedirects: { min: 0, max: 30 },
  maxBodyBytes: { min: 0, max: 1024 * 1024 * 1024 },
  inlineMaxBytes: { min: 0, max: 256 * 1024 },
  chunkSize: { min: 1, max: 10_000 },
} as const satisfies Partial<Record<keyof JobOptions, { min: number; max: number }>>;

/** Limits on the input itself. */
export const INPUT_LIMITS = {
  /** Longest URL accepted (characters). */
  maxUrlLength: 8192,
  /** Longest input line kept; the rest of a longer line is skipped and reported. */
  maxLineBytes: 64 * 1024,
  /** Largest chunk message (bytes), under SQS's 256 KiB message limit with room for the envelope. */
  maxChunkBytes: 200 * 1024,
} as const;
