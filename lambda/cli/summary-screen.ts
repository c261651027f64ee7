import { join } from 'node:path';
import { bytes, count as n, plural } from '../core/report/format.js';
import { robotsNote } from '../core/report/robots-note.js';
import type { JobSummary } from '../core/summary.js';
import { blockedAddresses, blockedHint } from './blocked-hint.js';

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
    `  urls      ${n(urls.accepted)} accepted · ${n(urls.ok)} ok · ${n(urls.failed)} failed${urls.cancelled > 0 ? ` (${n(urls.cancelled)} cancelled)` : ''} · ${plural(urls.invalid, 'invalid line')}${urls.duplicates > 0 ? ` · ${plural(urls.duplicates, 'duplicate')} skipped` : ''}`,
    `  rate      ${n(summary.urlsPerSecond)} URLs/s · ${bytes(summary.bytes)} · ${n(summary.retried)} retried · ${plural(summary.redirects, 'redirect')}`,
    `  status    ${histogramLine(summary.statusCodes)}`,
    `  errors    ${histogramLine(summary.errors)}`,
    `  latency   p50 ${ms(latencyMs.p50)} · p90 ${ms(latencyMs.p90)} · p99 ${ms(latencyMs.p99)} · max ${ms(latencyMs.max)}`,
    `  output    ${outputDir}`,
    '            results.jsonl.gz · summary.json · report.html · failed.jsonl · invalid.jsonl.gz · manifest.json',
  ].join('\n');
}

/** The summary screen of a job written to `outputDir`, with hints when URLs were blocked or disallowed by robots.txt. */
export async function summaryScreen(summary: JobSummary, outputDir: string): Promise<string> {
  const blocked = summary.errors.BLOCKED_ADDRESS ?? 0;
  const hints = [
    blocked > 0 && blockedHint(blocked, await blockedAddresses(join(outputDir, 'failed.jsonl'))),
    robotsNote(summary),
  ].filter((hint): hint is string => typeof hint === 'string' && hint !== '');
  return [renderSummary(summary, outputDir), ...hints.map((hint) => `  hint      ${hint}`)].join('\n');
}
