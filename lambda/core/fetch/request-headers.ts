/**
 * The headers of one URL's requests: fanout's own (User-Agent, Accept-Encoding, Accept), then
 * the job's `headers`, then the input line's, each later one replacing an earlier one of the
 * same name (any case). References are read once per URL (header-values.ts). Once a redirect
 * leaves the URL's origin (scheme, host and port), the sensitive headers are no longer sent,
 * as curl and browsers do.
 */
import { isSensitive } from '../headers/header-rules.js';
import { type ReadReference, resolveHeaders } from '../headers/header-values.js';

/** The headers of one URL: for its own origin, and for any other a redirect leads to. */
export interface UrlHeaders {
  sameOrigin: Record<string, string>;
  crossOrigin: Record<string, string>;
}

/** Builds each URL's request headers over fanout's own. */
export class RequestHeaders {
  private readonly plain: UrlHeaders;

  constructor(
    private readonly base: Readonly<Record<string, string>>,
    private readonly job: Readonly<Record<string, string>>,
    private readonly sensitive: readonly string[],
    private readonly read: ReadReference,
  ) {
    this.plain = { sameOrigin: { ...base }, crossOrigin: { ...base } };
  }

  /** The headers of a URL whose input line set `own` (a promise only while a secret is read). */
  forUrl(own: Readonly<Record<string, string>> | undefined): UrlHeaders | Promise<UrlHeaders> {
    const given = merge(this.job, own ?? {});
    if (Object.keys(given).length === 0) return this.plain;
    const values = resolveHeaders(given, this.read);
    return values instanceof Promise ? values.then((v) => this.split(v)) : this.split(values);
  }

  private split(values: Record<string, string>): UrlHeaders {
    const sameOrigin = merge(this.base, values);
    const crossOrigin = Object.fromEntries(
      Object.entries(sameOrigin).filter(([name]) => !isSensitive(name, this.sensitive)),
    );
    return { sameOrigin, crossOrigin };
  }
}

/** `over` laid on `under`: a name in both (any case) keeps `over`'s spelling and value. */
function merge(
  under: Readonly<Record<string, string>>,
  over: Readonly<Record<string, string>>,
): Record<string, string> {
  const replaced = new Set(Object.keys(over).map((name) => name.toLowerCase()));
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(under))
    if (!replaced.has(name.toLowerCase())) merged[name] = value;
  return Object.assign(merged, over);
}
