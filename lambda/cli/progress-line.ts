import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import type { LocalProgress } from '../local/run-local.js';

/** cli-progress, loaded only when there is a terminal to draw on (a few ms of start-up otherwise). */
const loadCliProgress = () => createRequire(import.meta.url)('cli-progress') as typeof cliProgress;

/** The rate is measured over this much recent time. */
const RATE_WINDOW_MS = 30_000;
/** Samples closer together than this are not kept: progress may move once per URL. */
const SAMPLE_EVERY_MS = 200;
const BAR_SIZE = 24;

/** URLs per second and time left, from the progress seen lately (not since the job began). */
export class RateMeter {
  private readonly samples: Array<{ at: number; done: number }> = [];

  add(done: number, at = Date.now()): void {
    // Samples stay SAMPLE_EVERY_MS apart: the newest is replaced until it is that far from the one before.
    const before = this.samples[this.samples.length - 2];
    if (before && at - before.at < SAMPLE_EVERY_MS) this.samples[this.samples.length - 1] = { at, done };
    else this.samples.push({ at, done });
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
    if (total === null) return null;
    if (done >= total) return 0;
    return rate === 0 ? null : (total - done) / rate;
  }
}

/** 45s, 3m20s, 1h05m; "?" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * `1200/5000 URLs | 85/s | 12 errors | ETA 45s`. While the list is still being read the
 * total has a `+` (`1200/3000+`), or is `?` before the first URL is accepted, and the ETA
 * is `?`: a total that is still growing gives no time left.
 */
export function progressLineText(p: LocalProgress, meter: RateMeter): string {
  const total = p.dispatchDone ? p.accepted : null;
  const of = total !== null ? String(total) : p.accepted > 0 ? `${p.accepted}+` : '?';
  const errors = `${p.failed} ${p.failed === 1 ? 'error' : 'errors'}`;
  const eta = formatEta(meter.etaSeconds(p.done, total));
  return `${p.done}/${of} URLs | ${Math.round(meter.rate())}/s | ${errors} | ETA ${eta}`;
}

/** The bar: the share of the URLs accepted so far that are done (empty before any is accepted). */
function bar(p: LocalProgress): string {
  const share = p.accepted > 0 ? Math.min(1, p.done / p.accepted) : 0;
  const filled = Math.round(share * BAR_SIZE);
  return '\u2588'.repeat(filled) + '\u2591'.repeat(BAR_SIZE - filled);
}

/**
 * A live progress line on stderr: bar, done/total, rate, errors and ETA; silent unless
 * the stream is a terminal. `update` may be called once per URL: it only keeps the
 * numbers, and cli-progress draws them at most 5 times a second.
 */
export class ProgressLine {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly meter = new RateMeter();
  private latest: LocalProgress = { accepted: 0, dispatchDone: false, done: 0, failed: 0 };

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    const bars = stream.isTTY ? loadCliProgress() : null;
    this.bar = bars
      ? new bars.SingleBar({
          stream,
          // The whole line is ours: cli-progress's own value, total and ETA tokens are not used.
          format: () => `${bar(this.latest)} ${progressLineText(this.latest, this.meter)}`,
          hideCursor: true,
          clearOnComplete: true,
          fps: 5,
        })
      : null;
    this.bar?.start(1, 0);
  }

  update(p: LocalProgress): void {
    if (!this.bar) return;
    this.latest = p;
    this.meter.add(p.done);
  }

  stop(): void {
    this.bar?.stop();
  }
}
