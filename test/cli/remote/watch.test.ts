/** The pure parts of `status --watch`, `jobs` and `retry`: rate and ETA, the progress line, the jobs table, --codes. */
import { describe, expect, it } from 'vitest';
import { formatEta, RateMeter } from '../../../lambda/cli/progress-line.js';
import { exitCodeOf } from '../../../lambda/cli/remote/job-view.js';
import { renderJobs } from '../../../lambda/cli/remote/jobs-command.js';
import { parseCodes } from '../../../lambda/cli/remote/retry-command.js';
import { watchLine } from '../../../lambda/cli/remote/watch.js';
import type { JobView } from '../../../lambda/core/job/job-view.js';
import type { JobState } from '../../../lambda/core/ports.js';

const view = (progress: Partial<JobView['progress']>, status: JobView['status'] = 'running'): JobView => ({
  jobId: 'j1',
  status,
  cancelRequested: false,
  createdAt: '2026-11-25T22:00:00.000Z',
  updatedAt: '2026-11-25T22:00:05.000Z',
  progress: {
    chunksDone: 0,
    totalChunks: 4,
    accepted: 1000,
    invalid: 0,
    urlsDone: 0,
    urlsFailed: 0,
    ...progress,
  },
});

describe('RateMeter', () => {
  it('measures URLs/s from what was seen while watching, and the ETA from it', () => {
    const meter = new RateMeter();
    meter.add(400, 0);
    expect(meter.rate()).toBe(0);
    expect(meter.etaSeconds(400, 1000)).toBeNull();
    meter.add(500, 2000);
    expect(meter.rate()).toBe(50);
    expect(meter.etaSeconds(500, 1000)).toBe(10);
    expect(meter.etaSeconds(500, null)).toBeNull();
  });

  it('keeps a window of recent samples', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(0, 40_000);
    meter.add(100, 41_000);
    expect(meter.rate()).toBe(100);
  });
});

describe.each([
  [null, '?'],
  [7.4, '7s'],
  [200, '3m20s'],
  [3900, '1h05m'],
])('formatEta(%s)', (seconds, text) => {
  it(`is ${text}`, () => expect(formatEta(seconds)).toBe(text));
});

describe('watchLine', () => {
  it('shows done/total, rate, errors and ETA; a total not yet known has a +', () => {
    const meter = new RateMeter();
    meter.add(100, 0);
    meter.add(300, 1000);
    expect(watchLine(view({ urlsDone: 300, urlsFailed: 7 }), meter)).toBe(
      'j1 running 300/1000 URLs | 200/s | 7 errors | ETA 4s',
    );
    expect(watchLine(view({ urlsDone: 300, totalChunks: null, accepted: 750 }, 'dispatching'), meter)).toBe(
      'j1 dispatching 300/750+ URLs | 200/s | 0 errors | ETA ?',
    );
  });
});

describe('exitCodeOf', () => {
  it.each([
    ['succeeded', 0],
    ['completed_with_errors', 1],
    ['failed', 4],
    ['cancelled', 130],
    ['running', 0],
  ] as const)('%s → %d', (status, code) => expect(exitCodeOf({ status })).toBe(code));
});

describe('renderJobs', () => {
  it('aligns the columns', () => {
    const job = (jobId: string, status: JobState['status'], totalChunks: number | null): JobState => ({
      jobId,
      status,
      totalChunks,
      chunksDone: 1,
      accepted: 10,
      invalid: 0,
      urlsDone: 5,
      urlsFailed: 1,
      createdAt: '2026-11-25T22:00:00.000Z',
      updatedAt: '2026-11-25T22:00:00.000Z',
    });
    expect(renderJobs([job('a-long-job-id', 'running', 2), job('b', 'dispatching', null)])).toBe(
      [
        'JOB            STATUS       DONE/TOTAL  FAILED  CREATED',
        'a-long-job-id  running      5/10        1       2026-11-25T22:00:00.000Z',
        'b              dispatching  5/10+       1       2026-11-25T22:00:00.000Z',
      ].join('\n'),
    );
  });
});

describe('parseCodes', () => {
  it('takes known codes in any case', () => {
    expect([...parseCodes('http_status, CONNECTION_REFUSED')]).toEqual(['HTTP_STATUS', 'CONNECTION_REFUSED']);
  });
  it('names every unknown code and lists the known ones', () => {
    expect(() => parseCodes('DNS,NOPE,410')).toThrow(
      /^--codes: unknown error code NOPE, 410; known: BLOCKED_ADDRESS, /,
    );
    expect(() => parseCodes(' , ')).toThrow(/^--codes: no code given/);
  });
});
