import type { JobOptions } from '../core/defaults.js';
import { resolveOptions } from '../core/options.js';

/** The Lambda functions' configuration, read from the environment once and checked. */
export interface HandlerConfig {
  /** The job bucket (inputs/ and jobs/). */
  bucket: string;
  /** The DynamoDB job table. */
  tableName: string;
  /** The chunk queue. */
  queueUrl: string;
  /** Time a worker keeps for saving a checkpoint before its Lambda deadline (ms). */
  deadlineMarginMs: number;
  /** Options for jobs started by an upload (FANOUT_JOB_DEFAULTS, JSON, over the built-in defaults). */
  jobDefaults: JobOptions;
}

/** Reads the configuration; throws naming every missing or malformed variable. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const bucket = required('FANOUT_BUCKET');
  const tableName = required('FANOUT_TABLE');
  const queueUrl = required('FANOUT_QUEUE_URL');
  const margin = Number(env.FANOUT_DEADLINE_MARGIN_MS ?? '15000');
  if (!Number.isInteger(margin) || margin < 0)
    problems.push('FANOUT_DEADLINE_MARGIN_MS must be a whole number of ms');
  let jobDefaults = resolveOptions();
  try {
    jobDefaults = resolveOptions(JSON.parse(env.FANOUT_JOB_DEFAULTS ?? '{}') as Record<string, unknown>);
  } catch (err) {
    problems.push(`FANOUT_JOB_DEFAULTS: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (problems.length > 0) throw new Error(`fanout configuration: ${problems.join('; ')}`);
  return { bucket, tableName, queueUrl, deadlineMarginMs: margin, jobDefaults };
}
