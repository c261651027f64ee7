import { setTimeout as sleep } from 'node:timers/promises';

/** Exponential backoff with full jitter: a random wait in [0, min(maxMs, baseMs * 2^(attempt-1))). */
export function fullJitterMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Waits the full-jitter backoff for the given (1-based) attempt. */
export async function backoff(attempt: number, baseMs: number, maxMs: number): Promise<void> {
  await sleep(fullJitterMs(attempt, baseMs, maxMs));
}

/** The SDK's error name and HTTP status, from whatever was thrown. */
export function awsErrorOf(err: unknown): { name: string; status: number | undefined } {
  const e = err as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof e?.Code === 'string' ? e.Code : '';
  return { name, status: e?.$metadata?.httpStatusCode };
}
