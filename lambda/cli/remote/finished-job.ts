import { jobKeys } from '../../core/job/keys.js';
import { EXIT } from '../exit-codes.js';
import { jobAccess } from './job-access.js';
import { isFinal, progressText } from './job-view.js';
import { RemoteError } from './remote-error.js';
import { objectExists } from './streaming.js';
import type { Target } from './target.js';

/**
 * Resolves when the job has finished and left its results (_SUCCESS, written last, is
 * there); otherwise throws a RemoteError saying why not: still running (exit 2), no such
 * job (exit 2), or ended without results (exit 4).
 */
export async function requireFinished(target: Target, bucket: string, jobId: string): Promise<void> {
  if (await objectExists(target.s3, bucket, jobKeys.success(jobId))) return;
  const view = await jobAccess(target)
    .then((access) => access.get(jobId))
    .catch((err: unknown) => {
      if (err instanceof RemoteError && err.code === 'NO_SUCH_JOB') throw err;
      // Neither an API nor a table to ask: say what the bucket shows.
      throw new RemoteError(
        'NOT_FINISHED',
        `job ${jobId} has no results in s3://${bucket}/${jobKeys.prefix(jobId)} (it has not finished, or there is no such job)`,
        EXIT.USAGE,
      );
    });
  if (isFinal(view)) {
    const why = view.error ? `: ${view.error}` : '';
    throw new RemoteError(
      'NO_RESULTS',
      `job ${jobId} ended ${view.status} without results${why}`,
      EXIT.FAILED,
    );
  }
  throw new RemoteError(
    'NOT_FINISHED',
    `job ${jobId} has not finished (${view.status}: ${progressText(view)}); wait for it with: fanout status ${jobId} --watch`,
    EXIT.USAGE,
  );
}
