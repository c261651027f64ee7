import { type FailedLine, type ResultRecord, toFailedLine } from '../record.js';
import { ReportBuilder, type ReportPart } from '../report/report-builder.js';
import { SummaryAccumulator, type SummaryCounts } from '../summary.js';

/**
 * What finalize needs from one part, computed by the worker that wrote it while its
 * records are still in memory: the summary counters, the report's share and the failed
 * lines. Finalize merges digests in chunk order instead of decoding every record again,
 * so its work grows with the number of chunks, not of URLs.
 */
export interface PartDigest {
  /** Format version; a reader that does not know it reads the records instead. */
  v: 1;
  summary: SummaryCounts;
  report: ReportPart;
  /** failed.jsonl lines of the part's failed records, in record order. */
  failed: FailedLine[];
}

/** The digest of a part's records. */
export function digestOf(records: readonly ResultRecord[]): PartDigest {
  const summary = new SummaryAccumulator();
  const report = ReportBuilder.forPart(records.length);
  const failed: FailedLine[] = [];
  for (const record of records) {
    summary.add(record);
    report.add(record);
    const line = toFailedLine(record);
    if (line) failed.push(line);
  }
  return { v: 1, summary: summary.toJSON(), report: report.toPart(), failed };
}

/** Whether `value` looks like a digest this version wrote (anything else is read as records). */
export function isPartDigest(value: unknown): value is PartDigest {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Partial<PartDigest>;
  return (
    d.v === 1 &&
    typeof d.summary?.records === 'number' &&
    Array.isArray(d.report?.hosts) &&
    Array.isArray(d.report?.firstFailures) &&
    Array.isArray(d.failed)
  );
}
