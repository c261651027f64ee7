import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError, InvalidOptionError } from '../../core/errors.js';
import type { InputFormat } from '../../core/input/parse-input.js';
import { INPUTS_PREFIX, isValidJobId, jobKeys, newJobId, uploadJobId } from '../../core/job/keys.js';
import type { JobOptions } from '../../core/job-options.js';
import { EXIT } from '../exit-codes.js';
import { JobsApi } from './jobs-api.js';
import { RemoteError } from './remote-error.js';
import type { Target } from './target.js';
import { removeUpload, uploadOnce } from './upload.js';

/** A list to start a job from, and how. */
export interface ListToSubmit {
  /** A local file, or s3://bucket/key. */
  source: string;
  format?: InputFormat;
  /** Job options for the API; the deployment's defaults fill in the rest. */
  options: Partial<JobOptions>;
  /** The flags that only the API can carry, typed by the user (an upload cannot honour them). */
  apiOnlyFlags: string[];
  jobId?: string;
  /** Upload to inputs/ even when the stack has an API. */
  upload: boolean;
  /** The object name under inputs/ for an upload. @default the file's name */
  key?: string;
}

/** A started job and the path it took. */
export interface Submitted {
  jobId: string;
  via: 'api' | 'upload';
  /** Where the job reads its list. */
  source: string;
}

/** A local file's job input under the job's own prefix, which the dispatcher may read (not inputs/: that starts a job). */
const apiInputKey = (jobId: string, file: string) => jobKeys.uploadedInput(jobId, basename(file));

const usage = (code: string, message: string) => new RemoteError(code, message, EXIT.USAGE);

async function checkFile(path: string): Promise<void> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputError('INPUT_UNREADABLE', `cannot read ${path}: ${err.code ?? err.message}`);
  });
  if (!info.isFile()) throw new InputError('INPUT_UNREADABLE', `${path} is not a file`);
}

/**
 * Starts a job on the deployed stack. An s3:// list goes to the API. A local file, with an
 * API, is uploaded under the job's prefix and submitted to the API as its source (options,
 * format and job id apply); without one (or with `upload`), it is uploaded to inputs/ and the
 * upload trigger starts the job with the deployment's defaults, its id derived from key and ETag.
 */
export async function submitList(target: Target, list: ListToSubmit): Promise<Submitted> {
  if (list.jobId !== undefined && !isValidJobId(list.jobId)) {
    throw new InvalidOptionError(
      '--job-id',
      'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  if (list.source.startsWith('s3://')) return submitS3(target, list);
  await checkFile(list.source);
  if (!list.upload) {
    const { api } = await target.resolve([], ['api']);
    if (api) return submitFileToApi(target, api, list);
  }
  return uploadToInputs(target, list);
}

async function submitS3(target: Target, list: ListToSubmit): Promise<Submitted> {
  if (list.upload)
    throw usage('USAGE', '--upload takes a local file; an s3:// list is submitted to the jobs API');
  const { api, bucket } = await target.resolve(['api'], ['bucket']);
  if (bucket && list.source.startsWith(`s3://${bucket}/${INPUTS_PREFIX}`)) {
    throw usage('USAGE', `${list.source} is under inputs/: its upload already started a job`);
  }
  const jobId = await new JobsApi(target, api).submit(apiRequest(list, list.source));
  return { jobId, via: 'api', source: list.source };
}

function apiRequest(list: ListToSubmit, source: string) {
  return {
    source,
    ...(list.format !== undefined && { format: list.format }),
    ...(Object.keys(list.options).length > 0 && { options: list.options }),
    ...(list.jobId !== undefined && { jobId: list.jobId }),
  };
}

async function submitFileToApi(target: Target, api: string, list: ListToSubmit): Promise<Submitted> {
  const { bucket } = await target.resolve(['bucket']);
  const jobId = list.jobId ?? newJobId();
  const location = { bucket, key: apiInputKey(jobId, list.source) };
  const uploaded = await uploadOnce(target.s3, location, list.source, 'choose another --job-id');
  const source = `s3://${bucket}/${location.key}`;
  try {
    await new JobsApi(target, api).submit(apiRequest({ ...list, jobId }, source));
  } catch (err) {
    if (uploaded.created) await removeUpload(target.s3, location);
    throw err;
  }
  return { jobId, via: 'api', source };
}

async function uploadToInputs(target: Target, list: ListToSubmit): Promise<Submitted> {
  if (list.apiOnlyFlags.length > 0 || list.jobId !== undefined) {
    const flags = [...list.apiOnlyFlags, ...(list.jobId !== undefined ? ['--job-id'] : [])];
    throw usage(
      'NEEDS_API',
      `${flags.join(', ')}: an upload to inputs/ runs with the deployment's defaults and derives its job id; ` +
        'these need the jobs API (the stack has no ApiUrl output, or --upload was given)',
    );
  }
  const { bucket } = await target.resolve(['bucket']);
  const key = `${INPUTS_PREFIX}${list.key ?? basename(list.source)}`;
  if (!/^inputs\/[^/].*[^/]$/.test(key) || key.includes('..')) {
    throw new InvalidOptionError('--key', `"${list.key}" is not an object name`);
  }
  if (Object.keys(list.options).length > 0) {
    process.stderr.write("fanout: note: an upload to inputs/ runs with the deployment's default options\n");
  }
  const uploaded = await uploadOnce(
    target.s3,
    { bucket, key },
    list.source,
    'choose another name with --key',
  );
  return { jobId: uploadJobId(key, uploaded.etag), via: 'upload', source: `s3://${bucket}/${key}` };
}
