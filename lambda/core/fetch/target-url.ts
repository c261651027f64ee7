import { FetchError } from '../errors.js';

/**
 * A URL fanout may request: an item's URL (`INVALID_URL` when it is not one) or a
 * redirect's Location resolved against the hop it came from (`BAD_REDIRECT`).
 */
export function parseTarget(text: string, code: 'INVALID_URL' | 'BAD_REDIRECT', base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new FetchError(code, `not a valid URL: ${text.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError(code, `scheme ${url.protocol} is not allowed (http and https only)`);
  }
  return url;
}
