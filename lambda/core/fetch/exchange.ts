import type { Dispatcher } from 'undici';
import type { BodyFlow, BodyOutcome, BodyReader } from './body-reader.js';
import type { Release } from './limiter.js';
import type { UrlRun } from './url-run.js';

/** A body drained only to reuse the socket: past this, closing the socket is cheaper. */
const DISCARD_LIMIT = 64 * 1024;

const DISCARD_LIMIT_REACHED = new Error('discarded body too large; the socket is closed instead');

/**
 * What to do with a response, decided from its status and headers alone: read the body
 * (a BodyReader), or 'discard' it (a redirect or a response to retry). Throwing fails
 * the exchange with that error (BODY_TOO_LARGE from a declared length, DECODE).
 */
export type ResponsePlanner = (
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  flow: BodyFlow,
) => BodyReader | 'discard';

/**
 * Sees an exchange's response as it came (body mode 'warc'): the status line and raw headers,
 * the payload bytes (content coding kept, transfer coding removed), and the end: `err` when the
 * exchange failed. `end` is called once, also when no response came.
 */
export interface ExchangeTap {
  response(statusCode: number, statusText: string, rawHeaders: readonly (Buffer | string)[]): void;
  data(chunk: Buffer): void;
  end(err: Error | null): void;
}

/** Requests a run gave up on while they were still queued or connecting, per engine. */
export interface AbandonedTally {
  abandoned: number;
}

type State = 'requesting' | 'reading' | 'discarding' | 'failing';

/**
 * One HTTP request and its response, on undici's dispatch API: the body's bytes go
 * straight from the parser into the body reader, with no stream and no promise per
 * chunk. `result` settles once: with the body outcome (null for a discarded body), or
 * with the error. `responded` tells the engine whether the error came before the
 * response (retryable) or while reading its body (final).
 *
 * The limiter slot is given back when undici is done with the request, not earlier:
 * a request the run abandoned while it was still connecting keeps its slot until the
 * connection attempt ends, so the caps count every socket.
 */
export class Exchange implements Dispatcher.DispatchHandler, BodyFlow {
  readonly result: Promise<BodyOutcome | null>;
  responded = false;
  private state: State = 'requesting';
  private controller: Dispatcher.DispatchController | null = null;
  private reader: BodyReader | null = null;
  private failure: Error | null = null;
  private discarded = 0;
  private settled = false;
  /** undici finished with the request (its last callback ran). */
  private finished = false;
  private abandoned = false;
  private resolve!: (outcome: BodyOutcome | null) => void;
  private reject!: (err: unknown) => void;

  /** Throws, before any request is made, when the run is already stopped. */
  constructor(
    private readonly run: UrlRun,
    private readonly release: Release,
    private readonly plan: ResponsePlanner,
    private readonly tally: AbandonedTally,
    private readonly tap?: ExchangeTap,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    run.waitOn((reason) => this.abort(reason));
  }

  /** Stops the exchange (the run's deadline or cancellation): the result fails with `reason`. */
  abort(reason: Error): void {
    if (this.settled) return;
    this.failure ??= reason;
    if (this.controller && !this.finished) {
      this.controller.abort(reason);
      return;
    }
    // Still queued or connecting (undici aborts it once it starts), or the body is
    // complete and only its decoders are still busy.
    if (!this.finished && !this.abandoned) {
      this.abandoned = true;
      this.tally.abandoned += 1;
    }
    this.reader?.destroy();
    this.fail(reason);
  }

  /** The flow control the body reader uses. */
  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.failure) {
      controller.abort(this.failure);
      return;
    }
    this.controller = controller;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusText?: string,
  ): void {
    if (statusCode < 200 || this.state !== 'requesting') return;
    this.responded = true;
    const raw = (controller as { rawHeaders?: readonly (Buffer | string)[] }).rawHeaders;
    this.tap?.response(statusCode, statusText ?? '', raw ?? []);
    try {
      const plan = this.plan(statusCode, headers, this);
      if (plan === 'discard') this.state = 'discarding';
      else {
        this.reader = plan;
        this.state = 'reading';
      }
    } catch (err) {
      this.state = 'failing';
      this.failure = err as Error;
      controller.abort(err as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.tap?.data(chunk);
    if (this.state === 'reading') {
      try {
        (this.reader as BodyReader).write(chunk);
      } catch (err) {
        this.state = 'failing';
        this.failure ??= err as Error;
        controller.abort(err as Error);
      }
    } else if (this.state === 'discarding') {
      this.discarded += chunk.length;
      if (this.discarded > DISCARD_LIMIT) controller.abort(DISCARD_LIMIT_REACHED);
    }
  }

  onResponseEnd(): void {
    this.finish();
    this.tap?.end(null);
    if (this.state === 'reading') {
      (this.reader as BodyReader).end((err, outcome) => {
        if (err) this.fail(err);
        else this.succeed(outcome as BodyOutcome);
      });
    } else this.succeed(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.finish();
    this.tap?.end(this.failure ?? err);
    this.reader?.destroy();
    // A body drained for reuse may end any way at all: the socket is gone, nothing more.
    if (this.state === 'discarding') this.succeed(null);
    else this.fail(this.failure ?? err);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.abandoned) this.tally.abandoned -= 1;
    this.release();
  }

  private succeed(outcome: BodyOutcome | null): void {
    if (this.settled) return;
    this.settled = true;
    this.run.done();
    this.resolve(outcome);
  }

  private fail(err: unknown): void {
    this.tap?.end(err as Error);
    if (this.settled) return;
    this.settled = true;
    this.run.done();
    this.reject(err);
  }
}
