/** Pure retry decisions: which responses to retry, how long to wait. */

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
