import { setTimeout as sleep } from 'node:timers/promises';
import type { JobView } from '../../core/job/job-view.js';
import type { LocalProgress } from '../../local/run-local.js';
import { EXIT } from '../exit-codes.js';
import { ProgressLine, progressLineText, RateMeter } from '../progress-line.js';
import type { JobAccess } from './job-access.js';
import { isFinal } from './job-view.js';
import { RemoteError } from './remote-error.js';

/** How long --watch waits for a job that does not exist yet (an upload's dispatcher has not run). */
export const START_GRACE_MS = 60_000;
/** Failed reads in a row (network, throttling, 5xx) that --watch rides out before giving up. */
const MAX_MISSES = 5;

/** A job's progress as the progress line counts it (the total is known once dispatch has counted it). */
const progressOf = (view: JobView): LocalProgress => ({
  accepted: view.progress.accepted,
  dispatchDone: view.progress.totalChunks !== null,
  done: view.progress.urlsDone,
  failed: view.progress.urlsFailed,
});

/** One progress line: `<id> running 1200/5000 URLs | 85/s | 12 errors | ETA 45s`. */
export function watchLine(view: JobView, meter: RateMeter): string {
  return `${view.jobId} ${view.status} ${progressLineText(progressOf(view), meter)}`;
}

/** Where --watch shows progress: a bar on a terminal, a line per change elsewhere, or nothing. */
export type WatchDisplay = 'bar' | 'lines' | 'none';

interface Display {
  show(view: JobView, meter: RateMeter): void;
  stop(): void;
}

function barDisplay(): Display {
  const line = new ProgressLine(process.stderr);
  return { show: (view) => line.update(progressOf(view)), stop: () => line.stop() };
}

function lineDisplay(): Display {
  let last = '';
  return {
    show: (view, meter) => {
      const line = watchLine(view, meter);
      // Only when something moved: a long job polled every 2 s would otherwise flood a log.
      if (line.replace(/\|.*$/, '') !== last) process.stderr.write(`${line}\n`);
      last = line.replace(/\|.*$/, '');
    },
    stop: () => {},
  };
}

const transient = (err: unknown) => !(err instanceof RemoteError) || err.exitCode === EXIT.FAILED;

/**
 * Polls a job every `intervalMs` until it reaches a final status and returns it. A job not
 * there yet is waited for (START_GRACE_MS); a few failed reads in a row are ridden out.
 */
export async function watchJob(
  access: JobAccess,
  jobId: string,
  options: { intervalMs: number; display: WatchDisplay },
): Promise<JobView> {
  const display =
    options.display === 'bar' ? barDisplay() : options.display === 'lines' ? lineDisplay() : null;
  const meter = new RateMeter();
  const startedAt = Date.now();
  let misses = 0;
  let announced = false;
  try {
    for (;;) {
      let view: JobView;
      try {
        view = await access.get(jobId);
        misses = 0;
      } catch (err) {
        const notYet = err instanceof RemoteError && err.code === 'NO_SUCH_JOB';
        if (notYet && Date.now() - startedAt < START_GRACE_MS) {
          if (!announced)
            process.stderr.write(`fanout: no job ${jobId} yet; waiting up to 60 s for it to start\n`);
          announced = true;
        } else if (!notYet && transient(err) && misses + 1 < MAX_MISSES) {
          misses += 1;
          process.stderr.write(
            `fanout: reading job ${jobId} failed (${(err as Error).message}); trying again\n`,
          );
        } else {
          throw err;
        }
        await sleep(options.intervalMs);
        continue;
      }
      meter.add(view.progress.urlsDone);
      display?.show(view, meter);
      if (isFinal(view)) return view;
      await sleep(options.intervalMs);
    }
  } finally {
    display?.stop();
  }
}
