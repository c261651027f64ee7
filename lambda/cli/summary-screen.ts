import { bytes, count as n } from '../core/report/format.js';
import type { JobSummary } from '../core/summary.js';

function histogramLine(counts: Record<string, number>, limit = 8): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, limit).map(([key, count]) => `${key}: ${n(count)}`);
  if (entries.length > limit) shown.push(`… ${entries.length - limit} more`);
  return shown.length ? shown.join(' · ') : '—';
}

const ms = (value: number | null) => (value === null ? '—' : `${n(Math.round(value))} ms`);

/** The one-screen summary printed when a job ends. */
export function renderSummary(summary: JobSummary, outputDir: string): string {
  const { urls, latencyMs } = summary;
  return [
    `fanout job ${summary.jobId}: ${summary.status} in ${(summary.wallMs / 1000).toFixed(1)} s`,
    `  urls      ${n(urls.accepted)} accepted · ${n(urls.ok)} ok · ${n(urls.failed)} failed${urls.cancelled > 0 ? ` (${n(urls.cancelled)} cancelled)` : ''} · ${n(urls.invalid)} invalid lines${urls.duplicates > 0 ? ` · ${n(urls.duplicates)} duplicates skipped` : ''}`,
    `  rate      ${n(summary.urlsPerSecond)} URLs/s · ${bytes(summary.bytes)} · ${n(summary.retried)} retried · ${n(summary.redirects)} redirects`,
    `  status    ${histogramLine(summary.statusCodes)}`,
    `  errors    ${histogramLine(summary.errors)}`,
    `  latency   p50 ${ms(latencyMs.p50)} · p90 ${ms(latencyMs.p90)} · p99 ${ms(latencyMs.p99)} · max ${ms(latencyMs.max)}`,
    `  output    ${outputDir}`,
    '            results.jsonl.gz · summary.json · report.html · failed.jsonl · invalid.jsonl.gz · manifest.json',
  ].join('\n');
}
