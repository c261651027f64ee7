import type { SQSEvent } from 'aws-lambda';
import { requiredVariables } from '../core/contract.js';
import { readConfig } from './config.js';
import { jobStore } from './dynamodb-services.js';
import { errorMessage, log } from './log.js';
import { once, type Services } from './services.js';

/** What the dead-letter handler uses: the job table only. */
export type DeadLetterServices = Pick<Services, 'jobs'>;

/** The job and chunk a dead message belonged to, read leniently: a poison message may be anything. */
function deadChunkOf(body: string): { jobId: string; chunkId: string } | null {
  try {
    const parsed = JSON.parse(body) as { jobId?: unknown; chunkId?: unknown };
    if (typeof parsed.jobId === 'string' && typeof parsed.chunkId === 'string') {
      return { jobId: parsed.jobId, chunkId: parsed.chunkId };
    }
  } catch {
    // Not JSON at all: nothing names a job.
  }
  return null;
}

/**
 * Consumes the chunk DLQ: a chunk that failed every delivery ends its job as failed,
 * with the chunk named, so no job stays "running" forever.
 */
export function makeDeadLetterHandler(services: () => DeadLetterServices) {
  return async (event: SQSEvent): Promise<void> => {
    const s = services();
    for (const record of event.Records) {
      const dead = deadChunkOf(record.body);
      if (!dead) {
        log('error', 'dead message names no job; dropped', {
          messageId: record.messageId,
          body: record.body.slice(0, 500),
        });
        continue;
      }
      const receives = record.attributes.ApproximateReceiveCount;
      // The receive count includes this read from the DLQ, so it is reported as is, not as "deliveries".
      const reason = `chunk ${dead.chunkId} failed every delivery and went to the dead-letter queue (receive count ${receives})`;
      try {
        const job = await s.jobs.get(dead.jobId);
        if (!job) {
          // Retrying cannot make the job appear (it expired, or never existed): drop the message.
          log('error', 'dead chunk names an unknown job; dropped', { ...dead, receives });
          continue;
        }
        if (['succeeded', 'completed_with_errors', 'cancelled'].includes(job.status)) continue;
        await s.jobs.finish(dead.jobId, 'failed', job.error ? `${job.error}; ${reason}` : reason);
        log('error', 'job failed: chunk in the dead-letter queue', { ...dead, receives });
      } catch (err) {
        log('error', 'could not record a dead chunk', { ...dead, error: errorMessage(err) });
        throw err;
      }
    }
  };
}

export const handler = makeDeadLetterHandler(
  once(() => ({ jobs: jobStore(readConfig(process.env, requiredVariables('dead-letters'))) })),
);
