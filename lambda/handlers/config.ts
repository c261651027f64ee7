import { type JobOptions, OPTION_LIMITS } from '../core/defaults.js';
import { type JobMaxima, limitsWithin } from '../core/job/submit.js';
import type { OptionLimits } from '../core/options.js';
import { resolveOptions } from '../core/options.js';

/** The Lambda functions' configuration, read from the environment once and checked. */
export interface HandlerConfig {
  /** The job bucket (inputs/ and jobs/). FANOUT_BUCKET */
  bucket: string;
  /** The DynamoDB job table. FANOUT_TABLE */
  tableName: string;
  /** The chunk queue (dispatcher, worker). FANOUT_QUEUE_URL */
  queueUrl: string;
  /** The dispatcher function the API starts (FANOUT_DISPATCHER_FUNCTION; the dispatcher itself uses its own name). */
  dispatcherFunction: string;
  /** Time a worker keeps for saving a checkpoint before its Lambda deadline (ms). FANOUT_DEADLINE_MARGIN_MS */
  deadlineMarginMs: number;
  /** Time a dispatcher keeps before its deadline to hand over to another invocation (ms). FANOUT_DISPATCH_MARGIN_MS */
  dispatchMarginMs: number;
  /** How often a worker looks for a cancel request while fetching (ms). FANOUT_CANCEL_POLL_MS */
  cancelPollMs: number;
  /** Lifetime of the presigned result URLs the API hands out (s). FANOUT_RESULT_URL_SECONDS */
  resultUrlSeconds: number;
  /** Options of jobs that name none: uploads, and API requests' base (FANOUT_JOB_DEFAULTS, JSON). */
  jobDefaults: JobOptions;
  /** The ranges API callers' options must keep to (FANOUT_JOB_MAXIMA, JSON of upper bounds). */
  jobLimits: OptionLimits;
  /** Whether API callers may reach private addresses (FANOUT_JOB_MAXIMA's allowPrivate). */
  allowPrivate: boolean;
  /** EventBridge bus for the completion event; none when empty. FANOUT_EVENT_BUS */
  eventBus: string;
  /** CloudWatch namespace of the handlers' metrics. FANOUT_METRICS_NAMESPACE */
  metricsNamespace: string;
}

/** Variables a handler cannot work without. */
export type RequiredVariable =
  | 'FANOUT_BUCKET'
  | 'FANOUT_TABLE'
  | 'FANOUT_QUEUE_URL'
  | 'FANOUT_DISPATCHER_FUNCTION';

/**
 * Reads the configuration; throws naming every missing or malformed variable. Each handler
 * names the variables it needs.
 */
export function readConfig(
  env: NodeJS.ProcessEnv = process.env,
  required: readonly RequiredVariable[] = ['FANOUT_BUCKET', 'FANOUT_TABLE', 'FANOUT_QUEUE_URL'],
): HandlerConfig {
  const problems: string[] = [];
  for (const name of required) if (!env[name]) problems.push(`${name} is not set`);
  const whole = (name: string, fallback: number): number => {
    // An empty variable is not set, as for the required ones (Number('') would be 0).
    const value = Number(env[name] || fallback);
    if (!Number.isInteger(value) || value < 0)
      problems.push(`${name} must be a whole number, got ${env[name]}`);
    return value;
  };
  const json = <T>(name: string, read: (value: Record<string, unknown>) => T, fallback: T): T => {
    try {
      const value = JSON.parse(env[name] ?? '{}') as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('not a JSON object');
      return read(value as Record<string, unknown>);
    } catch (err) {
      problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      return fallback;
    }
  };
  const maxima = json('FANOUT_JOB_MAXIMA', readMaxima, {});
  const jobLimits = limitsWithin(maxima);
  // API requests start from the defaults, so the defaults must keep to the maxima too.
  const jobDefaults = json('FANOUT_JOB_DEFAULTS', (v) => resolveOptions(v, jobLimits), resolveOptions());
  const config: HandlerConfig = {
    bucket: env.FANOUT_BUCKET ?? '',
    tableName: env.FANOUT_TABLE ?? '',
    queueUrl: env.FANOUT_QUEUE_URL ?? '',
    dispatcherFunction: env.FANOUT_DISPATCHER_FUNCTION ?? env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    deadlineMarginMs: whole('FANOUT_DEADLINE_MARGIN_MS', 15_000),
    dispatchMarginMs: whole('FANOUT_DISPATCH_MARGIN_MS', 60_000),
    cancelPollMs: whole('FANOUT_CANCEL_POLL_MS', 5_000),
    resultUrlSeconds: whole('FANOUT_RESULT_URL_SECONDS', 3_600),
    jobDefaults,
    jobLimits,
    allowPrivate: maxima.allowPrivate === true,
    eventBus: env.FANOUT_EVENT_BUS ?? '',
    metricsNamespace: env.FANOUT_METRICS_NAMESPACE || 'Fanout',
  };
  if (problems.length > 0) throw new Error(`fanout configuration: ${problems.join('; ')}`);
  return config;
}

function readMaxima(value: Record<string, unknown>): JobMaxima {
  const maxima: Record<string, number | boolean> = {};
  for (const [key, max] of Object.entries(value)) {
    if (key === 'allowPrivate') {
      if (typeof max !== 'boolean') throw new Error('allowPrivate must be true or false');
      maxima[key] = max;
    } else if (!(key in OPTION_LIMITS)) {
      throw new Error(
        `${key} is not a numeric option (${Object.keys(OPTION_LIMITS).join(', ')}, allowPrivate)`,
      );
    } else if (
      typeof max !== 'number' ||
      !Number.isInteger(max) ||
      max < OPTION_LIMITS[key as keyof typeof OPTION_LIMITS].min
    ) {
      throw new Error(
        `${key} must be a whole number of at least ${OPTION_LIMITS[key as keyof typeof OPTION_LIMITS].min}`,
      );
    } else {
      maxima[key] = max;
    }
  }
  return maxima as JobMaxima;
}
