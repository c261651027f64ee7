import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../../core/fetch/retry-policy.js';

/** Waits the full-jitter backoff for the given (1-based) attempt. */
export async function backoff(attempt: number, baseMs: number, maxMs: number): Promise<void> {
  await sleep(backoffDelay(attempt, baseMs, maxMs));
}

/** The SDK's error name and HTTP status, from whatever was thrown. */
export function awsErrorOf(err: unknown): { name: string; status: number | undefined } {
  const e = err as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof e?.Code === 'string' ? e.Code : '';
  return { name, status: e?.$metadata?.httpStatusCode };
}
