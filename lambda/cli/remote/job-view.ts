import type { JobView } from '../../core/job/job-view.js';
import { FINAL_STATUSES } from '../../core/ports.js';
import { count as n, plural } from '../../core/report/format.js';
import { EXIT, type ExitCode, getExitCode } from '../exit-codes.js';

/** Whether nothing more will happen to the job. */
export const isFinal = (view: Pick<JobView, 'status'>): boolean => FINAL_STATUSES.includes(view.status);

/**
 * The exit code a job's state stands for, as `fanout run` uses them: 0 succeeded,
 * 1 completed with errors, 4 failed, 130 cancelled; 0 while the job is still going.
 */
export function exitCodeOf(view: Pick<JobView, 'status'>): ExitCode {
  switch (view.status) {
    case 'succeeded':
    case 'completed_with_errors':
    case 'cancelled':
      return getExitCode({ kind: 'finished', status: view.status, interrupted: false });
    case 'failed':
      return EXIT.FAILED;
    default:
      return EXIT.OK;
  }
}

/** "1,234 of 5,000 URLs done, 12 failed" (the total once dispatch has counted it). */
export function progressText(view: JobView): string {
  const { urlsDone, urlsFailed, accepted, totalChunks } = view.progress;
  const total = totalChunks === null ? `${n(accepted)}+` : n(accepted);
  return `${n(urlsDone)} of ${total} ${accepted === 1 && totalChunks !== null ? 'URL' : 'URLs'} done, ${n(urlsFailed)} failed`;
}

/** The few lines `fanout status` prints. */
export function renderJob(view: JobView): string {
  const { progress } = view;
  const chunks = `${n(progress.chunksDone)} of ${progress.totalChunks === null ? '?' : n(progress.totalChunks)}`;
  const lines = [
    `job ${view.jobId}: ${view.status}${view.cancelRequested && !isFinal(view) ? ' (cancel requested)' : ''}`,
    `  urls      ${progressText(view)}, ${plural(progress.invalid, 'invalid line')}`,
    `  chunks    ${chunks}`,
    `  created   ${view.createdAt} · updated ${view.updatedAt}`,
  ];
  if (view.error) lines.push(`  error     ${view.error}`);
  if (view.results && isFinal(view)) lines.push(`  results   ${view.results.results?.s3 ?? ''}`);
  return lines.join('\n');
}
