import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import type { LocalProgress } from '../local/run-local.js';

/** cli-progress, loaded only when there is a terminal to draw on (a few ms of start-up otherwise). */
const loadCliProgress = () => createRequire(import.meta.url)('cli-progress') as typeof cliProgress;

/** A live progress line on stderr (done/total, rate, errors, ETA); silent unless stderr is a terminal. */
export class ProgressLine {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly startedAt = Date.now();

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    const bars = stream.isTTY ? loadCliProgress() : null;
    this.bar = bars
      ? new bars.SingleBar(
          {
            stream,
            format: '{bar} {value}/{total}{more} URLs | {rate}/s | {failed} errors | ETA {eta_formatted}',
            barsize: 24,
            hideCursor: true,
            clearOnComplete: true,
            fps: 5,
            etaBuffer: 50,
          },
          bars.Presets.shades_classic,
        )
      : null;
    this.bar?.start(0, 0, { more: '+', rate: 0, failed: 0 });
  }

  update(p: LocalProgress): void {
    if (!this.bar) return;
    const seconds = Math.max(0.001, (Date.now() - this.startedAt) / 1000);
    this.bar.setTotal(Math.max(p.accepted, 1));
    this.bar.update(p.done, {
      more: p.dispatchDone ? '' : '+',
      rate: Math.round(p.done / seconds),
      failed: p.failed,
    });
  }

  stop(): void {
    this.bar?.stop();
  }
}
