import { truncate } from './html.js';

/** Per-host counters, as kept while records stream in. */
export interface HostStats {
  host: string;
  records: number;
  failures: number;
  /** Sum of time per URL (ms). */
  totalMs: number;
  maxMs: number;
  /** Error code → records of this host that ended with it (at most the ~20 codes). */
  errors: Record<string, number>;
}

/** A host as the report shows it. */
export interface HostRow {
  host: string;
  records: number;
  failures: number;
  meanMs: number;
  maxMs: number;
  /** The error code this host failed with most often; null when it never failed. */
  topError: string | null;
}

/** Records on hosts that were dropped from the table. */
export interface OtherHosts {
  records: number;
  failures: number;
  /** How many host entries were dropped (a host dropped twice counts twice). */
  dropped: number;
}

/** Host names longer than this are cut (DNS names stop at 253). */
const HOST_CHARS = 255;

/** Hosts by URL prefix (scheme and authority); cleared when full, so it stays small. */
const hostsByPrefix = new Map<string, string>();
const MAX_CACHED_PREFIXES = 10_000;

/**
 * The host a record belongs to, as the URL parser normalises it. A host depends on the
 * URL's scheme and authority alone, so it is looked up by that prefix: a list's URLs
 * share few hosts, and the parser then runs once per host rather than once per URL.
 */
export function hostOf(url: string): string {
  const prefix = authorityPrefix(url);
  const cached = prefix === null ? undefined : hostsByPrefix.get(prefix);
  if (cached !== undefined) return cached;
  const parsed = URL.parse(url)?.host;
  const host = parsed ? truncate(parsed, HOST_CHARS) : '(not a URL)';
  if (prefix !== null) {
    if (hostsByPrefix.size >= MAX_CACHED_PREFIXES) hostsByPrefix.clear();
    hostsByPrefix.set(prefix, host);
  }
  return host;
}

/** "https://user@Host:8080" of "https://user@Host:8080/a?b": up to the first / ? # or \ after "://". */
function authorityPrefix(url: string): string | null {
  const start = url.indexOf('://');
  if (start < 0) return null;
  for (let i = start + 3; i < url.length; i += 1) {
    const c = url.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x5c) return url.slice(0, i);
  }
  return url;
}

/**
 * Per-host stats in bounded memory. Up to `2 × limit` hosts are held; when that many
 * are, the table is cut back to `limit`: half of them the hosts with the most failures,
 * the rest the hosts with the most total time (so both the most-failing and the
 * slowest rankings keep their candidates). Dropped hosts' records go to `other`; a
 * dropped host that shows up again starts from zero, so after a cut its numbers are
 * lower bounds. A job with at most `2 × limit` hosts is counted exactly.
 */
export class HostTable {
  private readonly hosts = new Map<string, HostStats>();
  private readonly other: OtherHosts = { records: 0, failures: 0, dropped: 0 };

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`host limit must be an integer ≥ 2`);
  }

  /** Counts one record of `host`. */
  add(host: string, totalMs: number, errorCode: string | null): void {
    const stats = this.entry(host);
    const ms = Number.isFinite(totalMs) && totalMs > 0 ? totalMs : 0;
    stats.records += 1;
    stats.totalMs += ms;
    if (ms > stats.maxMs) stats.maxMs = ms;
    if (errorCode !== null) {
      stats.failures += 1;
      stats.errors[errorCode] = (stats.errors[errorCode] ?? 0) + 1;
    }
  }

  /**
   * Adds another table's counters for one host (a part's, in finalize). Merging the
   * tables of a job's parts in order gives the table of all its records, exactly while
   * no cut happens and within the usual lower bounds after one.
   */
  merge(other: HostStats): void {
    const stats = this.entry(other.host);
    stats.records += other.records;
    stats.failures += other.failures;
    stats.totalMs += other.totalMs;
    if (other.maxMs > stats.maxMs) stats.maxMs = other.maxMs;
    for (const [code, n] of Object.entries(other.errors)) stats.errors[code] = (stats.errors[code] ?? 0) + n;
  }

  /** Adds the records of hosts another table dropped (restoring a saved table). */
  addOther(other: OtherHosts): void {
    this.other.records += other.records;
    this.other.failures += other.failures;
    this.other.dropped += other.dropped;
  }

  /** Every host held, with its counters as they are (for a part's digest). */
  entries(): HostStats[] {
    return [...this.hosts.values()];
  }

  /** Hosts held right now. */
  get size(): number {
    return this.hosts.size;
  }

  /** Whether any host was dropped, i.e. whether per-host numbers may be lower bounds. */
  get cutOccurred(): boolean {
    return this.other.dropped > 0;
  }

  /** Records on dropped hosts. */
  otherHosts(): OtherHosts {
    return { ...this.other };
  }

  /** The hosts with the most failures (ties: higher failure rate, then name), failing hosts only. */
  mostFailing(rows: number): HostRow[] {
    return [...this.hosts.values()]
      .filter((h) => h.failures > 0)
      .sort(
        (a, b) =>
          b.failures - a.failures ||
          b.failures / b.records - a.failures / a.records ||
          a.host.localeCompare(b.host),
      )
      .slice(0, rows)
      .map(toRow);
  }

  /** The hosts with the highest mean time per URL (ties: higher max, then name). */
  slowest(rows: number): HostRow[] {
    return [...this.hosts.values()]
      .sort(
        (a, b) =>
          b.totalMs / b.records - a.totalMs / a.records || b.maxMs - a.maxMs || a.host.localeCompare(b.host),
      )
      .slice(0, rows)
      .map(toRow);
  }

  private entry(host: string): HostStats {
    let stats = this.hosts.get(host);
    if (!stats) {
      if (this.hosts.size >= 2 * this.limit) this.cut();
      stats = { host, records: 0, failures: 0, totalMs: 0, maxMs: 0, errors: {} };
      this.hosts.set(host, stats);
    }
    return stats;
  }

  private cut(): void {
    const all = [...this.hosts.values()];
    const keep = new Set<HostStats>();
    const byFailures = all.filter((h) => h.failures > 0).sort((a, b) => b.failures - a.failures);
    for (const h of byFailures.slice(0, Math.floor(this.limit / 2))) keep.add(h);
    for (const h of all.sort((a, b) => b.totalMs - a.totalMs)) {
      if (keep.size >= this.limit) break;
      keep.add(h);
    }
    for (const h of all) {
      if (keep.has(h)) continue;
      this.hosts.delete(h.host);
      this.other.records += h.records;
      this.other.failures += h.failures;
      this.other.dropped += 1;
    }
  }
}

function toRow(h: HostStats): HostRow {
  let topError: string | null = null;
  let top = 0;
  for (const [code, n] of Object.entries(h.errors)) {
    if (n > top || (n === top && topError !== null && code < topError)) [topError, top] = [code, n];
  }
  return {
    host: h.host,
    records: h.records,
    failures: h.failures,
    meanMs: h.records ? h.totalMs / h.records : 0,
    maxMs: h.maxMs,
    topError,
  };
}
