import { FETCH_ERROR_CODES } from './errors.js';
import { Histogram, type HistogramJSON } from './histogram.js';
import type { ResultRecord } from './record.js';

/** Counters over result records; merging two equals counting their union. */
export interface SummaryCounts {
  /** Result records counted (accepted URLs). */
  records: number;
  /** Records without an error (any HTTP status). */
  ok: number;
  /** Records with an error: these go to failed.jsonl. */
  failed: number;
  /**
   * Of the failed, records ended by a cancel (CANCELLED): never fetched or cut off, so
   * they add no attempts, bytes or timings. Absent in digests of older versions.
   */
  cancelled?: number;
  /** HTTP status → records whose final response had it. */
  statusCodes: Record<string, number>;
  /** Error code → records that ended with it. */
  errors: Record<string, number>;
  /** Decoded body bytes over all records. */
  bytes: number;
  /** Attempts over all records (retries included). */
  attempts: number;
  /** Records that needed more than one attempt. */
  retried: number;
  /** Redirects followed over all records. */
  redirects: number;
  /** Total time per URL (ms). */
  latency: HistogramJSON;
  /** Time to first byte of the final response (ms), where one came. */
  ttfb: HistogramJSON;
}

/** Latency percentiles as printed and stored. */
export interface Percentiles {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** How a finished job ended, as summary.json says. */
export type JobOutcome = 'succeeded' | 'completed_with_errors' | 'cancelled';

/** summary.json. */
export interface JobSummary {
  jobId: string;
  /**
   * succeeded: every URL fetched without error; completed_with_errors: some failed or were
   * invalid; cancelled: the job was cancelled (its unfinished URLs are CANCELLED).
   */
  status: JobOutcome;
  urls: {
    accepted: number;
    /** Rejected input lines (duplicates skipped by dedupe not included). */
    invalid: number;
    /** Repeated URLs skipped by dedupe; listed in invalid.jsonl.gz as DUPLICATE, not an error. */
    duplicates: number;
    ok: number;
    /** Records with an error, the cancelled included. */
    failed: number;
    /** Of the failed, URLs recorded as CANCELLED. */
    cancelled: number;
  };
  chunks: number;
  statusCodes: Record<string, number>;
  statusClasses: Record<string, number>;
  errors: Record<string, number>;
  bytes: number;
  attempts: number;
  retried: number;
  redirects: number;
  latencyMs: Percentiles;
  ttfbMs: Percentiles;
  /** When the job was first submitted. */
  startedAt: string;
  finishedAt: string;
  /** The time the job ran: the sum of its runs (a re-run adds its own, not the gap before it). */
  wallMs: number;
  /** Throughput over the wall time. */
  urlsPerSecond: number;
  histograms: { latencyMs: HistogramJSON; ttfbMs: HistogramJSON };
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Accumulates records (or other accumulators) into SummaryCounts. */
export class SummaryAccumulator {
  private records = 0;
  private ok = 0;
  private failed = 0;
  private cancelled = 0;
  private readonly statusCodes: Record<string, number> = {};
  private readonly errors: Record<string, number> = {};
  private bytes = 0;
  private attempts = 0;
  private retried = 0;
  private redirects = 0;
  private readonly latency = new Histogram();
  private readonly ttfb = new Histogram();

  /** Counts one result record; a cancelled one counts as a record and an error, and adds nothing else. */
  add(record: ResultRecord): void {
    this.records += 1;
    if (record.error === null) this.ok += 1;
    else {
      this.failed += 1;
      bump(this.errors, record.error.code);
      if (record.error.code === FETCH_ERROR_CODES.CANCELLED) {
        this.cancelled += 1;
        return;
      }
    }
    if (record.status !== null) bump(this.statusCodes, String(record.status));
    this.bytes += record.bytes;
    this.attempts += record.attempts;
    if (record.attempts > 1) this.retried += 1;
    this.redirects += record.redirects;
    this.latency.record(record.timings.totalMs);
    if (record.timings.ttfbMs !== null) this.ttfb.record(record.timings.ttfbMs);
  }

  /** Adds another accumulator's counts (or their serialised form) to this one. */
  merge(other: SummaryAccumulator | SummaryCounts): this {
    const counts = other instanceof SummaryAccumulator ? other.toJSON() : other;
    this.records += counts.records;
    this.ok += counts.ok;
    this.failed += counts.failed;
    this.cancelled += counts.cancelled ?? 0;
    for (const [k, n] of Object.entries(counts.statusCodes)) bump(this.statusCodes, k, n);
    for (const [k, n] of Object.entries(counts.errors)) bump(this.errors, k, n);
    this.bytes += counts.bytes;
    this.attempts += counts.attempts;
    this.retried += counts.retried;
    this.redirects += counts.redirects;
    this.latency.merge(Histogram.fromJSON(counts.latency));
    this.ttfb.merge(Histogram.fromJSON(counts.ttfb));
    return this;
  }

  get recordCount(): number {
    return this.records;
  }

  get failedCount(): number {
    return this.failed;
  }

  toJSON(): SummaryCounts {
    return {
      records: this.records,
      ok: this.ok,
      failed: this.failed,
      cancelled: this.cancelled,
      statusCodes: sortedKeys(this.statusCodes),
      errors: sortedKeys(this.errors),
      bytes: this.bytes,
      attempts: this.attempts,
      retried: this.retried,
      redirects: this.redirects,
      latency: this.latency.toJSON(),
      ttfb: this.ttfb.toJSON(),
    };
  }

  /** The final summary.json of a job. */
  toSummary(job: {
    jobId: string;
    /** Rejected input lines, duplicates not included. */
    invalid: number;
    /** Duplicates skipped by dedupe. @default 0 */
    duplicates?: number;
    chunks: number;
    /** When the job was first submitted. */
    startedAt: Date;
    finishedAt: Date;
    /** The time the job ran. @default finishedAt - startedAt */
    wallMs?: number;
    /** The job was cancelled. @default false */
    cancelled?: boolean;
  }): JobSummary {
    const wallMs = Math.max(0, job.wallMs ?? job.finishedAt.getTime() - job.startedAt.getTime());
    const statusClasses: Record<string, number> = {};
    for (const [code, n] of Object.entries(this.statusCodes)) bump(statusClasses, `${code[0]}xx`, n);
    const clean = this.failed === 0 && job.invalid === 0;
    return {
      jobId: job.jobId,
      status: job.cancelled ? 'cancelled' : clean ? 'succeeded' : 'completed_with_errors',
      urls: {
        accepted: this.records,
        invalid: job.invalid,
        duplicates: job.duplicates ?? 0,
        ok: this.ok,
        failed: this.failed,
        cancelled: this.cancelled,
      },
      chunks: job.chunks,
      statusCodes: sortedKeys(this.statusCodes),
      statusClasses: sortedKeys(statusClasses),
      errors: sortedKeys(this.errors),
      bytes: this.bytes,
      attempts: this.attempts,
      retried: this.retried,
      redirects: this.redirects,
      latencyMs: percentiles(this.latency),
      ttfbMs: percentiles(this.ttfb),
      startedAt: job.startedAt.toISOString(),
      finishedAt: job.finishedAt.toISOString(),
      wallMs,
      urlsPerSecond: wallMs > 0 ? Math.round((this.records / wallMs) * 1000 * 10) / 10 : 0,
      histograms: { latencyMs: this.latency.toJSON(), ttfbMs: this.ttfb.toJSON() },
    };
  }
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}

function percentiles(h: Histogram): Percentiles {
  return {
    count: h.count,
    mean: round(h.mean()),
    p50: round(h.quantile(0.5)),
    p90: round(h.quantile(0.9)),
    p95: round(h.quantile(0.95)),
    p99: round(h.quantile(0.99)),
    max: round(h.count ? h.max : null),
  };
}

function sortedKeys(map: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
}
