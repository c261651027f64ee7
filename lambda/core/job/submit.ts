import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DEPLOYMENT_DEFAULTS } from '../contract.js';
import { FanoutError } from '../errors.js';
import { headersProblem } from '../headers/header-rules.js';
import { referenceProblem } from '../headers/header-values.js';
import { INPUT_FORMATS, type InputFormat } from '../input/parse-input.js';
import type { JobOptions } from '../job-options.js';
import { checkJobOptions, type OptionLimits, optionError } from '../options.js';
import type { JobStore, ObjectStore } from '../ports.js';
import type { JobRequest } from './job-request.js';
import { isValidJobId, jobKeys, newJobId } from './keys.js';

/** Limits of a job request sent to the API. */
export const API_LIMITS = {
  /** Largest request body (bytes); larger lists go in a file: `source: "s3://…"`. */
  maxRequestBytes: 5 * 1024 * 1024,
  /** Most URLs listed inline in one request. */
  maxInlineUrls: 10_000,
} as const;

/** A request the API refuses; `status` is the HTTP status it answers with. */
export class RequestError extends FanoutError {
  readonly status: 400 | 404 | 409 | 413;
  constructor(status: RequestError['status'], code: string, message: string) {
    super(code, message);
    this.name = 'RequestError';
    this.status = status;
  }
}

/** What a deployment lets API callers ask for. */
export interface SubmitPolicy {
  /** The bucket inline lists are written to. */
  bucket: string;
  /** Options of a job that names none (the deployment's defaults). */
  defaults: JobOptions;
  /** The allowed range of each numeric option (the deployment's maxima within fanout's own). */
  limits: OptionLimits;
  /** Whether callers may reach private addresses (`allowPrivate`, `allow`). Off in a real deployment. */
  allowPrivate: boolean;
  /** The secrets request headers may read (`secret:NAME`) are named with this prefix. @default DEPLOYMENT_DEFAULTS.headerSecretsPrefix */
  headerSecretsPrefix?: string;
}

/** A checked job request, and the inline list to store (gzipped JSONL) when it came inline. */
export interface Submission {
  request: JobRequest;
  inline: Buffer | null;
}

const FIELDS = ['urls', 'source', 'format', 'options', 'jobId'] as const;
const bad = (message: string) => new RequestError(400, 'BAD_REQUEST', message);

/**
 * Checks a POST /jobs body and turns it into a job request: either `urls` (inline, at most
 * API_LIMITS.maxInlineUrls) or `source` (s3://bucket/key), optional `format`, `options`
 * and `jobId`. Throws a RequestError naming the first problem; options report all theirs.
 */
export function parseSubmission(body: string | null, policy: SubmitPolicy, now = new Date()): Submission {
  const bytes = Buffer.byteLength(body ?? '');
  if (bytes > API_LIMITS.maxRequestBytes) {
    throw new RequestError(
      413,
      'REQUEST_TOO_LARGE',
      `request body is ${bytes} bytes; the limit is ${API_LIMITS.maxRequestBytes} (put larger lists in S3 and send {"source": "s3://bucket/key"})`,
    );
  }
  if (!body?.trim())
    throw bad('request body is empty; send {"urls": [...]} or {"source": "s3://bucket/key"}');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw bad(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad('request body must be a JSON object');
  }
  const given = parsed as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw bad(`unknown field ${unknown.join(', ')}; allowed: ${FIELDS.join(', ')}`);
  if ((given.urls === undefined) === (given.source === undefined)) {
    throw bad('give exactly one of "urls" (a list) and "source" (s3://bucket/key)');
  }

  const jobId = given.jobId ?? newJobId(now);
  if (typeof jobId !== 'string' || !isValidJobId(jobId)) {
    throw bad('jobId: letters, digits, ".", "_" and "-" only, at most 128, starting with a letter or digit');
  }
  const options = checkOptions(given.options, policy);
  const submittedAt = now.toISOString();

  if (given.urls !== undefined) {
    if (given.format !== undefined) throw bad('format: only with "source" (inline urls need none)');
    const inline = inlineList(given.urls, options, policy);
    const inputDigest = createHash('sha256').update(inline).digest('hex');
    const request: JobRequest = {
      jobId,
      source: `s3://${policy.bucket}/${jobKeys.inlineInput(jobId)}`,
      format: 'jsonl',
      options,
      submittedAt,
      inputDigest,
    };
    return { request, inline: gzipSync(inline) };
  }
  const format = given.format ?? 'auto';
  if (!INPUT_FORMATS.includes(format as InputFormat)) {
    throw bad(`format: must be one of ${INPUT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  if (
    typeof given.source !== 'string' ||
    !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(given.source)
  ) {
    throw bad(`source: must be an s3://bucket/key URL, got ${JSON.stringify(given.source)}`);
  }
  return {
    request: { jobId, source: given.source, format: format as InputFormat, options, submittedAt },
    inline: null,
  };
}

/** The caller's options over the deployment's defaults, checked against its limits. */
function checkOptions(value: unknown, policy: SubmitPolicy): JobOptions {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw bad('options: must be a JSON object');
  }
  const given = (value ?? {}) as Record<string, unknown>;
  if (
    !policy.allowPrivate &&
    (given.allowPrivate === true || (Array.isArray(given.allow) && given.allow.length > 0))
  ) {
    throw bad('options.allowPrivate/allow: this deployment does not let API callers reach private addresses');
  }
  const { options, problems } = checkJobOptions(given, { base: policy.defaults, limits: policy.limits });
  if (problems.length > 0) throw bad(optionError(problems, (option) => `options.${option}`).message);
  const secretPrefix = policy.headerSecretsPrefix ?? DEPLOYMENT_DEFAULTS.headerSecretsPrefix;
  const headerProblem = referenceProblem(options.headers, 'deployed', { secretPrefix });
  if (headerProblem) throw bad(`options.headers: ${headerProblem}`);
  return options;
}

/**
 * An inline `urls` list as JSONL text (one {url, id?, meta?, headers?} per line). A URL's
 * headers are checked here, as the job's are: the list is stored, so a sensitive value given
 * by value, or a reference the workers cannot read, is refused before anything is written.
 */
function inlineList(urls: unknown, options: JobOptions, policy: SubmitPolicy): string {
  if (!Array.isArray(urls) || urls.length === 0) throw bad('urls: must be a non-empty list');
  if (urls.length > API_LIMITS.maxInlineUrls) {
    throw bad(
      `urls: ${urls.length} URLs; at most ${API_LIMITS.maxInlineUrls} inline (put larger lists in S3 and send "source")`,
    );
  }
  const lines = urls.map((entry, index) => {
    if (typeof entry === 'string') return JSON.stringify({ url: entry });
    const item = entry as Record<string, unknown> | null;
    const ok =
      typeof item === 'object' &&
      item !== null &&
      !Array.isArray(item) &&
      typeof item.url === 'string' &&
      (item.id === undefined || typeof item.id === 'string' || typeof item.id === 'number') &&
      (item.meta === undefined ||
        (typeof item.meta === 'object' && item.meta !== null && !Array.isArray(item.meta)));
    if (!ok)
      throw bad(
        `urls[${index}]: must be a URL string or {"url": string, "id"?: string|number, "meta"?: object, "headers"?: object}`,
      );
    if (item.headers === undefined) return JSON.stringify({ url: item.url, id: item.id, meta: item.meta });
    const secretPrefix = policy.headerSecretsPrefix ?? DEPLOYMENT_DEFAULTS.headerSecretsPrefix;
    const problem =
      headersProblem(item.headers, options.sensitiveHeaders) ??
      referenceProblem(item.headers as Record<string, string>, 'deployed', { secretPrefix });
    if (problem) throw bad(`urls[${index}].headers: ${problem}`);
    return JSON.stringify({ url: item.url, id: item.id, meta: item.meta, headers: item.headers });
  });
  return `${lines.join('\n')}\n`;
}

/** Where submitJob stores and starts a job. */
export interface SubmitDeps {
  store: ObjectStore;
  jobs: JobStore;
  /** Starts the dispatcher for a job (asynchronously in AWS). */
  startDispatch(jobId: string): Promise<void>;
}

const sameRequest = (r: Partial<JobRequest>) =>
  JSON.stringify([r.source, r.format, r.options, r.inputDigest]);

/**
 * Stores a submission and starts its dispatch. Submitting the same request under the same
 * job id again is safe: it starts a dispatch that was never started, and is otherwise a
 * no-op (two dispatcher chains of one job would pause at different lines and overwrite each
 * other's rejected-line segments). A different request under an existing id is refused with 409.
 */
export async function submitJob(deps: SubmitDeps, submission: Submission): Promise<{ created: boolean }> {
  const { request, inline } = submission;
  const key = jobKeys.request(request.jobId);
  const claimed = await deps.store.putIfAbsent(
    key,
    Buffer.from(`${JSON.stringify(request, null, 2)}\n`),
    'application/json',
  );
  if (!claimed) {
    const existing = JSON.parse((await deps.store.get(key))?.toString('utf8') ?? '{}') as Partial<JobRequest>;
    if (sameRequest(existing) !== sameRequest(request)) {
      throw new RequestError(
        409,
        'JOB_EXISTS',
        `job ${request.jobId} already exists with a different request; choose another jobId`,
      );
    }
    // The job row is created only once its dispatch was started, so a row means "started":
    // leave it. Claimed but never started (a crash, or a start that failed): start it now.
    if (await deps.jobs.get(request.jobId)) return { created: false };
  }
  if (inline) await deps.store.put(jobKeys.inlineInput(request.jobId), inline, 'application/gzip');
  await deps.startDispatch(request.jobId);
  await deps.jobs.create(request.jobId, new Date(request.submittedAt));
  return { created: claimed };
}
