import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REPORT_LIMITS, ReportBuilder } from '../../../lambda/core/report/report-builder.js';
import { SummaryAccumulator } from '../../../lambda/core/summary.js';
import { makeFailure, makeRecord } from '../../helpers/factories.js';
import { HOSTILE, sampleJob, sampleRecords } from './sample-job.js';

const GENERATED_AT = '2026-11-25T22:00:42.000Z';

/** data-total → data-value, as the page carries them. */
function totalsOf(page: string): Record<string, number> {
  return Object.fromEntries(
    [...page.matchAll(/data-total="([^"]+)" data-value="([^"]+)"/g)].map((m) => [m[1], Number(m[2])]),
  );
}

describe('ReportBuilder', () => {
  it('keeps the first failures in record order, bounded, with long URLs and messages cut', () => {
    const builder = new ReportBuilder({ failures: 3, urlChars: 40, messageChars: 20 });
    builder.add(makeRecord({ line: 1 }));
    builder.add(makeFailure('DNS', { line: 2, url: `https://a.example/${'x'.repeat(100)}` }));
    builder.add(makeRecord({ line: 3, status: 404 }));
    builder.add(
      makeFailure('HTTP_STATUS', {
        line: 4,
        status: 503,
        attempts: 4,
        error: { code: 'HTTP_STATUS', message: 'm'.repeat(50) },
      }),
    );
    for (let line = 5; line < 100; line += 1) builder.add(makeFailure('TLS', { line }));
    const details = builder.details();
    expect(details.records).toBe(99);
    expect(details.failures).toBe(97);
    expect(details.firstFailures.map((f) => [f.line, f.code, f.status, f.attempts])).toEqual([
      [2, 'DNS', null, 1],
      [4, 'HTTP_STATUS', 503, 4],
      [5, 'TLS', null, 1],
    ]);
    expect(details.firstFailures[0]?.url).toHaveLength(40);
    expect(details.firstFailures[0]?.url.endsWith('…')).toBe(true);
    expect(details.firstFailures[1]?.message).toBe(`${'m'.repeat(19)}…`);
  });

  it('ranks hosts from the records: most failing and slowest', () => {
    const { builder } = sampleJob();
    const { hosts } = builder.details();
    expect(hosts.cut).toBe(false);
    expect(hosts.mostFailing[0]?.host).toBe('broken.example.net');
    expect(hosts.slowest[0]?.host).toBe('api.slow-upstream.example');
    expect(hosts.mostFailing).toHaveLength(REPORT_LIMITS.hostRows);
    expect(hosts.slowest).toHaveLength(REPORT_LIMITS.hostRows);
  });

  it('holds bounded state on a job with many hosts and failures', () => {
    const builder = new ReportBuilder({ hosts: 20 });
    for (let i = 0; i < 50_000; i += 1) {
      builder.add(makeFailure('DNS', { line: i + 1, url: `https://h${i}.example/` }));
    }
    const details = builder.details();
    expect(details.failures).toBe(50_000);
    expect(details.firstFailures).toHaveLength(REPORT_LIMITS.failures);
    expect(details.hosts.tracked).toBeLessThanOrEqual(40);
    expect(details.hosts.cut).toBe(true);
    expect(details.hosts.other.records).toBeGreaterThan(49_000);
    expect(builder.render({ summary: summaryOf([]), generatedAt: GENERATED_AT })).toContain('id="hosts-cut"');
  });

  it('merging parts in order gives what adding their records one by one gives', () => {
    const records = sampleRecords(2400, 3);
    const whole = new ReportBuilder();
    const merged = new ReportBuilder();
    for (const record of records) whole.add(record);
    for (let at = 0; at < records.length; at += 300) {
      const part = ReportBuilder.forPart(300);
      for (const record of records.slice(at, at + 300)) part.add(record);
      merged.merge(part.toPart());
    }
    const rounded = (rows: { meanMs: number }[]) => rows.map((r) => ({ ...r, meanMs: r.meanMs.toFixed(6) }));
    const [a, b] = [whole.details(), merged.details()];
    expect(b.records).toBe(a.records);
    expect(b.failures).toBe(a.failures);
    expect(b.firstFailures).toEqual(a.firstFailures);
    expect(rounded(b.hosts.mostFailing)).toEqual(rounded(a.hosts.mostFailing));
    expect(rounded(b.hosts.slowest)).toEqual(rounded(a.hosts.slowest));
    expect(b.hosts.tracked).toBe(a.hosts.tracked);
  });

  it('a part never cuts its hosts, and merging many stays bounded', () => {
    const merged = new ReportBuilder({ hosts: 20 });
    for (let p = 0; p < 50; p += 1) {
      const part = ReportBuilder.forPart(1000);
      for (let i = 0; i < 1000; i += 1) {
        part.add(makeFailure('DNS', { line: p * 1000 + i + 1, url: `https://h${p}-${i}.example/` }));
      }
      expect(part.toPart().hosts).toHaveLength(1000);
      merged.merge(part.toPart());
    }
    const details = merged.details();
    expect(details.records).toBe(50_000);
    expect(details.failures).toBe(50_000);
    expect(details.hosts.tracked).toBeLessThanOrEqual(40);
    expect(details.hosts.tracked + details.hosts.other.dropped).toBe(50_000);
    expect(details.firstFailures.map((f) => f.line)).toEqual(
      Array.from({ length: REPORT_LIMITS.failures }, (_, i) => i + 1),
    );
  });
});

function summaryOf(records: ReturnType<typeof sampleRecords>) {
  const acc = new SummaryAccumulator();
  for (const r of records) acc.add(r);
  return acc.toSummary({
    jobId: 'j1',
    invalid: 0,
    chunks: 1,
    startedAt: new Date('2026-11-25T22:00:00Z'),
    finishedAt: new Date('2026-11-25T22:00:01Z'),
  });
}

describe('report.html', () => {
  const { summary, builder } = sampleJob();
  const page = builder.render({ summary, generatedAt: GENERATED_AT });

  it("carries the summary's totals, status codes, errors and every URL in the histogram", () => {
    expect(totalsOf(page)).toEqual({
      accepted: summary.urls.accepted,
      ok: summary.urls.ok,
      failed: summary.urls.failed,
      invalid: summary.urls.invalid,
      'wall-ms': summary.wallMs,
      'urls-per-second': summary.urlsPerSecond,
      bytes: summary.bytes,
      attempts: summary.attempts,
      retried: summary.retried,
      redirects: summary.redirects,
      chunks: summary.chunks,
    });
    for (const [code, n] of Object.entries(summary.statusCodes)) {
      expect(page).toContain(`data-status-code="${code}" data-count="${n}"`);
    }
    for (const [code, n] of Object.entries(summary.errors)) {
      expect(page).toContain(`data-error-code="${code}" data-count="${n}"`);
    }
    const binned = [...page.matchAll(/class="hist-bar"[^>]*data-count="(\d+)"/g)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(binned).toBe(summary.urls.accepted);
    expect(page).toContain(`First ${REPORT_LIMITS.failures} of ${summary.urls.failed} failures`);
  });

  it('is self-contained: no scripts, no external references, a CSP allowing only its own stylesheet', () => {
    expect(page).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    // Every '<' in the page starts a real tag (text has its '<' escaped): none of them loads anything.
    expect(page).not.toMatch(/<[^>]*\s(src|href|srcset|action|data)=/i);
    const csp = (
      page.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)?.[1] ?? ''
    ).replaceAll('&#39;', "'");
    expect(csp).toContain("default-src 'none'");
    const css = page.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '';
    const hash = createHash('sha256').update(css).digest('base64');
    expect(csp).toContain(`style-src 'sha256-${hash}'`);
    expect(page).not.toMatch(/ style="/);
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('escapes URLs, messages and ids from records: markup in them stays text', () => {
    expect(page).not.toContain(HOSTILE.url);
    expect(page).not.toContain(HOSTILE.message);
    expect(page).toContain(
      'https://evil.example/&lt;script&gt;window.__pwned=1&lt;/script&gt;?q=&quot;&#39;&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;',
    );
    expect(page).toContain(
      'bad header &quot;&lt;/p&gt;&lt;script&gt;window.__pwned=3&lt;/script&gt;&lt;style&gt;',
    );
    const b = new ReportBuilder();
    const hostile = makeFailure('DNS', { url: 'https://x.example/"><svg onload=alert(1)>' });
    b.add(hostile);
    const html = b.render({ summary: { ...summaryOf([hostile]), jobId: '</title><script>x</script>' } });
    expect(html).not.toMatch(/<svg onload|<script|<\/title><script/);
    expect(html).toContain('&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;');
  });

  it('renders an empty job', () => {
    const empty = new ReportBuilder().render({ summary: summaryOf([]), generatedAt: GENERATED_AT });
    expect(totalsOf(empty)).toMatchObject({ accepted: 0, ok: 0, failed: 0 });
    expect(empty).toContain('No URLs, no latencies.');
    expect(empty).toContain('No URL failed.');
    expect(empty).toContain('id="job-status" data-status="succeeded"');
  });

  it('is the same page for the same records', () => {
    const again = sampleJob(sampleRecords());
    expect(again.builder.render({ summary: again.summary, generatedAt: GENERATED_AT })).toBe(page);
  });
});
