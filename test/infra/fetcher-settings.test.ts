import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { FanoutFetcherProps } from '../../infra/fanout-fetcher.js';
import { resolveFetcherSettings } from '../../infra/fetcher-settings.js';
import { DEPLOYMENT_DEFAULTS } from '../../lambda/core/contract.js';
import type { BodyMode } from '../../lambda/core/job-options.js';
import { OPTION_LIMITS, OPTION_ROWS } from '../../lambda/core/options.js';

/** The problems resolveFetcherSettings reports for some props, one line each. */
function problemsOf(props: FanoutFetcherProps): string[] {
  try {
    resolveFetcherSettings(props);
    return [];
  } catch (err) {
    return (err as Error).message
      .split('\n')
      .slice(1)
      .map((line) => line.replace(/^ {2}- /, ''));
  }
}

describe('resolveFetcherSettings', () => {
  it("hands every option that has a prop to the handlers, at the table's default", () => {
    const props = OPTION_ROWS.filter(([, row]) => row.deployed === 'prop');
    expect(resolveFetcherSettings().jobDefaults).toEqual(
      Object.fromEntries(props.map(([option, row]) => [option, row.default])),
    );
  });

  it.each(OPTION_ROWS.filter(([, row]) => row.deployed === 'prop'))(
    'the %s prop is the table row: its range is checked and its value handed on',
    (option, row) => {
      const range = row.kind.range;
      const value = range ? range.min : row.default;
      const props = { [option]: value, ...(option === 'perHost' && { concurrency: value }) };
      expect(resolveFetcherSettings(props as FanoutFetcherProps).jobDefaults[option as 'body']).toEqual(
        value,
      );
      if (range) {
        expect(problemsOf({ [option]: range.max + 1 } as FanoutFetcherProps)).toContain(
          `${option} ${row.kind.check(range.max + 1)}`,
        );
      }
    },
  );

  it('states no job option default of its own: FanoutFetcherProps takes the props from the table', () => {
    // A prop declared again in the construct would carry a second @default (it said 128 for
    // concurrency, 250 for chunkSize); the table row holds the one true one.
    const source = readFileSync(
      fileURLToPath(new URL('../../infra/fanout-fetcher.ts', import.meta.url)),
      'utf8',
    );
    const props = source.slice(source.indexOf('export interface FanoutFetcherProps'));
    const declared = OPTION_ROWS.map(([option]) => option).filter((option) =>
      new RegExp(`^\\s*readonly ${option}\\?:`, 'm').test(props),
    );
    expect(declared).toEqual([]);
    expectTypeOf<FanoutFetcherProps['concurrency']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<FanoutFetcherProps['body']>().toEqualTypeOf<BodyMode | undefined>();
  });

  it('documents its defaults: what the TSDoc @default tags say', () => {
    const s = resolveFetcherSettings();
    expect(s.workerMemorySize).toBe(512);
    expect(s.workerTimeout.toSeconds()).toBe(300);
    expect(s.workerDeadlineMargin.toSeconds()).toBe(15);
    expect(s.workerBatchSize).toBe(1);
    expect(s.maxWorkerConcurrency).toBe(50);
    expect(s.maxReceiveCount).toBe(5);
    expect(s.partsRetention.toDays()).toBe(7);
    expect(s.bodiesRetention.toDays()).toBe(30);
    expect(s.inputsRetention.toDays()).toBe(30);
    expect(s.jobsRetention).toBeUndefined();
    expect(s.removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(s.apiAccess).toBe('iam');
    expect(s.apiThrottle).toEqual({ rateLimit: 25, burstLimit: 50 });
    expect(s.apiCloudWatchRole).toBe(true);
    expect(s.resultUrlTtl.toSeconds()).toBe(3600);
    expect(s.logRetention).toBe(RetentionDays.ONE_MONTH);
    expect(s.metricsNamespace).toBe('Fanout');
    expect(s.dashboard).toBe(true);
  });

  it.each([
    [Duration.seconds(30), 180],
    [Duration.minutes(5), 1800],
    [Duration.minutes(15), 5400],
  ])('derives a visibility timeout six times the worker timeout (%s)', (workerTimeout, seconds) => {
    const s = resolveFetcherSettings({
      workerTimeout,
      workerDeadlineMargin: Duration.seconds(10),
      jobDefaults: { timeoutMs: 10_000 },
    });
    expect(s.visibilityTimeout.toSeconds()).toBe(seconds);
    expect(s.visibilityTimeout.toSeconds()).toBe(
      DEPLOYMENT_DEFAULTS.visibilityPerTimeout * workerTimeout.toSeconds(),
    );
    // SQS's own ceiling is 12 hours: no worker timeout can pass it.
    expect(s.visibilityTimeout.toHours({ integral: false })).toBeLessThanOrEqual(12);
  });

  it('caps perHost at a small concurrency, as the CLI does', () => {
    expect(resolveFetcherSettings({ concurrency: 4 }).jobDefaults.perHost).toBe(4);
  });

  it('fits the per-URL budget and its maximum into one worker invocation', () => {
    const s = resolveFetcherSettings({
      workerTimeout: Duration.minutes(2),
      workerDeadlineMargin: Duration.seconds(20),
    });
    expect(s.jobMaxima.timeoutMs).toBe(100_000);
    expect(problemsOf({ workerTimeout: Duration.seconds(60) })).toEqual([
      'jobDefaults.timeoutMs (60000 ms) must fit in workerTimeout minus workerDeadlineMargin (45000 ms)',
    ]);
    expect(problemsOf({ workerTimeout: Duration.seconds(60), jobDefaults: { timeoutMs: 30_000 } })).toEqual(
      [],
    );
  });

  it('raises the default maxima to meet larger defaults, and refuses maxima below them', () => {
    expect(resolveFetcherSettings({ concurrency: 800, perHost: 100 }).jobMaxima).toMatchObject({
      concurrency: 800,
      perHost: 100,
    });
    expect(problemsOf({ concurrency: 256, jobMaxima: { concurrency: 200, timeoutMs: 290_000 } })).toEqual([
      'jobMaxima.concurrency (200) is below the default (256)',
      'jobMaxima.timeoutMs (290000 ms) must fit in one worker invocation (285000 ms)',
    ]);
  });

  it('takes a maximum for any numeric option, checked as a value of it, and refuses private targets', () => {
    expect(resolveFetcherSettings({ jobMaxima: { retries: 5 } }).jobMaxima).toMatchObject({ retries: 5 });
    expect(
      problemsOf({
        jobMaxima: { retries: 11, concurrency: 0, allowPrivate: true } as FanoutFetcherProps['jobMaxima'],
      }),
    ).toEqual([
      'jobMaxima.retries must be an integer from 0 to 10, got 11',
      'jobMaxima.concurrency must be an integer from 1 to 900, got 0',
      'jobMaxima.allowPrivate: private targets are for local runs only',
    ]);
  });

  it('collects every problem and throws once, naming each prop and what is allowed', () => {
    const problems = problemsOf({
      concurrency: 1000,
      perHost: 0,
      chunkSize: 1.5,
      body: 'all' as never,
      userAgent: 'a\nb',
      workerMemorySize: 64,
      workerTimeout: Duration.minutes(16),
      workerBatchSize: 11,
      maxWorkerConcurrency: 1,
      maxReceiveCount: 0,
      partsRetention: Duration.hours(12),
      apiAccess: 'public' as never,
      apiThrottle: { rateLimit: 0 },
      resultUrlTtl: Duration.days(1),
      metricsNamespace: 'AWS/Lambda',
    });
    expect(problems).toEqual([
      `concurrency must be an integer from 1 to ${OPTION_LIMITS.concurrency.max}, got 1000`,
      'perHost must be an integer from 1 to 900, got 0',
      'body must be one of none, hash, inline, store, warc, got "all"',
      'userAgent must be a valid User-Agent value: value must not contain CR, LF or NUL',
      'chunkSize must be an integer from 1 to 10000, got 1.5',
      'workerMemorySize must be a whole number from 128 to 10240 MiB, got 64',
      'workerTimeout must be a whole number from 30 to 900 s, got 960',
      'workerBatchSize must be a whole number from 1 to 10, got 11',
      'maxWorkerConcurrency must be a whole number from 2 to 1000, got 1',
      'maxReceiveCount must be a whole number from 1 to 1000, got 0',
      'partsRetention must be a whole number of days, at least 1',
      "apiAccess must be 'iam' or 'disabled', got \"public\"",
      'apiThrottle.rateLimit must be a whole number from 1 to 10000 requests/s, got 0',
      'resultUrlTtl must be a whole number from 60 to 43200 s, got 86400',
      'metricsNamespace must be 1 to 255 of A-Z a-z 0-9 . _ - / # : and not start with AWS/',
    ]);
  });

  it('keeps options with a prop of their own, private targets and unknown names out of jobDefaults', () => {
    expect(
      problemsOf({
        jobDefaults: {
          concurrency: 10,
          allowPrivate: true,
          colour: 'red',
          retries: 99,
          method: 'POST',
        } as never,
      }),
    ).toEqual([
      'jobDefaults.concurrency: set it with the concurrency prop instead',
      'jobDefaults.allowPrivate: private targets are for local runs only',
      'jobDefaults.colour: unknown job option',
      'jobDefaults.retries must be an integer from 0 to 10, got 99',
      'jobDefaults.method must be one of GET, HEAD, got "POST"',
    ]);
    expect(resolveFetcherSettings({ jobDefaults: { retries: 5, method: 'HEAD' } }).jobDefaults).toMatchObject(
      {
        retries: 5,
        method: 'HEAD',
      },
    );
  });

  it('refuses durations that are not whole seconds or days', () => {
    expect(
      problemsOf({ workerTimeout: Duration.millis(90_500), inputsRetention: Duration.hours(36) }),
    ).toEqual([
      'workerTimeout must be a whole number from 30 to 900 s, got 90.5',
      'inputsRetention must be a whole number of days, at least 1',
    ]);
  });

  it('refuses a deadline margin that leaves a worker no time, and retention shorter than the parts need', () => {
    expect(
      problemsOf({ workerTimeout: Duration.seconds(30), workerDeadlineMargin: Duration.seconds(20) }),
    ).toContain('workerDeadlineMargin must be from 1 s to half of workerTimeout (15 s), got 20 s');
    expect(problemsOf({ partsRetention: Duration.days(7), jobsRetention: Duration.days(3) })).toEqual([
      'jobsRetention must not be shorter than partsRetention',
    ]);
  });
});

describe('headerSecretsPrefix', () => {
  it('defaults to fanout/ and takes a prefix of secret names', () => {
    expect(resolveFetcherSettings().headerSecretsPrefix).toBe('fanout/');
    expect(resolveFetcherSettings({ headerSecretsPrefix: 'crawl/api-' }).headerSecretsPrefix).toBe(
      'crawl/api-',
    );
    expect(problemsOf({ headerSecretsPrefix: 'a b*' })).toEqual([
      'headerSecretsPrefix must be 1 to 256 of A-Z a-z 0-9 / _ + = . @ -, got "a b*"',
    ]);
  });

  it('refuses default headers the workers cannot read', () => {
    expect(problemsOf({ jobDefaults: { headers: { Authorization: 'secret:fanout/token' } } })).toEqual([]);
    expect(problemsOf({ jobDefaults: { headers: { Authorization: 'env:TOKEN' } } })[0]).toContain(
      'jobDefaults.headers: header Authorization: env:TOKEN is read by a run on this machine only',
    );
    expect(problemsOf({ jobDefaults: { headers: { Authorization: 'secret:other/token' } } })[0]).toContain(
      'only secrets named fanout/*',
    );
    expect(problemsOf({ jobDefaults: { headers: { Authorization: 'Bearer abc' } } })[0]).toContain(
      'Authorization is sensitive',
    );
  });
});
