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

/** The host a record belongs to, as the URL parser normalises it. */
export function hostOf(url: string): string {
  const host = URL.parse(url)?.host;
  return host ? truncate(host, HOST_CHARS) : '(not a URL)';
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
    let stats = this.hosts.get(host);
    if (!stats) {
      if (this.hosts.size >= 2 * this.limit) this.cut();
      stats = { host, records: 0, failures: 0, totalMs: 0, maxMs: 0, errors: {} };
      this.hosts.set(host, stats);
    }
    const ms = Number.isFinite(totalMs) && totalMs > 0 ? totalMs : 0;
    stats.records += 1;
    stats.totalMs += ms;
    if (ms > stats.maxMs) stats.maxMs = ms;
    if (errorCode !== null) {
      stats.failures += 1;
      stats.errors[errorCode] = (stats.errors[errorCode] ?? 0) + 1;
    }
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
