import { setTimeout as sleep } from 'node:timers/promises';
import { StandardRetryStrategy } from '@smithy/core/retry';
import { backoffDelay } from '../../core/fetch/retry-policy.js';

type RetryToken = Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>[0];
type RetryErrorInfo = Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>[1];
type RetryErrorType = RetryErrorInfo['errorType'];

/** Waits the full-jitter backoff for the given (1-based) attempt. */
export async function backoff(attempt: number, baseMs: number, maxMs: number): Promise<void> {
  await sleep(backoffDelay(attempt, baseMs, maxMs));
}

/**
 * The HTTP status an SDK error came with: its `$metadata`, else the raw `$response` (an answer
 * whose body could not be parsed, such as an HTML error page, carries only that).
 */
function statusOf(err: unknown): number | undefined {
  const e = err as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } } | null;
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

/** The SDK's error name and HTTP status, from whatever was thrown. */
export function awsErrorOf(err: unknown): { name: string; status: number | undefined } {
  const e = err as { name?: unknown; Code?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof e?.Code === 'string' ? e.Code : '';
  return { name, status: statusOf(err) };
}

/**
 * How the SDK's retry strategy should take a failed attempt. The SDK's own classification
 * stands, except that any answer of 429 or 5xx (but 501, Not Implemented) is throttling or
 * transient even when its name says nothing: an endpoint that answers an HTML error page
 * (moto_server under concurrent transactions, a proxy) gives the SDK a body it cannot parse,
 * and the error is then named after the parser's (SyntaxError, Unknown).
 */
export function retryErrorType(info: { error?: unknown; errorType: RetryErrorType }): RetryErrorType {
  if (info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT') return info.errorType;
  const status = statusOf(info.error);
  if (status === 429) return 'THROTTLING';
  if (status !== undefined && status >= 500 && status <= 599 && status !== 501) return 'TRANSIENT';
  return info.errorType;
}

/**
 * Whether an AWS call failed for a reason that passes (throttling, a 5xx), after the SDK's
 * retry strategy gave up on it: the work may be tried again at once.
 */
export function isTransientAwsError(err: unknown): boolean {
  return retryErrorType({ error: err, errorType: 'CLIENT_ERROR' }) !== 'CLIENT_ERROR';
}

/**
 * The SDK's standard retry strategy (its backoff, attempt limit and retry quota), with failed
 * attempts classified by {@link retryErrorType}.
 */
export class FanoutRetryStrategy extends StandardRetryStrategy {
  override refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    return super.refreshRetryTokenForRetry(token, { ...errorInfo, errorType: retryErrorType(errorInfo) });
  }
}
