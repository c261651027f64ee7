import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { requiredVariables } from '../core/contract.js';
import {
  hasResultFiles,
  type JobView,
  RESULT_FILES,
  type ResultFile,
  toJobView,
} from '../core/job/job-view.js';
import { isValidJobId } from '../core/job/keys.js';
import { parseSubmission, RequestError, submitJob } from '../core/job/submit.js';
import { FINAL_STATUSES, type JobState } from '../core/ports.js';
import { readConfig } from './config.js';
import { jobStore } from './dynamodb-services.js';
import { dispatcherInvoker } from './lambda-services.js';
import { errorMessage, log } from './log.js';
import { objectServices } from './s3-services.js';
import { once, type Services } from './services.js';

/** What the API uses: the job's objects and links, the job table and the dispatcher's start. */
export type ApiServices = Pick<Services, 'config' | 'store' | 'linkTo' | 'jobs' | 'startDispatch'>;

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: `${JSON.stringify(body, null, 2)}\n`,
});

/** A job as GET /jobs/{id} shows it, with presigned links to its results once they are written. */
async function jobView(services: ApiServices, state: JobState): Promise<JobView> {
  const { bucket, resultUrlSeconds } = services.config;
  if (!hasResultFiles(state.status)) return toJobView(state, { bucket });
  const urls = {} as Record<ResultFile, string>;
  for (const [name, key] of Object.entries(RESULT_FILES)) {
    urls[name as ResultFile] = await services.linkTo(key(state.jobId), resultUrlSeconds);
  }
  return toJobView(state, { bucket, links: { urls, expiresInSeconds: resultUrlSeconds } });
}

async function submit(services: ApiServices, body: string | null): Promise<APIGatewayProxyResult> {
  const { config, store, jobs } = services;
  const submission = parseSubmission(body, {
    bucket: config.bucket,
    defaults: config.jobDefaults,
    limits: config.jobLimits,
    allowPrivate: config.allowPrivate,
    headerSecretsPrefix: config.headerSecretsPrefix,
  });
  const { jobId } = submission.request;
  const startDispatch = (id: string) => services.startDispatch({ jobId: id });
  const { created } = await submitJob({ store, jobs, startDispatch }, submission);
  log('info', created ? 'job submitted' : 'job submitted again', {
    jobId,
    source: submission.request.source,
  });
  return json(202, { jobId, status: `/jobs/${jobId}` });
}

async function jobOf(services: ApiServices, jobId: string | undefined): Promise<JobState> {
  if (!jobId || !isValidJobId(jobId)) {
    throw new RequestError(400, 'BAD_REQUEST', `${JSON.stringify(jobId ?? '')} is not a valid job id`);
  }
  const state = await services.jobs.get(jobId);
  if (!state) throw new RequestError(404, 'NOT_FOUND', `no job ${jobId}`);
  return state;
}

async function cancel(services: ApiServices, jobId: string | undefined): Promise<APIGatewayProxyResult> {
  const state = await jobOf(services, jobId);
  if (FINAL_STATUSES.includes(state.status)) {
    throw new RequestError(409, 'JOB_FINISHED', `job ${state.jobId} has already ended (${state.status})`);
  }
  const requested = (await services.jobs.requestCancel(state.jobId)) ?? state;
  log('info', 'job cancel requested', { jobId: state.jobId });
  return json(202, await jobView(services, requested));
}

/** The route of an API Gateway proxy event: the resource template when present, else the path. */
function routeOf(event: APIGatewayProxyEvent): { route: string; jobId: string | undefined } {
  const id = event.pathParameters?.id;
  if (event.resource && event.resource !== '/{proxy+}') {
    return { route: `${event.httpMethod} ${event.resource}`, jobId: id };
  }
  const match = /^\/jobs(?:\/([^/]+))?\/?$/.exec(event.path ?? '');
  if (!match) return { route: `${event.httpMethod} ${event.path}`, jobId: undefined };
  return match[1] === undefined
    ? { route: `${event.httpMethod} /jobs`, jobId: undefined }
    : { route: `${event.httpMethod} /jobs/{id}`, jobId: decodePathSegment(match[1]) };
}

/** A %-decoded path segment; a malformed one is kept as it is (and then fails the id check). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function bodyOf(event: APIGatewayProxyEvent): string | null {
  if (!event.body) return event.body;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * The API Lambda (API Gateway REST proxy events): POST /jobs submits a job (202),
 * GET /jobs/{id} shows it, DELETE /jobs/{id} asks to cancel it (202). Refused requests
 * get 4xx with {error: {code, message}} naming the problem.
 */
export function makeApiHandler(services: () => ApiServices) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const s = services();
    const { route, jobId } = routeOf(event);
    try {
      switch (route) {
        case 'POST /jobs':
          return await submit(s, bodyOf(event));
        case 'GET /jobs/{id}':
          return json(200, await jobView(s, await jobOf(s, jobId)));
        case 'DELETE /jobs/{id}':
          return await cancel(s, jobId);
        default:
          throw new RequestError(
            404,
            'NOT_FOUND',
            `no route ${route}; use POST /jobs, GET or DELETE /jobs/{id}`,
          );
      }
    } catch (err) {
      if (err instanceof RequestError) {
        return json(err.status, { error: { code: err.code, message: err.message } });
      }
      log('error', 'request failed', { route, error: errorMessage(err) });
      return json(500, { error: { code: 'INTERNAL', message: 'the request failed; it is safe to retry' } });
    }
  };
}

export const handler = makeApiHandler(
  once((): ApiServices => {
    const config = readConfig(process.env, requiredVariables('api'));
    const { store, linkTo } = objectServices(config);
    return { config, store, linkTo, jobs: jobStore(config), ...dispatcherInvoker(config) };
  }),
);
