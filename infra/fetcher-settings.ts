import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DEPLOYMENT_DEFAULTS as DEPLOYMENT,
  RUNTIME_DEFAULTS,
  visibilityTimeoutSeconds,
} from '../lambda/core/contract.js';
import { referenceProblem } from '../lambda/core/headers/header-values.js';
import { JOB_OPTIONS, type JobOptionRow, type TunableJobOptions } from '../lambda/core/job-options.js';
import {
  checkJobOptions,
  checkMaxima,
  type JobMaxima,
  OPTION_LIMITS,
  OPTION_ROWS,
} from '../lambda/core/options.js';
import type { FanoutFetcherProps } from './fanout-fetcher.js';

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
  /** Options of jobs that name none (HANDLER_ENV.jobDefaults): the option props, and jobDefaults. */
  jobDefaults: Partial<TunableJobOptions>;
  /** Upper bounds on the options API callers ask for (HANDLER_ENV.jobMaxima). */
  jobMaxima: JobMaxima;
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
  headerSecretsPrefix: string;
}

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

  // Job defaults: the option props, then jobDefaults for the rest, checked by the option table.
  const given: Record<string, unknown> = {};
  const typed = new Map<string, string>();
  for (const [option, row] of OPTION_ROWS) {
    const value = (props as Record<string, unknown>)[option];
    if (row.deployed === 'prop' && value !== undefined) given[option] = value;
  }
  for (const [option, value] of Object.entries(props.jobDefaults ?? {})) {
    const row = (JOB_OPTIONS as Record<string, JobOptionRow<unknown>>)[option];
    const name = `jobDefaults.${option}`;
    if (!row) problems.push(`${name}: unknown job option`);
    else if (row.deployed === 'prop') problems.push(`${name}: set it with the ${option} prop instead`);
    else if (row.deployed === 'local') problems.push(`${name}: private targets are for local runs only`);
    else {
      given[option] = value;
      typed.set(option, name);
    }
  }
  const resolved = checkJobOptions(given);
  for (const { option, message } of resolved.problems)
    problems.push(`${typed.get(option) ?? option} ${message}`);
  const options = resolved.options;
  const jobDefaults = Object.fromEntries(
    OPTION_ROWS.filter(([option, row]) => row.deployed === 'prop' || typed.has(option)).map(([option]) => [
      option,
      options[option],
    ]),
  ) as Partial<TunableJobOptions>;

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
  if (options.timeoutMs > urlBudgetMs) {
    problems.push(
      `jobDefaults.timeoutMs (${options.timeoutMs} ms) must fit in workerTimeout minus workerDeadlineMargin (${urlBudgetMs} ms)`,
    );
  }

  // Maxima: the rows' deployment maxima, met by the defaults; then the given ones, checked.
  const jobMaxima: Record<string, number> = {};
  for (const [option, row] of OPTION_ROWS) {
    if (row.deploymentMax !== undefined) {
      jobMaxima[option] = Math.max(row.deploymentMax, options[option] as number);
    }
  }
  jobMaxima.timeoutMs = Math.max(OPTION_LIMITS.timeoutMs.min, urlBudgetMs);
  const maxima: Record<string, unknown> = { ...props.jobMaxima };
  const checked = checkMaxima(maxima);
  for (const { option, message } of checked.problems) problems.push(`jobMaxima.${option} ${message}`);
  const wrong = new Set(checked.problems.map((p) => p.option));
  for (const [option, max] of Object.entries(maxima)) {
    if (option === 'allowPrivate') {
      problems.push('jobMaxima.allowPrivate: private targets are for local runs only');
    } else if (!wrong.has(option)) {
      jobMaxima[option] = max as number;
      const fallback = options[option as keyof typeof options] as number;
      if (fallback > (max as number))
        problems.push(`jobMaxima.${option} (${max}) is below the default (${fallback})`);
    }
  }
  if (typeof maxima.timeoutMs === 'number' && maxima.timeoutMs > urlBudgetMs) {
    problems.push(
      `jobMaxima.timeoutMs (${maxima.timeoutMs} ms) must fit in one worker invocation (${urlBudgetMs} ms)`,
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

  // Request headers' secrets: a prefix of secret names; a default header must name one under it.
  const headerSecretsPrefix = props.headerSecretsPrefix ?? DEPLOYMENT.headerSecretsPrefix;
  if (!/^[A-Za-z0-9/_+=.@-]{1,256}$/.test(headerSecretsPrefix)) {
    problems.push(
      `headerSecretsPrefix must be 1 to 256 of A-Z a-z 0-9 / _ + = . @ -, got ${JSON.stringify(headerSecretsPrefix)}`,
    );
  }
  const headerProblem = referenceProblem(options.headers, 'deployed', { secretPrefix: headerSecretsPrefix });
  if (headerProblem) problems.push(`jobDefaults.headers: ${headerProblem}`);

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
    headerSecretsPrefix,
  };
}
