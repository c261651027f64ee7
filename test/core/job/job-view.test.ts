import { describe, expect, it } from 'vitest';
import { hasResultFiles, RESULT_FILES, toJobView } from '../../../lambda/core/job/job-view.js';
import type { JobState } from '../../../lambda/core/ports.js';

const state = (overrides: Partial<JobState> = {}): JobState => ({
  jobId: 'j1',
  status: 'running',
  totalChunks: 3,
  chunksDone: 1,
  accepted: 7,
  invalid: 2,
  urlsDone: 3,
  urlsFailed: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:01:00.000Z',
  ...overrides,
});

describe('toJobView', () => {
  it('shows the state and progress; without a bucket, no results', () => {
    expect(toJobView(state({ cancelRequested: true, error: 'boom' }))).toEqual({
      jobId: 'j1',
      status: 'running',
      error: 'boom',
      cancelRequested: true,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:01:00.000Z',
      progress: { chunksDone: 1, totalChunks: 3, accepted: 7, invalid: 2, urlsDone: 3, urlsFailed: 1 },
    });
  });

  it('with the bucket, where each result file is', () => {
    const view = toJobView(state(), { bucket: 'b' });
    expect(view.cancelRequested).toBe(false);
    expect(view.results).toEqual({
      results: { s3: 's3://b/jobs/j1/results.jsonl.gz' },
      summary: { s3: 's3://b/jobs/j1/summary.json' },
      failed: { s3: 's3://b/jobs/j1/failed.jsonl' },
      invalid: { s3: 's3://b/jobs/j1/invalid.jsonl.gz' },
    });
    expect(view).not.toHaveProperty('resultUrlsExpireInSeconds');
  });

  it('with links, each file has its link and the view says how long they last', () => {
    const urls = Object.fromEntries(Object.keys(RESULT_FILES).map((name) => [name, `https://x/${name}`]));
    const view = toJobView(state({ status: 'succeeded' }), {
      bucket: 'b',
      links: { urls: urls as never, expiresInSeconds: 600 },
    });
    expect(view.results?.summary).toEqual({ s3: 's3://b/jobs/j1/summary.json', url: 'https://x/summary' });
    expect(view.resultUrlsExpireInSeconds).toBe(600);
  });

  it.each([
    ['succeeded', true],
    ['completed_with_errors', true],
    ['cancelled', true],
    ['running', false],
    ['failed', false],
  ] as const)('a %s job has result files to link: %s', (status, expected) => {
    expect(hasResultFiles(status)).toBe(expected);
  });
});
