import type { JobOptions } from '../core/job-options.js';
import {
  checkJobOptions,
  checkMaxima,
  type JobMaxima,
  limitsWithin,
  type OptionLimits,
} from '../core/options.js';

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
  const json = (name: string): Record<string, unknown> => {
    try {
      const value = JSON.parse(env[name] ?? '{}') as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
      problems.push(`${name}: not a JSON object`);
    } catch (err) {
      problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return {};
  };
  const given = checkMaxima(json('FANOUT_JOB_MAXIMA'));
  for (const p of given.problems) problems.push(`FANOUT_JOB_MAXIMA: ${p.option} ${p.message}`);
  // Maxima with a problem are not applied: they would only add problems of their own below.
  const maxima: JobMaxima = given.problems.length === 0 ? given.maxima : {};
  const jobLimits = limitsWithin(maxima);
  // API requests start from the defaults, so the defaults must keep to the maxima too.
  const defaults = checkJobOptions(json('FANOUT_JOB_DEFAULTS'), { limits: jobLimits });
  for (const p of defaults.problems) problems.push(`FANOUT_JOB_DEFAULTS: ${p.option}: ${p.message}`);
  const config: HandlerConfig = {
    bucket: env.FANOUT_BUCKET ?? '',
    tableName: env.FANOUT_TABLE ?? '',
    queueUrl: env.FANOUT_QUEUE_URL ?? '',
    dispatcherFunction: env.FANOUT_DISPATCHER_FUNCTION ?? env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    deadlineMarginMs: whole('FANOUT_DEADLINE_MARGIN_MS', 15_000),
    dispatchMarginMs: whole('FANOUT_DISPATCH_MARGIN_MS', 60_000),
    cancelPollMs: whole('FANOUT_CANCEL_POLL_MS', 5_000),
    resultUrlSeconds: whole('FANOUT_RESULT_URL_SECONDS', 3_600),
    jobDefaults: defaults.options,
    jobLimits,
    allowPrivate: maxima.allowPrivate === true,
    eventBus: env.FANOUT_EVENT_BUS ?? '',
    metricsNamespace: env.FANOUT_METRICS_NAMESPACE || 'Fanout',
  };
  if (problems.length > 0) throw new Error(`fanout configuration: ${problems.join('; ')}`);
  return config;
}
