import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { JobView } from '../../core/job/job-view.js';
import { EXIT } from '../exit-codes.js';
import type { JobAccess } from './job-access.js';
import { isFinal } from './job-view.js';
import { RemoteError } from './remote-error.js';

/** How long --watch waits for a job that does not exist yet (an upload's dispatcher has not run). */
export const START_GRACE_MS = 60_000;
/** Failed reads in a row (network, throttling, 5xx) that --watch rides out before giving up. */
const MAX_MISSES = 5;
/** The rate is measured over this much recent time. */
const RATE_WINDOW_MS = 30_000;

/** URLs per second and time left, from the progress seen while watching (not since the job began). */
export class RateMeter {
  private readonly samples: Array<{ at: number; done: number }> = [];

  add(done: number, at = Date.now()): void {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - (this.samples[0]?.at ?? at) > RATE_WINDOW_MS) this.samples.shift();
  }

  /** URLs per second over the window; 0 until two samples are apart. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return Math.max(0, ((last.done - first.done) * 1000) / (last.at - first.at));
  }

  /** Seconds until `total`, or null when the rate or the total is unknown. */
  etaSeconds(done: number, total: number | null): number | null {
    const rate = this.rate();
    return total === null || rate === 0 ? null : Math.max(0, (total - done) / rate);
  }
}

/** 45s, 3m20s, 1h05m. */
export function formatEta(seconds: number | null): string {
  if (seconds === null) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const totalOf = (view: JobView) => (view.progress.totalChunks === null ? null : view.progress.accepted);

/** One progress line: `<id> running 1200/5000 URLs | 85/s | 12 errors | ETA 45s`. */
export function watchLine(view: JobView, meter: RateMeter): string {
  const { urlsDone, urlsFailed, accepted } = view.progress;
  const total = totalOf(view);
  const of = total === null ? `${accepted}+` : String(total);
  const eta = formatEta(meter.etaSeconds(urlsDone, total));
  return `${view.jobId} ${view.status} ${urlsDone}/${of} URLs | ${Math.round(meter.rate())}/s | ${urlsFailed} errors | ETA ${eta}`;
}

/** Where --watch shows progress: a bar on a terminal, a line per change elsewhere, or nothing. */
export type WatchDisplay = 'bar' | 'lines' | 'none';

interface Display {
  show(view: JobView, meter: RateMeter): void;
  stop(): void;
}

function barDisplay(): Display {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      // Not {eta}: cli-progress fills that token itself, from its own count of the bar's updates.
      format: '{bar} {value}/{total}{more} URLs | {rate}/s | {failed} errors | ETA {left}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { more: '+', rate: 0, failed: 0, left: '?' });
  return {
    show: (view, meter) => {
      const total = totalOf(view);
      bar.setTotal(Math.max(total ?? view.progress.accepted, 1));
      bar.update(view.progress.urlsDone, {
        more: total === null ? '+' : '',
        rate: Math.round(meter.rate()),
        failed: view.progress.urlsFailed,
        left: formatEta(meter.etaSeconds(view.progress.urlsDone, total)),
      });
    },
    stop: () => bar.stop(),
  };
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
