import type { JobState, JobStatus } from '../ports.js';
import { jobKeys } from './keys.js';

/** The objects a finished job leaves, by name. */
export const RESULT_FILES = {
  results: jobKeys.results,
  summary: jobKeys.summary,
  failed: jobKeys.failed,
  invalid: jobKeys.invalid,
} as const;
export type ResultFile = keyof typeof RESULT_FILES;

/** A job as `GET /jobs/{id}` and `fanout status` show it: state, progress, and where its results are. */
export interface JobView {
  jobId: string;
  status: JobStatus;
  error?: string;
  cancelRequested: boolean;
  createdAt: string;
  updatedAt: string;
  progress: {
    chunksDone: number;
    totalChunks: number | null;
    accepted: number;
    invalid: number;
    urlsDone: number;
    urlsFailed: number;
  };
  /** Where the results are: s3:// locations, and presigned links once the job has finished (API only). */
  results?: Record<ResultFile, { s3: string; url?: string }>;
  /** How long the presigned links last (s), when there are links. */
  resultUrlsExpireInSeconds?: number;
}

/**
 * Whether a job in this status has written its result files, so links to them can be handed
 * out. A cancelled job is finalized too: every URL has its record, the unfetched ones CANCELLED.
 */
export const hasResultFiles = (status: JobStatus): boolean =>
  status === 'succeeded' || status === 'completed_with_errors' || status === 'cancelled';

/** Where a job's results are: its bucket (none known: no results shown), and presigned links with their lifetime. */
export interface ResultPlace {
  bucket?: string | undefined;
  links?: { urls: Record<ResultFile, string>; expiresInSeconds: number };
}

/** The view of a job table item, with where its results are when the bucket is known. */
export function toJobView(state: JobState, place: ResultPlace = {}): JobView {
  const { jobId, status, chunksDone, totalChunks, accepted, invalid, urlsDone, urlsFailed } = state;
  const results = place.bucket !== undefined && {
    results: Object.fromEntries(
      Object.entries(RESULT_FILES).map(([name, key]) => {
        const url = place.links?.urls[name as ResultFile];
        return [name, { s3: `s3://${place.bucket}/${key(jobId)}`, ...(url !== undefined && { url }) }];
      }),
    ) as JobView['results'],
    ...(place.links && { resultUrlsExpireInSeconds: place.links.expiresInSeconds }),
  };
  return {
    jobId,
    status,
    ...(state.error !== undefined && { error: state.error }),
    cancelRequested: state.cancelRequested === true,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    progress: { chunksDone, totalChunks, accepted, invalid, urlsDone, urlsFailed },
    ...results,
  };
}
