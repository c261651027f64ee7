import {
  DEPLOYMENT_DEFAULTS,
  HANDLER_ENV as ENV,
  type HandlerVariable,
  RUNTIME_DEFAULTS,
  requiredVariables,
} from '../core/contract.js';
import { hostGroupsFor } from '../core/host-group.js';
import type { JobOptions } from '../core/job-options.js';
import {
  checkJobOptions,
  checkMaxima,
  type JobMaxima,
  limitsWithin,
  type OptionLimits,
} from '../core/options.js';

/**
 * The Lambda functions' configuration, read from the environment once and checked. The variable
 * of each field is named in the deployment contract's HANDLER_ENV (lambda/core/contract.ts).
 */
export interface HandlerConfig {
  /** The job bucket (inputs/ and jobs/). */
  bucket: string;
  /** The DynamoDB job table. */
  tableName: string;
  /** The chunk queue (dispatcher, worker). */
  queueUrl: string;
  /** The dispatcher function the API starts (the dispatcher itself uses its own name). */
  dispatcherFunction: string;
  /** Time a worker keeps for saving a checkpoint before its Lambda deadline (ms). */
  deadlineMarginMs: number;
  /** Time a dispatcher keeps before its deadline to hand over to another invocation (ms). */
  dispatchMarginMs: number;
  /** How often a worker looks for a cancel request while fetching (ms). */
  cancelPollMs: number;
  /** Lifetime of the presigned result URLs the API hands out (s). */
  resultUrlSeconds: number;
  /** Host groups a new job's URLs are split into (dispatcher). */
  hostGroups: number;
  /** Options of jobs that name none: uploads, and API requests' base (HANDLER_ENV.jobDefaults, JSON). */
  jobDefaults: JobOptions;
  /** The ranges API callers' options must keep to (HANDLER_ENV.jobMaxima, JSON of upper bounds). */
  jobLimits: OptionLimits;
  /** Whether API callers may reach private addresses (HANDLER_ENV.jobMaxima's allowPrivate). */
  allowPrivate: boolean;
  /** EventBridge bus for the completion event; none when empty. */
  eventBus: string;
  /** CloudWatch namespace of the handlers' metrics. */
  metricsNamespace: string;
  /** Request headers may read only the Secrets Manager secrets named with this prefix. */
  headerSecretsPrefix: string;
}

/**
 * Reads the configuration; throws naming every missing or malformed variable. Each handler
 * names the variables it needs (the contract's requiredVariables); by default the worker's.
 */
export function readConfig(
  env: NodeJS.ProcessEnv = process.env,
  required: readonly HandlerVariable[] = requiredVariables('worker'),
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
  const given = checkMaxima(json(ENV.jobMaxima));
  for (const p of given.problems) problems.push(`${ENV.jobMaxima}: ${p.option} ${p.message}`);
  // Maxima with a problem are not applied: they would only add problems of their own below.
  const maxima: JobMaxima = given.problems.length === 0 ? given.maxima : {};
  const jobLimits = limitsWithin(maxima);
  // API requests start from the defaults, so the defaults must keep to the maxima too.
  const defaults = checkJobOptions(json(ENV.jobDefaults), { limits: jobLimits });
  for (const p of defaults.problems) problems.push(`${ENV.jobDefaults}: ${p.option}: ${p.message}`);
  const config: HandlerConfig = {
    bucket: env[ENV.bucket] ?? '',
    tableName: env[ENV.table] ?? '',
    queueUrl: env[ENV.queueUrl] ?? '',
    dispatcherFunction: env[ENV.dispatcherFunction] ?? env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    deadlineMarginMs: whole(ENV.deadlineMarginMs, RUNTIME_DEFAULTS.deadlineMarginMs),
    dispatchMarginMs: whole(ENV.dispatchMarginMs, RUNTIME_DEFAULTS.dispatchMarginMs),
    cancelPollMs: whole(ENV.cancelPollMs, RUNTIME_DEFAULTS.cancelPollMs),
    hostGroups: whole(ENV.hostGroups, hostGroupsFor(DEPLOYMENT_DEFAULTS.maxWorkerConcurrency)),
    resultUrlSeconds: whole(ENV.resultUrlSeconds, RUNTIME_DEFAULTS.resultUrlSeconds),
    jobDefaults: defaults.options,
    jobLimits,
    allowPrivate: maxima.allowPrivate === true,
    eventBus: env[ENV.eventBus] ?? '',
    metricsNamespace: env[ENV.metricsNamespace] || RUNTIME_DEFAULTS.metricsNamespace,
    headerSecretsPrefix: env[ENV.headerSecretsPrefix] || DEPLOYMENT_DEFAULTS.headerSecretsPrefix,
  };
  if (problems.length > 0) throw new Error(`fanout configuration: ${problems.join('; ')}`);
  return config;
}
