/**
 * Pure redirect decisions: which responses are followed, and where to. Redirects are
 * followed by hand, one hop at a time, so every hop is a new request whose address the
 * policy checks again (undici's redirect handler would follow them inside one dispatch).
 */
import { FetchError } from '../errors.js';
import { parseTarget } from './target-url.js';

/** Statuses followed when the response has a Location. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The Location to follow, or null when the response is not a redirect to follow. */
export function redirectLocation(status: number, location: string | null): string | null {
  return location !== null && REDIRECT_STATUSES.has(status) ? location : null;
}

/**
 * The next hop after `redirects` hops: `location` resolved against `from`. Throws
 * TOO_MANY_REDIRECTS once `maxRedirects` were followed, BAD_REDIRECT when the Location
 * is not an http(s) URL.
 */
export function nextHop(location: string, from: URL, redirects: number, maxRedirects: number): URL {
  if (redirects >= maxRedirects) {
    throw new FetchError('TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects`);
  }
  return parseTarget(location, 'BAD_REDIRECT', from);
}
