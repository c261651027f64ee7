import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DEPLOYMENT_DEFAULTS as DEPLOYMENT,
  RUNTIME_DEFAULTS,
  visibilityTimeoutSeconds,
} from '../lambda/core/contract.js';
import {
  BODY_MODES,
  type BodyMode,
  DEFAULT_OPTIONS,
  type JobOptions,
  METHODS,
  OPTION_LIMITS,
} from '../lambda/core/defaults.js';
import type { FanoutFetcherProps, JobMaxima, TunableJobOptions } from './fanout-fetcher.js';

type NumericOption = keyof typeof OPTION_LIMITS;

/** Lambda's and SQS's limits on the props (the defaults are the contract's DEPLOYMENT_DEFAULTS). */
export const FETCHER_LIMITS = {
  /** Lambda memory (MiB). */
  memory: { min: 128, max: 10_240 },
  /** Worker timeout (s): enough for one chunk, at most Lambda's 15 minutes. */
  workerTimeoutSeconds: { min: 30, max: 900 },
  /** Records per worker invocation, without a batching window. */
  batchSize: { min: 1, max: 10 },
  /** The SQS event source's maximum concurrency. */
  maxWorkerConcurrency: { min: 2, max: 1000 },
  /** Deliveries of a chunk before it moves to the dead-letter queue. */
  maxReceiveCount: { min: 1, max: 1000 },
  /** Lifetime of a presigned result URL (s). */
  resultUrlSeconds: { min: 60, max: 12 * 3600 },
} as const;

/** Every FanoutFetcher prop with its default applied, checked, plus what derives from them. */
export interface FetcherSettings {
  /** Options of jobs that name none (HANDLER_ENV.jobDefaults). */
  jobDefaults: Partial<JobOptions>;
  /** Upper bounds on the options API callers ask for (HANDLER_ENV.jobMaxima). */
  jobMaxima: Required<JobMaxima>;
  workerMemorySize: number;
  workerTimeout: Duration;
  workerDeadlineMargin: Duration;
  workerBatchSize: number;
  maxWorkerConcurrency: number;
  maxReceiveCount: number;
  /** Derived: DEPLOYMENT_DEFAULTS.visibilityPerTimeout × workerTimeout. */
  visibilityTimeout: Duration;
  partsRetention: Duration;
  bodiesRetention: Duration;
  inputsRetention: Duration;
  jobsRetention: Duration | undefined;
  removalPolicy: RemovalPolicy;
  apiAccess: 'iam' | 'disabled';
  apiThrottle: { rateLimit: number; burstLimit: number };
  apiCloudWatchRole: boolean;
  resultUrlTtl: Duration;
  logRetention: RetentionDays;
  metricsNamespace: string;
  dashboard: boolean;
}

/** Options that have a prop of their own, and options a deployment may not default (local testing only). */
const NAMED: ReadonlySet<string> = new Set([
  'concurrency',
  'perHost',
  'chunkSize',
  'body',
  'maxBodyBytes',
  'inlineMaxBytes',
  'userAgent',
]);
const LOCAL_ONLY: ReadonlySet<string> = new Set(['allowPrivate', 'allow']);

/**
 * Applies the FanoutFetcher's defaults and checks every prop, collecting all problems and
 * throwing once, so a bad deployment fails at synth, never at run time.
 */
export function resolveFetcherSettings(props: FanoutFetcherProps = {}): FetcherSettings {
  const problems: string[] = [];
  const whole = (name: string, value: number, range: { min: number; max: number }, unit = '') => {
    if (!Number.isInteger(value) || value < range.min || value > range.max) {
      problems.push(`${name} must be a whole number from ${range.min} to ${range.max}${unit}, got ${value}`);
    }
  };
  const option = (name: string, key: NumericOption, value: number) => {
    const unit = key.endsWith('Ms') ? ' ms' : key.endsWith('Bytes') ? ' bytes' : '';
    whole(name, value, OPTION_LIMITS[key], unit);
  };

  // Job defaults: the named props, then jobDefaults for the rest.
  const concurrency = props.concurrency ?? DEFAULT_OPTIONS.concurrency;
  const perHost = props.perHost ?? Math.max(1, Math.min(DEFAULT_OPTIONS.perHost, concurrency));
  const named: Partial<JobOptions> = {
    concurrency,
    perHost,
    chunkSize: props.chunkSize ?? DEFAULT_OPTIONS.chunkSize,
    body: props.body ?? DEFAULT_OPTIONS.body,
    maxBodyBytes: props.maxBodyBytes ?? DEFAULT_OPTIONS.maxBodyBytes,
    inlineMaxBytes: props.inlineMaxBytes ?? DEFAULT_OPTIONS.inlineMaxBytes,
    userAgent: props.userAgent ?? DEFAULT_OPTIONS.userAgent,
  };
  for (const key of ['concurrency', 'perHost', 'chunkSize', 'maxBodyBytes', 'inlineMaxBytes'] as const) {
    option(key, key, named[key] as number);
  }
  if (Number.isInteger(concurrency) && concurrency >= 1 && perHost > concurrency) {
    problems.push(`perHost (${perHost}) must not exceed concurrency (${concurrency})`);
  }
  if (!BODY_MODES.includes(named.body as BodyMode)) {
    problems.push(`body must be one of ${BODY_MODES.join(', ')}, got ${JSON.stringify(named.body)}`);
  }
  const ua = named.userAgent ?? '';
  if (ua.length === 0 || ua.length > 512 || /[\r\n\0]/.test(ua)) {
    problems.push('userAgent must be 1 to 512 characters without line breaks or NUL');
  }
  const extra: Record<string, unknown> = { ...props.jobDefaults };
  for (const [key, value] of Object.entries(extra)) {
    if (NAMED.has(key)) problems.push(`jobDefaults.${key}: set it with the ${key} prop instead`);
    else if (LOCAL_ONLY.has(key))
      problems.push(`jobDefaults.${key}: private targets are for local runs only`);
    else if (!(key in DEFAULT_OPTIONS)) problems.push(`jobDefaults.${key}: unknown job option`);
    else if (key in OPTION_LIMITS) option(`jobDefaults.${key}`, key as NumericOption, value as number);
    else if (key === 'method' && !METHODS.includes(value as JobOptions['method'])) {
      problems.push(`jobDefaults.method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(value)}`);
    } else if (key === 'dedupe' && typeof value !== 'boolean')
      problems.push('jobDefaults.dedupe must be true or false');
  }
  const jobDefaults = { ...named, ...(extra as Partial<TunableJobOptions>) };

  // The worker.
  const workerMemorySize = props.workerMemorySize ?? DEPLOYMENT.workerMemoryMiB;
  whole('workerMemorySize', workerMemorySize, FETCHER_LIMITS.memory, ' MiB');
  const workerTimeout = props.workerTimeout ?? Duration.seconds(DEPLOYMENT.workerTimeoutSeconds);
  whole(
    'workerTimeout',
    workerTimeout.toSeconds({ integral: false }),
    FETCHER_LIMITS.workerTimeoutSeconds,
    ' s',
  );
  const workerDeadlineMargin =
    props.workerDeadlineMargin ?? Duration.millis(RUNTIME_DEFAULTS.deadlineMarginMs);
  const marginMs = workerDeadlineMargin.toMilliseconds();
  const timeoutMs = workerTimeout.toMilliseconds();
  if (marginMs < 1000 || marginMs > timeoutMs / 2) {
    problems.push(
      `workerDeadlineMargin must be from 1 s to half of workerTimeout (${timeoutMs / 2000} s), got ${marginMs / 1000} s`,
    );
  }
  const workerBatchSize = props.workerBatchSize ?? DEPLOYMENT.workerBatchSize;
  whole('workerBatchSize', workerBatchSize, FETCHER_LIMITS.batchSize);
  const maxWorkerConcurrency = props.maxWorkerConcurrency ?? DEPLOYMENT.maxWorkerConcurrency;
  whole('maxWorkerConcurrency', maxWorkerConcurrency, FETCHER_LIMITS.maxWorkerConcurrency);
  const maxReceiveCount = props.maxReceiveCount ?? DEPLOYMENT.maxReceiveCount;
  whole('maxReceiveCount', maxReceiveCount, FETCHER_LIMITS.maxReceiveCount);

  // A URL's own time budget must fit in one worker invocation.
  const urlBudgetMs = Math.min(OPTION_LIMITS.timeoutMs.max, timeoutMs - marginMs);
  const urlTimeoutMs = jobDefaults.timeoutMs ?? DEFAULT_OPTIONS.timeoutMs;
  if (urlTimeoutMs > urlBudgetMs) {
    problems.push(
      `jobDefaults.timeoutMs (${urlTimeoutMs} ms) must fit in workerTimeout minus workerDeadlineMargin (${urlBudgetMs} ms)`,
    );
  }
  const maxima = props.jobMaxima ?? {};
  const jobMaxima: Required<JobMaxima> = {
    concurrency: maxima.concurrency ?? Math.max(512, concurrency),
    perHost: maxima.perHost ?? Math.max(64, perHost),
    chunkSize: maxima.chunkSize ?? Math.max(1000, named.chunkSize as number),
    maxBodyBytes: maxima.maxBodyBytes ?? Math.max(100 * 1024 * 1024, named.maxBodyBytes as number),
    inlineMaxBytes: maxima.inlineMaxBytes ?? OPTION_LIMITS.inlineMaxBytes.max,
    timeoutMs: maxima.timeoutMs ?? Math.max(OPTION_LIMITS.timeoutMs.min, urlBudgetMs),
  };
  // Only given maxima are checked: a derived one follows a default already checked above.
  for (const key of Object.keys(maxima) as Array<keyof JobMaxima>) {
    option(`jobMaxima.${key}`, key, jobMaxima[key]);
    const fallback = key === 'timeoutMs' ? urlTimeoutMs : (jobDefaults[key] as number);
    if (fallback > jobMaxima[key]) {
      problems.push(`jobMaxima.${key} (${jobMaxima[key]}) is below the default (${fallback})`);
    }
  }
  if (maxima.timeoutMs !== undefined && jobMaxima.timeoutMs > urlBudgetMs) {
    problems.push(
      `jobMaxima.timeoutMs (${jobMaxima.timeoutMs} ms) must fit in one worker invocation (${urlBudgetMs} ms)`,
    );
  }

  // Storage.
  const days = (name: string, value: Duration | undefined, fallback: Duration | undefined) => {
    const d = value ?? fallback;
    if (d && (!Number.isInteger(d.toDays({ integral: false })) || d.toDays() < 1)) {
      problems.push(`${name} must be a whole number of days, at least 1`);
    }
    return d;
  };
  const partsRetention = days('partsRetention', props.partsRetention, Duration.days(7)) as Duration;
  const bodiesRetention = days('bodiesRetention', props.bodiesRetention, Duration.days(30)) as Duration;
  const inputsRetention = days('inputsRetention', props.inputsRetention, Duration.days(30)) as Duration;
  const jobsRetention = days('jobsRetention', props.jobsRetention, undefined);
  if (jobsRetention && jobsRetention.toDays() < partsRetention.toDays()) {
    problems.push('jobsRetention must not be shorter than partsRetention');
  }

  // API and observability.
  const apiAccess = props.apiAccess ?? 'iam';
  if (apiAccess !== 'iam' && apiAccess !== 'disabled') {
    problems.push(`apiAccess must be 'iam' or 'disabled', got ${JSON.stringify(apiAccess)}`);
  }
  if (apiAccess === 'disabled' && props.apiAuthorizer)
    problems.push('apiAuthorizer needs the API: apiAccess is disabled');
  const apiThrottle = { rateLimit: 25, burstLimit: 50, ...props.apiThrottle };
  whole('apiThrottle.rateLimit', apiThrottle.rateLimit, { min: 1, max: 10_000 }, ' requests/s');
  whole('apiThrottle.burstLimit', apiThrottle.burstLimit, { min: 1, max: 5_000 });
  const resultUrlTtl = props.resultUrlTtl ?? Duration.seconds(RUNTIME_DEFAULTS.resultUrlSeconds);
  whole('resultUrlTtl', resultUrlTtl.toSeconds({ integral: false }), FETCHER_LIMITS.resultUrlSeconds, ' s');
  const metricsNamespace = props.metricsNamespace ?? RUNTIME_DEFAULTS.metricsNamespace;
  if (!/^[A-Za-z0-9._\-/#: ]{1,255}$/.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    problems.push(`metricsNamespace must be 1 to 255 of A-Z a-z 0-9 . _ - / # : and not start with AWS/`);
  }

  if (problems.length > 0) {
    throw new Error(`FanoutFetcher: ${problems.length} invalid props\n  - ${problems.join('\n  - ')}`);
  }
  return {
    jobDefaults,
    jobMaxima,
    workerMemorySize,
    workerTimeout,
    workerDeadlineMargin,
    workerBatchSize,
    maxWorkerConcurrency,
    maxReceiveCount,
    visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(workerTimeout.toSeconds())),
    partsRetention,
    bodiesRetention,
    inputsRetention,
    jobsRetention,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    apiAccess,
    apiThrottle,
    apiCloudWatchRole: props.apiCloudWatchRole ?? true,
    resultUrlTtl,
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
    metricsNamespace,
    dashboard: props.dashboard ?? true,
  };
}
