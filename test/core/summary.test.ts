import { describe, expect, it } from 'vitest';
import { SummaryAccumulator } from '../../lambda/core/summary.js';
import { makeFailure, makeRecord } from '../helpers/factories.js';

const records = [
  makeRecord({ status: 200, bytes: 10, timings: { start: '', ttfbMs: 1, totalMs: 12.5 } }),
  makeRecord({ status: 200, bytes: 20, attempts: 3, redirects: 2 }),
  makeRecord({ status: 404, bytes: 5 }),
  makeRecord({ status: 503, attempts: 4, error: { code: 'HTTP_STATUS', message: 'HTTP 503' } }),
  makeFailure('DNS', { timings: { start: '', ttfbMs: null, totalMs: 3 } }),
  makeFailure('DNS'),
  makeFailure('BLOCKED_ADDRESS', { timings: { start: '', ttfbMs: null, totalMs: 0 } }),
];

describe('SummaryAccumulator', () => {
  it('counts records, statuses, errors, bytes, attempts', () => {
    const acc = new SummaryAccumulator();
    for (const r of records) acc.add(r);
    const counts = acc.toJSON();
    expect(counts).toMatchObject({
      records: 7,
      ok: 3,
      failed: 4,
      statusCodes: { '200': 2, '404': 1, '503': 1 },
      errors: { BLOCKED_ADDRESS: 1, DNS: 2, HTTP_STATUS: 1 },
      bytes: 10 + 20 + 5 + 100,
      attempts: 1 + 3 + 1 + 4 + 1 + 1 + 1,
      retried: 2,
      redirects: 2,
    });
    expect(counts.ttfb.count).toBe(5);
  });

  it('merging per-part accumulators equals one accumulator over all records, exactly', () => {
    const whole = new SummaryAccumulator();
    for (const r of records) whole.add(r);
    for (const split of [1, 2, 3, 6]) {
      const merged = new SummaryAccumulator();
      for (let i = 0; i < records.length; i += split) {
        const part = new SummaryAccumulator();
        for (const r of records.slice(i, i + split)) part.add(r);
        merged.merge(JSON.parse(JSON.stringify(part.toJSON())));
      }
      expect(merged.toJSON()).toEqual(whole.toJSON());
    }
  });

  it('builds summary.json with status classes, percentiles and the job status', () => {
    const acc = new SummaryAccumulator();
    for (const r of records) acc.add(r);
    const summary = acc.toSummary({
      jobId: 'j',
      invalid: 2,
      chunks: 3,
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: new Date('2026-01-01T00:00:02Z'),
    });
    expect(summary).toMatchObject({
      jobId: 'j',
      status: 'completed_with_errors',
      urls: { accepted: 7, invalid: 2, ok: 3, failed: 4 },
      statusClasses: { '2xx': 2, '4xx': 1, '5xx': 1 },
      wallMs: 2000,
      urlsPerSecond: 3.5,
    });
    expect(summary.latencyMs.count).toBe(7);
    expect(summary.latencyMs.max).toBe(12.5);
  });

  it('a clean job succeeds', () => {
    const acc = new SummaryAccumulator();
    acc.add(makeRecord());
    const at = new Date();
    expect(acc.toSummary({ jobId: 'j', invalid: 0, chunks: 1, startedAt: at, finishedAt: at }).status).toBe(
      'succeeded',
    );
  });
});

describe('SummaryAccumulator, cancelled and skipped URLs', () => {
  const cancelled = (totalMs: number) =>
    makeFailure('CANCELLED', { attempts: 1, bytes: 7, timings: { start: '', ttfbMs: 2, totalMs } });

  it('a CANCELLED record counts as a record and an error, never as attempts, bytes or a latency sample', () => {
    const acc = new SummaryAccumulator();
    acc.add(
      makeRecord({ status: 200, bytes: 10, attempts: 2, timings: { start: '', ttfbMs: 1, totalMs: 40 } }),
    );
    acc.add(cancelled(0));
    acc.add(cancelled(5));
    const at = new Date('2026-01-01T00:00:00Z');
    const summary = acc.toSummary({ jobId: 'j', invalid: 0, chunks: 1, startedAt: at, finishedAt: at });
    expect(summary.urls).toEqual({ accepted: 3, invalid: 0, duplicates: 0, ok: 1, failed: 2, cancelled: 2 });
    expect(summary.errors).toEqual({ CANCELLED: 2 });
    expect([summary.attempts, summary.retried, summary.bytes]).toEqual([2, 1, 10]);
    expect(summary.latencyMs.count).toBe(1);
    expect(summary.latencyMs.p50).toBe(40);
    expect(summary.ttfbMs.count).toBe(1);
  });

  it('merging digests keeps the cancelled count (a digest of an older version has none)', () => {
    const part = new SummaryAccumulator();
    part.add(cancelled(1));
    const { cancelled: _absent, ...withoutCancelled } = part.toJSON();
    const merged = new SummaryAccumulator().merge(part.toJSON()).merge(withoutCancelled);
    expect(merged.toJSON().cancelled).toBe(1);
    expect(merged.toJSON().failed).toBe(2);
  });

  it('status: cancelled when the job was cancelled; duplicates alone leave a job succeeded', () => {
    const acc = new SummaryAccumulator();
    acc.add(makeRecord());
    const at = new Date();
    const base = { jobId: 'j', invalid: 0, chunks: 1, startedAt: at, finishedAt: at };
    expect(acc.toSummary({ ...base, cancelled: true }).status).toBe('cancelled');
    const deduped = acc.toSummary({ ...base, duplicates: 3 });
    expect(deduped.status).toBe('succeeded');
    expect(deduped.urls.duplicates).toBe(3);
    expect(acc.toSummary({ ...base, invalid: 1, duplicates: 3 }).status).toBe('completed_with_errors');
  });

  it('wallMs is the time the job ran when given, not the span from start to finish', () => {
    const acc = new SummaryAccumulator();
    acc.add(makeRecord());
    const summary = acc.toSummary({
      jobId: 'j',
      invalid: 0,
      chunks: 1,
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: new Date('2026-01-01T01:00:00Z'),
      wallMs: 1500,
    });
    expect(summary.wallMs).toBe(1500);
    expect(summary.urlsPerSecond).toBe(0.7);
  });
});
