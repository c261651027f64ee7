import { basename } from 'node:path';
import { SERVICE_ENDPOINT_ENV } from '../adapters/aws/clients.js';
import { DynamoJobStore } from '../adapters/aws/dynamo-job-store.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { HANDLER_ENV } from '../core/contract.js';
import { FanoutError } from '../core/errors.js';
import type { InputFormat } from '../core/input/parse-input.js';
import { jobKeys } from '../core/job/keys.js';
import { RequestError, submitJob } from '../core/job/submit.js';
import type { JobOptions } from '../core/job-options.js';
import { FINAL_STATUSES, type JobState, type ObjectStore } from '../core/ports.js';
import type { JobSummary } from '../core/summary.js';
import { synthesizeDefaultStack } from './emulator/default-stack.js';
import { describeTemplate } from './emulator/deployment-description.js';
import { EmulatedStack } from './emulator/emulated-stack.js';
import type { LocalProgress } from './run-local.js';

export interface EndpointJob {
  /** Any S3/SQS/DynamoDB-compatible endpoint, e.g. http://127.0.0.1:5000 (moto). */
  endpoint: string;
  region?: string;
  jobId: string;
  /** The input's name (a path, or '-'): the uploaded object is named after it. */
  source: string;
  input: AsyncIterable<Uint8Array>;
  /** sha256 of the input as read: a different list under an existing job id is refused. */
  inputDigest?: string;
  format: InputFormat;
  options: JobOptions;
  /**
   * Worker instances polling at once, each isolated as a Lambda instance is.
   * @default defaultWorkers(options)
   */
  workers?: number;
  /**
   * A cdk.out folder (`cdk synth`): the stack to emulate. @default the default stack, synthesized
   * from this repository's CDK app
   */
  template?: string;
  /** Where the job's objects are copied once it ends (the same tree as a local run). */
  out: ObjectStore;
  /** Asks the job to cancel: URLs not yet fetched end as CANCELLED, and the job still finalizes. */
  signal?: AbortSignal;
  onProgress?: (progress: LocalProgress) => void;
}

/** Workers enough to keep `concurrency` URLs in flight with whole chunks, and one more; at least 2. */
export function defaultWorkers(options: Pick<JobOptions, 'concurrency' | 'chunkSize'>): number {
  return Math.max(2, Math.ceil(options.concurrency / options.chunkSize) + 1);
}

export interface EndpointResult {
  state: JobState;
  /** Null when the job failed before it could be finalized. */
  summary: JobSummary | null;
  /** What the emulated stack saw: the calls its functions made, and those their roles refused. */
  report: EmulationReport;
}

/**
 * `fanout run --endpoint`: the synthesized stack (`--template`, or the default stack synthesized
 * here) emulated against an AWS-compatible endpoint (EmulatedStack): its bucket, queues and
 * table made as declared, its bundled functions run in instances of their own, every call they
 * make checked against their roles. The list is uploaded and the job submitted as the API
 * submits it; the dispatcher is invoked asynchronously; the run lasts until the job ends, then
 * the job's objects are copied to `out`.
 */
export async function runOnEndpoint(job: EndpointJob): Promise<EndpointResult> {
  const description = describeTemplate(job.template ?? (await synthesizeDefaultStack()));
  // S3, SQS and DynamoDB may each have an endpoint of their own (AWS_ENDPOINT_URL_S3, …): so S3
  // and SQS can be one emulator's and DynamoDB another's.
  const backend = (service: 's3' | 'sqs' | 'dynamodb' | 'secretsmanager') =>
    process.env[SERVICE_ENDPOINT_ENV[service]] || job.endpoint;
  const stack = await EmulatedStack.start({
    description,
    backends: {
      s3: backend('s3'),
      sqs: backend('sqs'),
      dynamodb: backend('dynamodb'),
      secretsmanager: backend('secretsmanager'),
    },
    ...(job.region && { region: job.region }),
    maxPollers: job.workers ?? defaultWorkers(job.options),
    // The functions' warnings and errors go to stderr, the rest nowhere (CloudWatch Logs, deployed).
    log: (_fn, line) => {
      if (/"level":"(WARN|ERROR)"/i.test(line)) process.stderr.write(`${line}\n`);
    },
  });
  try {
    return await runJobOn(stack, job);
  } finally {
    await stack.close();
  }
}

/** How often the job item is read while the job runs (ms). */
const JOB_STATE_READ_MS = 250;

/**
 * Runs one job on a started emulated stack: uploads the list, submits the job as the API does,
 * invokes the dispatcher asynchronously, and waits for the job to end (or for an asynchronous
 * invocation to fail every attempt); then copies the job's objects to `out`.
 */
export async function runJobOn(
  stack: EmulatedStack,
  job: Omit<EndpointJob, 'endpoint' | 'region' | 'template' | 'workers'>,
): Promise<EndpointResult> {
  const fanout = fanoutOn(stack);
  const clients = stack.operatorClients();
  const store = new S3ObjectStore({ client: clients.s3, bucket: fanout.bucket });
  const jobs = new DynamoJobStore({ client: clients.dynamodb, tableName: fanout.table });
  const inputKey = jobKeys.uploadedInput(job.jobId, job.source === '-' ? 'stdin' : basename(job.source));
  const request = {
    jobId: job.jobId,
    source: `s3://${fanout.bucket}/${inputKey}`,
    format: job.format,
    options: job.options,
    submittedAt: new Date().toISOString(),
    ...(job.inputDigest && { inputDigest: job.inputDigest }),
  };
  try {
    await submitJob(
      {
        store,
        jobs,
        // Uploaded once the request is accepted: a refused one (JOB_EXISTS) writes nothing.
        startDispatch: async (jobId) => {
          await store.putStream(inputKey, job.input);
          stack.invokeAsync(fanout.dispatcher, { jobId });
        },
      },
      { request, inline: null },
    );
  } catch (err) {
    if (err instanceof RequestError && err.code === 'JOB_EXISTS')
      throw new FanoutError('JOB_EXISTS', err.message);
    throw err;
  }
  const cancel = () => void jobs.requestCancel(job.jobId);
  job.signal?.addEventListener('abort', cancel, { once: true });
  let state: JobState | null = null;
  try {
    for (;;) {
      state = await jobs.get(job.jobId);
      if (!state) throw new Error(`job ${job.jobId} vanished from the job table`);
      const s = state;
      job.onProgress?.({
        accepted: s.accepted,
        dispatchDone: s.totalChunks !== null,
        done: s.urlsDone,
        failed: s.urlsFailed,
      });
      if (FINAL_STATUSES.includes(s.status)) break;
      const failed = stack.asyncFailures[0];
      if (failed) {
        // Deployed, the job would stay as it is, its invocation in the failure queue.
        throw new FanoutError(
          'JOB_FAILED',
          `job ${job.jobId} ${s.status}: the ${failed.functionName} function (${failed.function}) failed every attempt (${failed.errorType}: ${failed.errorMessage})${deniedHint(stack)}`,
        );
      }
      await new Promise((r) => setTimeout(r, JOB_STATE_READ_MS));
    }
  } finally {
    job.signal?.removeEventListener('abort', cancel);
  }
  await stack.settled();
  await copyJob(store, job.out, job.jobId);
  const summary = await job.out.get(jobKeys.summary(job.jobId));
  return {
    state,
    summary: summary ? (JSON.parse(summary.toString('utf8')) as JobSummary) : null,
    report: reportOf(stack),
  };
}

/** fanout's pieces in a stack: the bucket and table its functions name, and the dispatcher. */
export function fanoutOn(stack: EmulatedStack): { bucket: string; table: string; dispatcher: string } {
  for (const fn of stack.description.functions) {
    const env = stack.environmentOf(fn.logicalId);
    const dispatcherName = env[HANDLER_ENV.dispatcherFunction];
    const dispatcher = dispatcherName && stack.functionNamed(dispatcherName);
    const bucket = env[HANDLER_ENV.bucket];
    const table = env[HANDLER_ENV.table];
    if (dispatcher && bucket && table) return { bucket, table, dispatcher };
  }
  throw new FanoutError(
    'BAD_TEMPLATE',
    `the stack ${stack.description.stackName} has no function naming fanout's dispatcher, bucket and table (${HANDLER_ENV.dispatcherFunction}, ${HANDLER_ENV.bucket}, ${HANDLER_ENV.table})`,
  );
}

/** What the emulated run saw, for the CLI to print. */
export interface EmulationReport {
  /** Each distinct (function, action, resource) its functions were allowed, with a count. */
  allowed: Array<{ principal: string; action: string; resource: string; count: number }>;
  /** Each call a role refused. */
  denied: Array<{ principal: string; action: string; resource: string; count: number }>;
  asyncFailures: EmulatedStack['asyncFailures'];
  eventSourceErrors: EmulatedStack['eventSourceErrors'];
}

function reportOf(stack: EmulatedStack): EmulationReport {
  const grouped = (allowed: boolean) => {
    const groups = new Map<string, EmulationReport['allowed'][number]>();
    for (const call of stack.frontDoor.calls) {
      if (call.allowed !== allowed || call.principal === 'operator') continue;
      const resource = allowed ? resourcePattern(call.resource) : call.resource;
      const key = `${call.principal}\0${call.action}\0${resource}`;
      const group = groups.get(key);
      if (group) group.count += call.count;
      else groups.set(key, { principal: call.principal, action: call.action, resource, count: call.count });
    }
    return [...groups.values()];
  };
  return {
    allowed: grouped(true),
    denied: grouped(false),
    asyncFailures: [...stack.asyncFailures],
    eventSourceErrors: [...stack.eventSourceErrors],
  };
}

/** An object ARN under a job, with the job id and the names below its first folder as patterns. */
function resourcePattern(arn: string): string {
  return arn.replace(
    /^(arn:aws:s3:::[^/]+\/jobs\/)[^/]+(\/[^/]+)?(\/.+)?$/,
    (_, head, folder, rest) => `${head}*${folder ?? ''}${rest ? '/*' : ''}`,
  );
}

/** The refused calls, as a sentence to append to an error. */
function deniedHint(stack: EmulatedStack): string {
  const denied = stack.frontDoor.calls.filter((c) => !c.allowed && c.principal !== 'operator');
  if (denied.length === 0) return '';
  return `; AccessDenied: ${denied.map((d) => `${d.principal} may not ${d.action} on ${d.resource}`).join('; ')}`;
}

/** Copies every object of a job from the bucket to `out`, under the same keys. */
async function copyJob(from: S3ObjectStore, out: ObjectStore, jobId: string): Promise<void> {
  for (const key of await from.list(jobKeys.prefix(jobId))) {
    const data = await from.get(key);
    if (data) await out.put(key, data);
  }
}
