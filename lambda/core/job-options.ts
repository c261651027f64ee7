/**
 * Every option of a fanout job, one row each: its kind of value (how CLI text is read, how a
 * value is checked, fanout's own range), its default, its flag and where a deployment sets it.
 * The CLI flags of `run`, `submit` and `retry`, the API's `options` check, the construct's
 * props check and the reader of the handlers' job-defaults and job-maxima variables
 * (contract.ts HANDLER_ENV) are all derived from this table (lambda/core/options.ts applies
 * it); adding an option is adding a row.
 *
 * A row's key is the option's name everywhere but the CLI: the API's `options.<name>`, the
 * construct's prop or `jobDefaults.<name>`, a key of the job-defaults and job-maxima variables.
 */
import { headersProblem } from './headers/header-rules.js';
import {
  cidrs,
  count,
  duration,
  headerNames,
  headerSet,
  headerValue,
  type OptionKind,
  oneOf,
  rate,
  size,
  toggle,
} from './option-kinds.js';

/** How a response body is kept in the result record. */
export const BODY_MODES = ['none', 'hash', 'inline', 'store', 'warc'] as const;
export type BodyMode = (typeof BODY_MODES)[number];

/** HTTP methods a job may use. GET fetches bodies; HEAD checks links cheaply. */
export const METHODS = ['GET', 'HEAD'] as const;
export type Method = (typeof METHODS)[number];

/** Whether a job obeys robots.txt (RFC 9309). */
export const ROBOTS_MODES = ['obey', 'ignore'] as const;
export type RobotsMode = (typeof ROBOTS_MODES)[number];

/** Polite crawlers name themselves; set userAgent to include a contact for your job. */
export const DEFAULT_USER_AGENT = 'fanout/0.1';

/**
 * Where a deployment sets an option: a construct prop of its own ('prop'), the construct's
 * `jobDefaults` ('jobDefaults'), or nowhere: lifting the private-address block is for local
 * runs, and for API callers only where the deployment's job maxima allow it ('local').
 */
export type Deployed = 'prop' | 'jobDefaults' | 'local';

/** One job option. */
export interface JobOptionRow<T, D extends Deployed = Deployed> {
  readonly kind: OptionKind<T>;
  readonly default: NoInfer<T>;
  /** Its flag, as commander spells it (`-c, --concurrency <n>`); none when only the API and the construct set it. */
  readonly flag?: string;
  /** What it does, in a few words: the flag's help. */
  readonly doc: string;
  readonly deployed: D;
  /**
   * The most an API caller may ask for in a deployment that sets no `jobMaxima` for it (raised
   * to the deployment's default when that is larger); none: fanout's own range applies.
   */
  readonly deploymentMax?: number;
  /**
   * Another option this one may not exceed. Left out, it follows that option down: a small
   * --concurrency without --per-host means "this many at most", not an error.
   */
  readonly atMost?: string;
  /** What is wrong with a valid value given the other options' (valid or not) values, or undefined. */
  readonly against?: (value: T, options: Readonly<Record<string, unknown>>) => string | undefined;
}

const row = <T, D extends Deployed>(r: JobOptionRow<T, D>) => r;

const KiB = 1024;
const MiB = 1024 * KiB;

/** The table. Its order is the order of flags in help and of options in job.json. */
export const JOB_OPTIONS = {
  /** Requests in flight at once, per worker process. */
  concurrency: row({
    kind: count(1, 900),
    default: 256,
    flag: '-c, --concurrency <n>',
    doc: 'requests in flight at once',
    deployed: 'prop',
    deploymentMax: 512,
  }),
  /**
   * Requests in flight at once to one host name, across every worker of the job; at most
   * `concurrency`. Each host belongs to one worker at a time (docs/architecture.md, "Politeness").
   */
  perHost: row({
    kind: count(1, 900),
    default: 8,
    flag: '--per-host <n>',
    doc: 'requests in flight per host name, across all workers',
    deployed: 'prop',
    deploymentMax: 64,
    atMost: 'concurrency',
  }),
  /**
   * Requests per second to one host name, across every worker of the job; 0: no limit but
   * what robots.txt's Crawl-delay asks for.
   */
  hostRate: row({
    kind: rate(0, 1000),
    default: 0,
    flag: '--host-rate <n>',
    doc: 'requests per second per host name, across all workers (0: no limit)',
    deployed: 'jobDefaults',
  }),
  /** Obey robots.txt (RFC 9309): a disallowed URL gets ROBOTS_DISALLOWED and is not fetched. */
  robots: row({
    kind: oneOf(ROBOTS_MODES),
    default: 'obey',
    flag: '--robots <mode>',
    doc: 'obey or ignore robots.txt',
    deployed: 'jobDefaults',
  }),
  /** Total time budget for one URL, all attempts and redirects included (ms). */
  timeoutMs: row({
    kind: duration(100, 900_000),
    default: 60_000,
    flag: '--timeout <duration>',
    doc: 'total time per URL, retries included',
    deployed: 'jobDefaults',
  }),
  /** TCP+TLS connect timeout per attempt (ms). */
  connectTimeoutMs: row({
    kind: duration(100, 120_000),
    default: 10_000,
    flag: '--connect-timeout <duration>',
    doc: 'connect timeout per attempt',
    deployed: 'jobDefaults',
  }),
  /** Time to wait for response headers per attempt (ms). */
  headersTimeoutMs: row({
    kind: duration(100, 300_000),
    default: 15_000,
    flag: '--headers-timeout <duration>',
    doc: 'wait for response headers',
    deployed: 'jobDefaults',
  }),
  /** Longest silence between two body chunks (ms). */
  bodyTimeoutMs: row({
    kind: duration(100, 300_000),
    default: 15_000,
    flag: '--body-timeout <duration>',
    doc: 'longest silence inside a body',
    deployed: 'jobDefaults',
  }),
  /** Retries after the first attempt, for network errors, 408, 429 and 5xx. */
  retries: row({
    kind: count(0, 10),
    default: 3,
    flag: '--retries <n>',
    doc: 'retries for network errors, 408, 429, 5xx',
    deployed: 'jobDefaults',
  }),
  /** First backoff step; doubled per retry, full jitter (ms). */
  backoffBaseMs: row({
    kind: duration(0, 60_000),
    default: 250,
    doc: 'first backoff step, doubled per retry',
    deployed: 'jobDefaults',
  }),
  /** Largest single backoff (ms). */
  backoffMaxMs: row({
    kind: duration(0, 300_000),
    default: 10_000,
    doc: 'largest single backoff',
    deployed: 'jobDefaults',
  }),
  /** Longest Retry-After honoured; a longer one ends the URL with HTTP_STATUS (ms). */
  maxRetryAfterMs: row({
    kind: duration(0, 600_000),
    default: 30_000,
    doc: 'longest Retry-After honoured',
    deployed: 'jobDefaults',
  }),
  /** Redirects followed before TOO_MANY_REDIRECTS. */
  maxRedirects: row({
    kind: count(0, 30),
    default: 10,
    flag: '--max-redirects <n>',
    doc: 'redirects followed',
    deployed: 'jobDefaults',
  }),
  /** Largest decoded body accepted before BODY_TOO_LARGE (bytes). */
  maxBodyBytes: row({
    kind: size(0, 1024 * MiB),
    default: 10 * MiB,
    flag: '--max-body <size>',
    doc: 'largest decoded body, e.g. 512KiB',
    deployed: 'prop',
    deploymentMax: 100 * MiB,
  }),
  /**
   * What to keep of each body: a sha256 ('hash'), nothing, the body in the record ('inline'), in
   * bodies/ ('store'), or every exchange as WARC/1.1 in warc/ with a sha256 in the record ('warc').
   */
  body: row({
    kind: oneOf(BODY_MODES),
    default: 'hash',
    flag: '--body <mode>',
    doc: 'what to keep of bodies',
    deployed: 'prop',
  }),
  /** Largest body kept inline in the record when body is 'inline' (bytes). */
  inlineMaxBytes: row({
    kind: size(0, 256 * KiB),
    default: 64 * KiB,
    doc: "largest body kept in the record with body 'inline'",
    deployed: 'prop',
    deploymentMax: 256 * KiB,
  }),
  /** HTTP method. */
  method: row({
    kind: oneOf(METHODS),
    default: 'GET',
    flag: '--method <method>',
    doc: 'HTTP method',
    deployed: 'jobDefaults',
  }),
  /** User-Agent header sent with every request; put a contact here for real crawls. */
  userAgent: row({
    kind: headerValue('User-Agent', 512),
    default: DEFAULT_USER_AGENT,
    flag: '--user-agent <ua>',
    doc: 'User-Agent header',
    deployed: 'prop',
  }),
  /**
   * Request headers sent with every URL and its same-origin redirects (header-rules.ts says
   * which are refused). A value `env:NAME` or `secret:NAME` is read when the request is made
   * (header-values.ts); a sensitive header must be given that way, never by value.
   */
  headers: row({
    kind: headerSet(),
    default: {},
    flag: '--header <header>',
    doc: "request header 'Name: value'; value env:NAME or secret:NAME reads it at fetch time (repeatable)",
    deployed: 'jobDefaults',
    against: (headers, options) =>
      Array.isArray(options.sensitiveHeaders) ? headersProblem(headers, options.sensitiveHeaders) : undefined,
  }),
  /**
   * More header names to treat as sensitive, besides Authorization, Cookie and
   * Proxy-Authorization: given by reference only, dropped on a cross-origin redirect.
   */
  sensitiveHeaders: row({
    kind: headerNames(),
    default: [],
    flag: '--sensitive-header <name>',
    doc: 'treat this header as sensitive, like Authorization (repeatable)',
    deployed: 'jobDefaults',
  }),
  /** URLs per chunk: one SQS message, one worker record, one part file. */
  chunkSize: row({
    kind: count(1, 10_000),
    default: 1000,
    flag: '--chunk-size <n>',
    doc: 'URLs per chunk',
    deployed: 'prop',
    deploymentMax: 1000,
  }),
  /** Drop exact duplicate URLs (reported in invalid.jsonl.gz as DUPLICATE). */
  dedupe: row({
    kind: toggle(),
    default: false,
    flag: '--dedupe',
    doc: 'skip exact duplicate URLs (reported as DUPLICATE in invalid.jsonl.gz)',
    deployed: 'jobDefaults',
  }),
  /** Lift the private-address block entirely (tests and local use only). */
  allowPrivate: row({
    kind: toggle(),
    default: false,
    flag: '--allow-private',
    doc: 'allow loopback, private and link-local targets (local testing only)',
    deployed: 'local',
  }),
  /** CIDR ranges exempt from the private-address block. */
  allow: row({
    kind: cidrs(),
    default: [],
    flag: '--allow <cidr>',
    doc: 'allow one blocked range, e.g. 127.0.0.0/8 (repeatable)',
    deployed: 'local',
  }),
};

type Table = typeof JOB_OPTIONS;
type ValueOf<R> = R extends { kind: OptionKind<infer T> } ? T : never;

/** Options of one job, as the API takes them and job.json records them. */
export type JobOptions = { -readonly [K in keyof Table]: ValueOf<Table[K]> };

/** The options with a range: the numeric ones, which deployments may cap (JobMaxima). */
export type NumericOption = { [K in keyof Table]: ValueOf<Table[K]> extends number ? K : never }[keyof Table];

/** Options a construct prop of their own sets. */
export type PropOption = { [K in keyof Table]: Table[K]['deployed'] extends 'prop' ? K : never }[keyof Table];

/** Options a deployment may default: all but the private-address exemptions, which are for local runs. */
export type TunableJobOptions = {
  [K in keyof Table as Table[K]['deployed'] extends 'local' ? never : K]: ValueOf<Table[K]>;
};
