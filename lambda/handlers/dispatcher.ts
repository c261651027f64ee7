import type { Context, S3Event } from 'aws-lambda';
import { requiredVariables } from '../core/contract.js';
import { InputError } from '../core/errors.js';
import { type DispatchCheckpoint, dispatchJob, type OpenSource } from '../core/job/dispatch.js';
import type { JobRequest } from '../core/job/job-request.js';
import { INPUTS_PREFIX, jobKeys, uploadJobId } from '../core/job/keys.js';
import { awsServices } from './aws-services.js';
import { readConfig } from './config.js';
import { finishJob } from './finish-job.js';
import { errorMessage, log } from './log.js';
import { type DispatchInvocation, type FinalizeInvocation, once, type Services } from './services.js';

type RemainingTime = Pick<Context, 'getRemainingTimeInMillis'>;

/**
 * One dispatcher run. When the invocation's time runs short, the run stops at a chunk
 * boundary and starts the next run from its checkpoint (an asynchronous invocation).
 */
async function dispatch(
  services: Services,
  request: JobRequest,
  context: RemainingTime,
  resume?: DispatchCheckpoint,
): Promise<void> {
  try {
    // A resumed run opens the list where its checkpoint stopped (a ranged GET of the same ETag).
    const source: OpenSource = (start) => services.openSource(request.source, start);
    const shouldPause = () => context.getRemainingTimeInMillis() < services.config.dispatchMarginMs;
    const { hostGroups } = services.config;
    const result = await dispatchJob(services, request, source, {
      shouldPause,
      hostGroups,
      ...(resume && { resume }),
    });
    if (result.paused) {
      log('info', 'dispatch continues in another run', { jobId: request.jobId, ...result.paused });
      await services.startDispatch({ jobId: request.jobId, resume: result.paused });
      return;
    }
    const { manifest } = result;
    log('info', 'job dispatched', {
      jobId: request.jobId,
      accepted: manifest.accepted,
      invalid: manifest.invalid,
      chunks: manifest.chunks,
    });
    // Every chunk was done before the total was recorded: the fan-in runs in its own invocation.
    if (result.claimedFinalize) await services.startFinalize(request.jobId);
  } catch (err) {
    if (err instanceof InputError) {
      // Retrying cannot help a bad input: record it and stop.
      log('error', 'job input rejected', { jobId: request.jobId, code: err.code, error: err.message });
      await services.jobs.create(request.jobId, new Date(request.submittedAt));
      await services.jobs.finish(request.jobId, 'failed', `${err.code}: ${err.message}`);
      return;
    }
    throw err;
  }
}

/** The request of an uploaded list: the deployment's default options. */
function uploadRequest(services: Services, bucket: string, key: string, etag: string): JobRequest {
  return {
    jobId: uploadJobId(key, etag),
    source: `s3://${bucket}/${key}`,
    format: 'auto',
    options: services.config.jobDefaults,
    submittedAt: new Date().toISOString(),
  };
}

/** Any event the dispatcher function takes. */
export type DispatcherEvent = S3Event | DispatchInvocation | FinalizeInvocation;

/**
 * The dispatcher Lambda: an S3 event for objects under inputs/ (one job per object), a
 * direct invocation naming a job whose job.json is in the bucket (from the API, or the
 * next run of a long dispatch), or a job's fan-in (`finalize: true`), which has the same
 * needs as a dispatch: Lambda's longest timeout, the job's objects, a hand-over to itself.
 */
export function makeDispatcherHandler(services: () => Services) {
  return async (event: DispatcherEvent, context: RemainingTime): Promise<void> => {
    const s = services();
    if ('finalize' in event) {
      await finishJob(s, event.jobId, () => context.getRemainingTimeInMillis());
      return;
    }
    if ('jobId' in event) {
      const stored = await s.store.get(jobKeys.request(event.jobId));
      if (!stored) throw new Error(`job ${event.jobId} has no job.json`);
      await dispatch(s, JSON.parse(stored.toString('utf8')) as JobRequest, context, event.resume);
      return;
    }
    for (const record of event.Records) {
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      if (!key.startsWith(INPUTS_PREFIX)) {
        log('warn', 'ignored an object outside inputs/', { key });
        continue;
      }
      const request = uploadRequest(s, record.s3.bucket.name, key, record.s3.object.eTag ?? '');
      try {
        await dispatch(s, request, context);
      } catch (err) {
        log('error', 'dispatch failed', { jobId: request.jobId, error: errorMessage(err) });
        throw err;
      }
    }
  };
}

// The dispatcher's own variables: it invokes itself by AWS_LAMBDA_FUNCTION_NAME, which Lambda sets.
export const handler = makeDispatcherHandler(
  once(() => awsServices(readConfig(process.env, requiredVariables('dispatcher')))),
);
