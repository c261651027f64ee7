import { createHash } from 'node:crypto';
import type { JobRequest } from '../job/job-request.js';
import type { InvalidLine } from '../record.js';
import type { JobSummary } from '../summary.js';
import { type BarItem, barList, latencyChart, latencyTable } from './charts.js';
import { bytes, count, duration, percent, plural, utc } from './format.js';
import type { HostRow } from './host-table.js';
import { Html, html } from './html.js';
import type { InvalidLinesTally } from './invalid-lines.js';
import { latencyBins } from './latency-bins.js';
import type { FailureSample, ReportDetails } from './report-builder.js';
import { robotsNote } from './robots-note.js';
import { REPORT_CSS } from './styles.js';

/**
 * Nothing loads from anywhere: no scripts, images, fonts, frames or connections; the
 * one stylesheet is allowed by its hash. (Directives a meta CSP ignores, such as
 * frame-ancestors, are left out: Chromium logs an error for them.)
 */
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(REPORT_CSS).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** What a report is made of. */
export interface ReportInput {
  summary: JobSummary;
  details: ReportDetails;
  /** job.json: the job's source and options (the section is left out without it). */
  request?: JobRequest;
  /** invalid.jsonl.gz, tallied (the section is left out without it). */
  invalid?: InvalidLinesTally;
  /** ISO 8601. */
  generatedAt: string;
}

/** report.html: one self-contained page (inline CSS and SVG, no scripts). */
export function renderReport({ summary, details, request, invalid, generatedAt }: ReportInput): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="fanout">
<title>fanout job ${summary.jobId}</title>
<style>${rawCss()}</style>
</head>
<body>
<main>
${header(summary)}
${totals(summary)}
${request && jobRequest(request)}
${latency(summary)}
<div class="cols">${statusCodes(summary)}${errors(summary)}</div>
<div class="cols">${failingHosts(details)}${slowHosts(details)}</div>
${failures(details)}
${invalid && invalidLines(invalid)}
<footer>Generated ${utc(generatedAt)} by fanout. Exact numbers: summary.json. Failures to submit again: failed.jsonl.</footer>
</main>
</body>
</html>
`;
  return page.text;
}

/** The stylesheet is ours, not input: it goes in as it is (its hash is in the CSP). */
const rawCss = (): Html => new Html(REPORT_CSS);

function header(s: JobSummary): Html {
  const label = String(s.status).replaceAll('_', ' ');
  return html`<header class="job"><p class="eyebrow">fanout job report</p><h1><code id="job-id">${s.jobId}</code> <span class="pill ${s.status}" id="job-status" data-status="${s.status}">${label}</span></h1><p class="meta">Started ${utc(s.startedAt)} · finished ${utc(s.finishedAt)} · ${duration(s.wallMs)}</p></header>`;
}

function card(key: string, label: string, value: number, tone: string, note: string | null): Html {
  return html`<div class="total ${tone}" data-total="${key}" data-value="${value}"><span class="label">${label}</span><span class="value">${count(value)}</span>${note && html`<small>${note}</small>`}</div>`;
}

function fact(key: string, label: string, value: number, shown: string): Html {
  return html`<div data-total="${key}" data-value="${value}"><dt>${label}</dt><dd>${shown}</dd></div>`;
}

function totals(s: JobSummary): Html {
  const { accepted, ok, failed, invalid, duplicates, cancelled } = s.urls;
  return html`<section id="totals"><h2>Totals</h2><div class="totals">${[
    card('accepted', 'URLs', accepted, 'all', 'accepted from the input'),
    card('ok', 'Fetched', ok, 'ok', `${percent(ok, accepted)} without error`),
    card('failed', 'Failed', failed, 'failed', `${percent(failed, accepted)} in failed.jsonl`),
    cancelled > 0 &&
      card('cancelled', 'Cancelled', cancelled, 'invalid', 'not fetched: the job was cancelled'),
    card('invalid', 'Invalid lines', invalid, 'invalid', 'rejected before fetching'),
    duplicates > 0 &&
      card(
        'duplicates',
        'Duplicates skipped',
        duplicates,
        'all',
        'repeated URLs, listed in invalid.jsonl.gz',
      ),
  ]}</div><dl class="facts">${[
    fact('wall-ms', 'Wall time', s.wallMs, duration(s.wallMs)),
    fact('urls-per-second', 'Rate', s.urlsPerSecond, `${count(s.urlsPerSecond)} URLs/s`),
    fact('bytes', 'Downloaded (decoded)', s.bytes, bytes(s.bytes)),
    fact('attempts', 'Attempts', s.attempts, count(s.attempts)),
    fact('retried', 'URLs retried', s.retried, count(s.retried)),
    fact('redirects', 'Redirects followed', s.redirects, count(s.redirects)),
    fact('chunks', 'Chunks', s.chunks, count(s.chunks)),
  ]}</dl></section>`;
}

function latency(s: JobSummary): Html {
  const bins = latencyBins(s.histograms.latencyMs);
  const rows = (['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const).map(
    (k) =>
      html`<tr data-percentile="${k}"><th>${k}</th><td class="num">${duration(s.latencyMs[k])}</td><td class="num">${duration(s.ttfbMs[k])}</td></tr>`,
  );
  return html`<section id="latency"><h2>Time per URL</h2>${latencyChart(bins, s.latencyMs)}<p class="chart-note">URLs per time bin (ms unless marked), all retries and redirects included. Bins are exact to within 1%.</p><div class="cols"><table class="pct-table compact"><thead><tr><th></th><th class="num">total</th><th class="num">first byte</th></tr></thead><tbody>${rows}</tbody></table><div>${latencyTable(bins, s.latencyMs.count)}</div></div></section>`;
}

function statusTone(code: string): string {
  return /^[1-5]\d\d$/.test(code) ? `s${code[0]}xx` : 'snone';
}

const byCount = (a: [string, number], b: [string, number]) => b[1] - a[1] || a[0].localeCompare(b[0]);

function statusCodes(s: JobSummary): Html {
  const answered = Object.values(s.statusCodes).reduce((a, b) => a + b, 0);
  const noResponse = Math.max(0, s.urls.accepted - answered);
  const classes: BarItem[] = Object.entries(s.statusClasses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([cls, n]) => ({
      label: cls,
      count: n,
      tone: statusTone(cls.replace('xx', '00')),
      data: { class: cls },
    }));
  if (noResponse > 0)
    classes.push({ label: 'no response', count: noResponse, tone: 'snone', data: { class: 'none' } });
  const codes: BarItem[] = Object.entries(s.statusCodes)
    .sort(byCount)
    .map(([code, n]) => ({ label: code, count: n, tone: statusTone(code), data: { 'status-code': code } }));
  const body =
    classes.length === 0
      ? html`<p class="empty">No URLs.</p>`
      : html`${barList(classes, s.urls.accepted, 'status-classes')}${codes.length > 0 && html`<h3>By code</h3>${barList(codes, s.urls.accepted, 'status-codes')}`}`;
  return html`<section id="status"><h2>HTTP status</h2>${body}</section>`;
}

function errors(s: JobSummary): Html {
  const items: BarItem[] = Object.entries(s.errors)
    .sort(byCount)
    .map(([code, n]) => ({ label: code, count: n, tone: 'err', data: { 'error-code': code } }));
  const body =
    items.length === 0
      ? html`<p class="empty">No URL failed.</p>`
      : barList(items, s.urls.accepted, 'error-codes');
  const robots = robotsNote(s);
  return html`<section id="errors"><h2>Errors</h2>${body}${robots && html`<p class="note" id="robots-note">${robots}</p>`}<p class="note">Shares are of all URLs. A 404 is a status, not an error.</p></section>`;
}

function hostNote(d: ReportDetails): Html | null {
  if (!d.hosts.cut) return null;
  return html`<p class="note" id="hosts-cut">This job had more than ${count(2 * d.hosts.limit)} hosts; the report follows at most that many at a time, keeping the most failing and the slowest. ${plural(d.hosts.other.records, 'URL')} (${count(d.hosts.other.failures)} failed) ${d.hosts.other.records === 1 ? 'was' : 'were'} on hosts dropped along the way, so a host's numbers may be lower bounds.</p>`;
}

function hostCell(h: HostRow, sub: string | null): Html {
  return html`<td class="host">${h.host}${sub && html`<span class="sub">${sub}</span>`}</td>`;
}

function failingHosts(d: ReportDetails): Html {
  const rows = d.hosts.mostFailing.map(
    (h) =>
      html`<tr data-host="${h.host}" data-failures="${h.failures}" data-records="${h.records}">${hostCell(h, h.topError)}<td class="num" data-label="failed">${count(h.failures)}</td><td class="num" data-label="URLs">${count(h.records)}</td><td class="num" data-label="share failed">${percent(h.failures, h.records)}</td></tr>`,
  );
  const body =
    rows.length === 0
      ? html`<p class="empty">No host had a failure.</p>`
      : html`<table class="hosts" id="failing-hosts-table"><thead><tr><th class="host">host · top error</th><th class="num">failed</th><th class="num">URLs</th><th class="num">share</th></tr></thead><tbody>${rows}</tbody></table>`;
  return html`<section id="failing-hosts"><h2>Most failing hosts</h2>${body}${hostNote(d)}</section>`;
}

function slowHosts(d: ReportDetails): Html {
  const rows = d.hosts.slowest.map(
    (h) =>
      html`<tr data-host="${h.host}" data-mean-ms="${+h.meanMs.toFixed(1)}" data-records="${h.records}">${hostCell(h, null)}<td class="num" data-label="mean">${duration(h.meanMs)}</td><td class="num" data-label="max">${duration(h.maxMs)}</td><td class="num" data-label="URLs">${count(h.records)}</td></tr>`,
  );
  const body =
    rows.length === 0
      ? html`<p class="empty">No URLs.</p>`
      : html`<table class="hosts" id="slow-hosts-table"><thead><tr><th class="host">host</th><th class="num">mean</th><th class="num">max</th><th class="num">URLs</th></tr></thead><tbody>${rows}</tbody></table>`;
  return html`<section id="slow-hosts"><h2>Slowest hosts</h2>${body}<p class="note">By mean time per URL, retries included.</p></section>`;
}

function failureItem(f: FailureSample): Html {
  const status = f.status === null ? 'no response' : `HTTP ${f.status}`;
  const attempts = f.attempts === 1 ? '1 attempt' : `${f.attempts} attempts`;
  return html`<li data-line="${f.line}" data-code="${f.code}"><div class="failure-head"><span class="code">${f.code}</span><span>line ${count(f.line)}</span><span>${status}</span><span>${attempts}</span></div><span class="failure-url">${f.url}</span><p class="failure-message">${f.message}</p></li>`;
}

function failures(d: ReportDetails): Html {
  const shown = d.firstFailures.length;
  const title = shown < d.failures ? `First ${count(shown)} of ${plural(d.failures, 'failure')}` : 'Failures';
  const body =
    shown === 0
      ? html`<p class="empty">No URL failed.</p>`
      : html`<ol class="failures" id="failure-list">${d.firstFailures.map(failureItem)}</ol>`;
  return html`<section id="failures" data-failures="${d.failures}"><h2>${title}</h2>${body}</section>`;
}

/** An option's value as a person reads it: durations and sizes in units, lists joined. */
function optionValue(name: string, value: unknown): string {
  if (typeof value === 'number' && name.endsWith('Ms'))
    return value < 1000 ? `${count(value)} ms` : `${count(value / 1000)} s`;
  if (typeof value === 'number' && name.endsWith('Bytes')) return bytes(value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'number' ? count(value) : String(value);
}

function jobRequest(r: JobRequest): Html {
  const options = Object.entries(r.options).map(
    ([name, value]) =>
      html`<div data-option="${name}"><dt><code>${name}</code></dt><dd>${optionValue(name, value)}</dd></div>`,
  );
  return html`<section id="job"><h2>Job</h2><dl class="facts request"><div data-field="source"><dt>Source</dt><dd><code id="job-source">${r.source}</code></dd></div><div data-field="format"><dt>Format</dt><dd>${r.format}</dd></div><div data-field="submitted-at"><dt>Submitted</dt><dd>${utc(r.submittedAt)}</dd></div></dl><h3>Options</h3><dl class="facts options" id="job-options">${options}</dl></section>`;
}

function invalidItem(line: InvalidLine): Html {
  return html`<li data-line="${line.line}" data-code="${line.code}"><div class="failure-head"><span class="code inv">${line.code}</span><span>line ${count(line.line)}</span></div><span class="failure-url">${line.raw}</span><p class="failure-message">${line.message}</p></li>`;
}

function invalidLines(t: InvalidLinesTally): Html {
  const items: BarItem[] = t.codes.map(({ code, count: n }) => ({
    label: code,
    count: n,
    tone: 'inv',
    data: { 'invalid-code': code },
  }));
  const body =
    t.lines === 0
      ? html`<p class="empty">No input line was rejected.</p>`
      : html`${barList(items, t.lines, 'invalid-codes')}<h3>First lines of each reason</h3><ol class="failures" id="invalid-examples">${t.codes.flatMap((c) => c.examples.map(invalidItem))}</ol>`;
  return html`<section id="invalid" data-lines="${t.lines}"><h2>Invalid lines</h2>${body}<p class="note">Rejected before fetching; every one is in invalid.jsonl.gz with its line number.</p></section>`;
}
