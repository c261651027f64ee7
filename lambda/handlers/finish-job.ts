import { finalizeStep } from '../core/job/finalize.js';
import type { JobSummary } from '../core/summary.js';
import { log } from './log.js';
import { emitMetrics } from './metrics.js';
import type { Services } from './services.js';

/**
 * One run of a job's fan-in, in a dispatcher invocation of its own (started by whoever claimed
 * finalize). When the invocation's time runs short, the fan-in stops after a segment with its
 * checkpoint saved and starts the next run; a run that crashes is retried by Lambda and goes on
 * from the checkpoint too. Once finalized, the job is logged, counted and announced.
 */
export async function finishJob(
  services: Services,
  jobId: string,
  remainingMs: () => number,
): Promise<JobSummary | null> {
  const shouldPause = () => remainingMs() < services.config.dispatchMarginMs;
  const step = await finalizeStep({ store: services.store, jobs: services.jobs }, jobId, { shouldPause });
  if (step.paused) {
    log('info', 'finalize continues in another run', { jobId, ...step.paused });
    await services.startFinalize(jobId);
    return null;
  }
  const { summary } = step;
  log('info', 'job finalized', { jobId, status: summary.status, urls: summary.urls });
  emitMetrics(services.config.metricsNamespace, [{ name: 'JobsFinished', value: 1, unit: 'Count' }], {
    Status: summary.status,
  });
  await services.announce(summary);
  return summary;
}
