/** Limiter helpers for tests, made of the calls the engine makes. */
import type { ConcurrencyLimiter, Release } from '../../../lambda/core/fetch/limiter.js';

/**
 * A slot for `host` as the engine takes one: at once when both caps have room
 * (tryAcquire), else by waiting in the queues (wait); `signal` gives up the wait.
 */
export function acquire(limiter: ConcurrencyLimiter, host: string, signal?: AbortSignal): Promise<Release> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const release = limiter.tryAcquire(host);
  if (release) return Promise.resolve(release);
  const wait = limiter.wait(host);
  signal?.addEventListener('abort', () => wait.cancel(signal.reason), { once: true });
  return wait.granted;
}
