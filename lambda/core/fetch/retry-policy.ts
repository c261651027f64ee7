/** Pure retry decisions: which failures and responses to retry, how long to wait. */

/** 408, 429 and every 5xx are worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(retry-1))]. */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP-date; null when absent or unparseable. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** What to do before the next attempt. */
export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'exhausted' | 'deadline' | 'retry-after-too-long' };

/** Decides whether attempt number `attempt` (1-based, just failed) gets a successor, and after how long. */
export function decideRetry(input: {
  attempt: number;
  retries: number;
  retryAfterMs: number | null;
  maxRetryAfterMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  remainingMs: number;
  random?: () => number;
}): RetryDecision {
  if (input.attempt > input.retries) return { retry: false, reason: 'exhausted' };
  let delayMs: number;
  if (input.retryAfterMs !== null) {
    if (input.retryAfterMs > input.maxRetryAfterMs) return { retry: false, reason: 'retry-after-too-long' };
    delayMs = input.retryAfterMs;
  } else {
    delayMs = backoffDelay(input.attempt, input.backoffBaseMs, input.backoffMaxMs, input.random);
  }
  if (delayMs >= input.remainingMs) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs };
}

/** The job options a retry decision reads (see defaults.ts). */
export interface RetrySettings {
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  /** Jitter source, for tests. @default Math.random */
  random?: (() => number) | undefined;
}

/** What a response's status asks for: another attempt after `delayMs`, or a final HTTP_STATUS failure. */
export type StatusDecision = { retry: true; delayMs: number } | { retry: false; failure: string };

/** A job's retry rules: whether a failed attempt or a retryable status gets another attempt. */
export class RetryPolicy {
  constructor(private readonly settings: RetrySettings) {}

  /** After attempt number `attempt` failed with a retryable error, with `remainingMs` of the URL's budget left. */
  afterFailure(attempt: number, remainingMs: number): RetryDecision {
    return this.decide(attempt, null, remainingMs);
  }

  /**
   * After attempt number `attempt` got a retryable `status` (isRetryableStatus): the
   * retry, or the record's HTTP_STATUS message.
   */
  afterStatus(
    status: number,
    attempt: number,
    retryAfter: string | string[] | undefined,
    remainingMs: number,
  ): StatusDecision {
    const decision = this.decide(attempt, parseRetryAfter(retryAfter), remainingMs);
    if (decision.retry) return decision;
    return { retry: false, failure: statusFailure(status, attempt, decision.reason) };
  }

  private decide(attempt: number, retryAfterMs: number | null, remainingMs: number): RetryDecision {
    const s = this.settings;
    return decideRetry({
      attempt,
      retries: s.retries,
      retryAfterMs,
      maxRetryAfterMs: s.maxRetryAfterMs,
      backoffBaseMs: s.backoffBaseMs,
      backoffMaxMs: s.backoffMaxMs,
      remainingMs,
      random: s.random,
    });
  }
}

/** The HTTP_STATUS message of a retryable status that gets no more attempts. */
export function statusFailure(
  status: number,
  attempts: number,
  reason: Extract<RetryDecision, { retry: false }>['reason'],
): string {
  const why = {
    exhausted: `after ${attempts} attempts`,
    deadline: 'and no time left for another attempt',
    'retry-after-too-long': 'with a Retry-After longer than allowed',
  }[reason];
  return `HTTP ${status} ${why}`;
}
