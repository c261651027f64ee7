import { finalizeJob } from '../core/job/finalize.js';
import type { JobSummary } from '../core/summary.js';
import { log } from './log.js';
import { emitMetrics } from './metrics.js';
import type { Services } from './services.js';

/** Finalizes a job this invocation claimed, then logs, counts and announces it. */
export async function finishJob(services: Services, jobId: string): Promise<JobSummary> {
  const summary = await finalizeJob({ store: services.store, jobs: services.jobs }, jobId);
  log('info', 'job finalized', { jobId, status: summary.status, urls: summary.urls });
  emitMetrics(services.config.metricsNamespace, [{ name: 'JobsFinished', value: 1, unit: 'Count' }], {
    Status: summary.status,
  });
  await services.announce(summary);
  return summary;
}
