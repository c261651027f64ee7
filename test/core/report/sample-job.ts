import type { FetchErrorCode } from '../../../lambda/core/errors.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { ReportBuilder } from '../../../lambda/core/report/report-builder.js';
import { type JobSummary, SummaryAccumulator } from '../../../lambda/core/summary.js';
import { makeFailure, makeRecord } from '../../helpers/factories.js';
import { mulberry32 } from '../../helpers/prng.js';

/** Attacker-controlled strings, as a hostile input list and a hostile server would send them. */
export const HOSTILE = {
  url: `https://evil.example/<script>window.__pwned=1</script>?q="'><img src=x onerror="window.__pwned=2">`,
  message: `bad header "</p><script>window.__pwned=3</script><style>body{display:none}</style>`,
} as const;

const ERRORS: ReadonlyArray<[FetchErrorCode, string]> = [
  ['DNS', 'getaddrinfo ENOTFOUND'],
  ['CONNECT_TIMEOUT', 'no connection within 10000 ms'],
  ['CONNECTION_REFUSED', 'connect ECONNREFUSED'],
  ['HEADERS_TIMEOUT', 'no response headers within 15000 ms'],
  ['TLS', 'certificate has expired'],
  ['HTTP_STATUS', 'HTTP 503 after 4 attempts'],
];

/**
 * `n` result records of a plausible crawl: 60 hosts (a few slow, a few broken), mostly
 * 200s, some redirects, 404s and 5xx, a spread of errors, log-normal latencies, and
 * one record with a hostile URL and message.
 */
export function sampleRecords(n = 2400, seed = 7): ResultRecord[] {
  const rand = mulberry32(seed);
  const records: ResultRecord[] = [];
  for (let i = 0; i < n; i += 1) {
    const h = Math.floor(rand() ** 2 * 60);
    const host =
      h === 3 ? 'api.slow-upstream.example' : h === 5 ? 'broken.example.net' : `www.site-${h}.example`;
    const url = `https://${host}/page/${i}?ref=${Math.floor(rand() * 1e6)}`;
    const slow = h === 3 ? 12 : h % 11 === 0 ? 3 : 1;
    const totalMs = Math.exp(Math.log(80) + rand() * 1.6 + (rand() - 0.5) * 1.2) * slow;
    const timings = { start: '2026-11-25T22:00:00.000Z', ttfbMs: totalMs * 0.7, totalMs };
    const roll = rand();
    const line = i + 1;
    if ((h === 5 && roll < 0.7) || roll < 0.06) {
      const [code, message] = ERRORS[Math.floor(rand() * ERRORS.length)] as [FetchErrorCode, string];
      records.push(
        makeFailure(code, {
          url,
          line,
          status: code === 'HTTP_STATUS' ? 503 : null,
          attempts: code === 'HTTP_STATUS' || code === 'CONNECT_TIMEOUT' ? 4 : 1,
          error: { code, message },
          timings: { ...timings, ttfbMs: null },
        }),
      );
    } else {
      const status = roll < 0.8 ? 200 : roll < 0.88 ? 404 : roll < 0.94 ? 301 : roll < 0.97 ? 403 : 500;
      records.push(
        makeRecord({
          url,
          line,
          status,
          finalUrl: url,
          bytes: Math.floor(rand() * 80_000),
          redirects: rand() < 0.1 ? 1 : 0,
          attempts: status === 500 ? 4 : 1,
          timings,
        }),
      );
    }
  }
  const hostile = Math.min(n - 1, 40);
  records[hostile] = makeFailure('PROTOCOL', {
    url: HOSTILE.url,
    line: hostile + 1,
    error: { code: 'PROTOCOL', message: HOSTILE.message },
  });
  return records;
}

/** A job as finalize would see it: the records through SummaryAccumulator and ReportBuilder alike. */
export function sampleJob(records: readonly ResultRecord[] = sampleRecords()): {
  summary: JobSummary;
  builder: ReportBuilder;
} {
  const acc = new SummaryAccumulator();
  const builder = new ReportBuilder();
  for (const record of records) {
    acc.add(record);
    builder.add(record);
  }
  const summary = acc.toSummary({
    jobId: 'crawl-2026-11-25',
    invalid: 3,
    chunks: Math.ceil(records.length / 250),
    startedAt: new Date('2026-11-25T22:00:00.000Z'),
    finishedAt: new Date('2026-11-25T22:00:41.250Z'),
  });
  return { summary, builder };
}
