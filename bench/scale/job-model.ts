// The modelled 10^8-URL job: a fluid model, second by second, of the dispatcher feeding the
// queue and the SQS event source's workers draining it, from what the stages measured.
import { AWS_LIMITS } from './aws-figures.js';

export interface JobModelInput {
  urls: number;
  chunkSize: number;
  /** The event source's maximum concurrency. */
  maxConcurrency: number;
  /** Seconds one worker takes per chunk at a given number of workers (contention included). */
  chunkSecondsAt: (workers: number) => number;
  /** Dispatcher seconds per line sent (modelled: requests and CPU on its vCPU share). */
  dispatchSecondsPerLine: number;
  /** Dispatcher seconds per line skipped on a resume that re-reads the list (0: resumes by offset). */
  rereadSecondsPerLine: number;
  /** A dispatcher invocation works this long before it hands over (timeout less margin). */
  dispatchRunSeconds: number;
  /** Finalize's modelled seconds for this job's parts. */
  finalizeSeconds: number;
}

export interface JobModelResult {
  wallSeconds: number;
  dispatchSeconds: number;
  dispatchRuns: number;
  /** When the event source reached its maximum concurrency (s), null if it never did. */
  fullConcurrencyAt: number | null;
  peakCompletionsPerSecond: number;
  finalizeSeconds: number;
}

/** Runs the fluid model in steps of one second. */
export function modelJob(input: JobModelInput): JobModelResult {
  const chunks = Math.ceil(input.urls / input.chunkSize);
  const linesPerChunk = input.chunkSize;
  let t = 0;
  let sentLines = 0;
  let sentChunks = 0;
  let doneChunks = 0;
  let dispatchSeconds: number | null = null;
  let runs = 1;
  let runLeft = input.dispatchRunSeconds;
  let skipLeft = 0;
  let sourceStarted: number | null = null;
  let fullAt: number | null = null;
  let peak = 0;
  while (doneChunks < chunks) {
    t += 1;
    // The dispatcher: this second's budget re-reads what a resumed run skips, then sends.
    let budget = 1;
    while (budget > 0 && sentLines < input.urls) {
      if (runLeft <= 0) {
        runs += 1;
        runLeft = input.dispatchRunSeconds;
        skipLeft = sentLines * input.rereadSecondsPerLine;
      }
      const use = Math.min(budget, runLeft);
      const skipping = Math.min(use, skipLeft);
      skipLeft -= skipping;
      const sending = use - skipping;
      sentLines = Math.min(input.urls, sentLines + sending / input.dispatchSecondsPerLine);
      budget -= use;
      runLeft -= use;
    }
    if (sentLines >= input.urls && dispatchSeconds === null) dispatchSeconds = t;
    sentChunks = Math.min(chunks, Math.floor(sentLines / linesPerChunk));
    if (sentChunks > 0 && sourceStarted === null) sourceStarted = t;
    // The event source: five batches at first, 300 more a minute, up to its maximum (and
    // the account's concurrency, which maxConcurrency stands for).
    const since = sourceStarted === null ? 0 : t - sourceStarted;
    const ramp = AWS_LIMITS.sqsEventSourceInitial + (AWS_LIMITS.sqsEventSourceRampPerMinute * since) / 60;
    // Lambda's own scaling (1,000 environments every 10 s per function) never binds before it.
    const functionRamp = (AWS_LIMITS.lambdaScalePer10Seconds * (since + 1)) / 10;
    const cap = Math.min(input.maxConcurrency, AWS_LIMITS.sqsEventSourceMaxConcurrency);
    const workers = Math.min(cap, ramp, functionRamp);
    if (workers >= cap && fullAt === null) fullAt = t;
    const rate = workers / input.chunkSecondsAt(workers);
    const completed = Math.min(rate, sentChunks - doneChunks);
    peak = Math.max(peak, completed);
    doneChunks += completed;
    if (t > 30 * 86_400) break;
  }
  return {
    wallSeconds: t + input.finalizeSeconds,
    dispatchSeconds: dispatchSeconds ?? t,
    dispatchRuns: runs,
    fullConcurrencyAt: fullAt,
    peakCompletionsPerSecond: peak,
    finalizeSeconds: input.finalizeSeconds,
  };
}

/**
 * Seconds per chunk at `workers`, interpolated in log(workers) between measured points
 * (held flat outside them).
 */
export function interpolateChunkSeconds(points: ReadonlyArray<{ workers: number; chunkSeconds: number }>) {
  const sorted = [...points].sort((a, b) => a.workers - b.workers);
  return (workers: number): number => {
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    if (!first || !last) throw new Error('no measured points');
    if (workers <= first.workers) return first.chunkSeconds;
    if (workers >= last.workers) return last.chunkSeconds;
    for (let i = 1; i < sorted.length; i += 1) {
      const a = sorted[i - 1] as (typeof sorted)[number];
      const b = sorted[i] as (typeof sorted)[number];
      if (workers <= b.workers) {
        const f = Math.log(workers / a.workers) / Math.log(b.workers / a.workers);
        return a.chunkSeconds + f * (b.chunkSeconds - a.chunkSeconds);
      }
    }
    return last.chunkSeconds;
  };
}
