import { createHash } from 'node:crypto';
import type { S3Event } from 'aws-lambda';
import { InputError } from '../core/errors.js';
import { dispatchJob } from '../core/job/dispatch.js';
import { finalizeJob } from '../core/job/finalize.js';
import type { JobRequest } from '../core/job/job-request.js';
import { INPUTS_PREFIX, jobKeys } from '../core/job/keys.js';
import { errorMessage, log } from './log.js';
import { awsServices, once, type Services } from './services.js';

/** A direct invocation (from the API): the job's job.json is already in the bucket. */
export interface DispatchRequest {
  jobId: string;
}

/**
 * The job id of an uploaded list: the same object (key and ETag) always gives the same id,
 * so Lambda's retry of a crashed dispatch resumes the same job instead of starting another.
 */
export function uploadJobId(key: string, etag: string): string {
  const base = key
    .slice(INPUTS_PREFIX.length)
    .replace(/\.(gz)$/, '')
    .replace(/\.[a-z]+$/, '');
  const name =
    base
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 80) || 'upload';
  const digest = createHash('sha256').update(`${key}\n${etag}`).digest('hex').slice(0, 12);
  return `${name}-${digest}`;
}

async function dispatch(services: Services, request: JobRequest): Promise<void> {
  try {
    const source = await services.openSource(request.source);
    const { manifest, claimedFinalize } = await dispatchJob(services, request, source);
    log('info', 'job dispatched', {
      jobId: request.jobId,
      accepted: manifest.accepted,
      invalid: manifest.invalid,
      chunks: manifest.chunks,
    });
    if (claimedFinalize) await finalizeJob(services, request.jobId);
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

/**
 * The dispatcher Lambda: an S3 event for objects under inputs/ (one job per object), or a
 * direct invocation naming a job whose job.json the API wrote.
 */
export function makeDispatcherHandler(services: () => Services) {
  return async (event: S3Event | DispatchRequest): Promise<void> => {
    const s = services();
    if ('jobId' in event) {
      const stored = await s.store.get(jobKeys.request(event.jobId));
      if (!stored) throw new Error(`job ${event.jobId} has no job.json`);
      await dispatch(s, JSON.parse(stored.toString('utf8')) as JobRequest);
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
        await dispatch(s, request);
      } catch (err) {
        log('error', 'dispatch failed', { jobId: request.jobId, error: errorMessage(err) });
        throw err;
      }
    }
  };
}

export const handler = makeDispatcherHandler(once(() => awsServices()));
