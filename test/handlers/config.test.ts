import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, OPTION_LIMITS } from '../../lambda/core/options.js';
import { readConfig } from '../../lambda/handlers/config.js';

const WORKER = {
  FANOUT_BUCKET: 'bkt',
  FANOUT_TABLE: 'tbl',
  FANOUT_QUEUE_URL: 'https://sqs/q',
  FANOUT_DISPATCHER_FUNCTION: 'disp',
};
const API_VARIABLES = ['FANOUT_BUCKET', 'FANOUT_TABLE', 'FANOUT_DISPATCHER_FUNCTION'] as const;

/** The message readConfig throws for an environment; fails the test when it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv, required?: Parameters<typeof readConfig>[1]): string {
  try {
    readConfig(env, required);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('readConfig accepted the environment');
}

describe('readConfig: required variables', () => {
  it('names every missing variable of the default (worker) role', () => {
    const message = problemsOf({});
    expect(message).toMatch(/^fanout configuration: /);
    expect(message).toContain('FANOUT_BUCKET is not set');
    expect(message).toContain('FANOUT_TABLE is not set');
    expect(message).toContain('FANOUT_QUEUE_URL is not set');
    // The worker that counts a job's last chunk starts the fan-in in the dispatcher function.
    expect(message).toContain('FANOUT_DISPATCHER_FUNCTION is not set');
  });

  it('the API role needs the dispatcher function, not the queue', () => {
    const message = problemsOf({ FANOUT_BUCKET: 'bkt', FANOUT_TABLE: 'tbl' }, API_VARIABLES);
    expect(message).toBe('fanout configuration: FANOUT_DISPATCHER_FUNCTION is not set');
    expect(
      readConfig(
        { FANOUT_BUCKET: 'bkt', FANOUT_TABLE: 'tbl', FANOUT_DISPATCHER_FUNCTION: 'd' },
        API_VARIABLES,
      ),
    ).toMatchObject({ bucket: 'bkt', tableName: 'tbl', queueUrl: '', dispatcherFunction: 'd' });
  });

  it('names only what is missing', () => {
    expect(problemsOf({ ...WORKER, FANOUT_TABLE: undefined })).toBe(
      'fanout configuration: FANOUT_TABLE is not set',
    );
  });

  it('an empty variable counts as not set', () => {
    expect(problemsOf({ ...WORKER, FANOUT_BUCKET: '' })).toBe(
      'fanout configuration: FANOUT_BUCKET is not set',
    );
  });

  it('no required variables: an empty environment is read with defaults', () => {
    expect(readConfig({}, [])).toMatchObject({ bucket: '', tableName: '', queueUrl: '' });
  });
});

describe('readConfig: values and defaults', () => {
  it('reads the resources and applies every default', () => {
    expect(readConfig(WORKER)).toEqual({
      bucket: 'bkt',
      tableName: 'tbl',
      queueUrl: 'https://sqs/q',
      dispatcherFunction: 'disp',
      deadlineMarginMs: 15_000,
      dispatchMarginMs: 60_000,
      cancelPollMs: 5_000,
      hostGroups: 100,
      resultUrlSeconds: 3_600,
      jobDefaults: DEFAULT_OPTIONS,
      jobLimits: OPTION_LIMITS,
      allowPrivate: false,
      eventBus: '',
      metricsNamespace: 'Fanout',
      headerSecretsPrefix: 'fanout/',
    });
  });

  it('the dispatcher function is FANOUT_DISPATCHER_FUNCTION, else the function itself', () => {
    expect(
      readConfig({ ...WORKER, FANOUT_DISPATCHER_FUNCTION: undefined, AWS_LAMBDA_FUNCTION_NAME: 'self' }, [])
        .dispatcherFunction,
    ).toBe('self');
    expect(
      readConfig({ ...WORKER, AWS_LAMBDA_FUNCTION_NAME: 'self', FANOUT_DISPATCHER_FUNCTION: 'disp' })
        .dispatcherFunction,
    ).toBe('disp');
  });

  it('reads the numeric variables, the event bus and the namespace', () => {
    const config = readConfig({
      ...WORKER,
      FANOUT_DEADLINE_MARGIN_MS: '2000',
      FANOUT_DISPATCH_MARGIN_MS: '30000',
      FANOUT_CANCEL_POLL_MS: '0',
      FANOUT_RESULT_URL_SECONDS: '60',
      FANOUT_EVENT_BUS: 'bus',
      FANOUT_METRICS_NAMESPACE: 'Mine',
      FANOUT_HEADER_SECRETS_PREFIX: 'team/',
    });
    expect(config).toMatchObject({
      deadlineMarginMs: 2000,
      dispatchMarginMs: 30_000,
      cancelPollMs: 0,
      resultUrlSeconds: 60,
      eventBus: 'bus',
      metricsNamespace: 'Mine',
      headerSecretsPrefix: 'team/',
    });
  });

  it('an empty namespace is the default one', () => {
    expect(readConfig({ ...WORKER, FANOUT_METRICS_NAMESPACE: '' }).metricsNamespace).toBe('Fanout');
  });

  it.each([
    ['FANOUT_DEADLINE_MARGIN_MS', 'abc'],
    ['FANOUT_DISPATCH_MARGIN_MS', '-1'],
    ['FANOUT_CANCEL_POLL_MS', '1.5'],
    ['FANOUT_RESULT_URL_SECONDS', 'NaN'],
  ])('%s=%s is refused, naming the variable and the value', (name, value) => {
    expect(problemsOf({ ...WORKER, [name]: value })).toBe(
      `fanout configuration: ${name} must be a whole number, got ${value}`,
    );
  });

  it.each([
    ['FANOUT_DEADLINE_MARGIN_MS', 'deadlineMarginMs', 15_000],
    ['FANOUT_CANCEL_POLL_MS', 'cancelPollMs', 5_000],
    ['FANOUT_RESULT_URL_SECONDS', 'resultUrlSeconds', 3_600],
  ] as const)('an empty %s is not set (its default), not 0', (name, field, fallback) => {
    // Like the required variables and the namespace: '' means "not set". Read as 0 it would
    // silently turn off cancel polling or hand out links that expire at once.
    expect(readConfig({ ...WORKER, [name]: '' })[field]).toBe(fallback);
  });
});

describe('readConfig: FANOUT_JOB_DEFAULTS', () => {
  it('is read over the built-in defaults, with the same rules as any options', () => {
    const { jobDefaults } = readConfig({
      ...WORKER,
      FANOUT_JOB_DEFAULTS: '{"retries": 1, "concurrency": 4}',
    });
    expect(jobDefaults).toEqual({ ...DEFAULT_OPTIONS, retries: 1, concurrency: 4, perHost: 4 });
  });

  it.each([
    ['not JSON', '{retries: 1}', /^fanout configuration: FANOUT_JOB_DEFAULTS: .*JSON/],
    ['a list', '[1]', /^fanout configuration: FANOUT_JOB_DEFAULTS: not a JSON object$/],
    ['null', 'null', /^fanout configuration: FANOUT_JOB_DEFAULTS: not a JSON object$/],
    [
      'an option out of range',
      '{"retries": 99}',
      /^fanout configuration: FANOUT_JOB_DEFAULTS: retries: must be an integer from 0 to 10, got 99$/,
    ],
    [
      'an unknown option',
      '{"speed": 3}',
      /^fanout configuration: FANOUT_JOB_DEFAULTS: speed: unknown option$/,
    ],
  ])('%s is refused', (_name, value, message) => {
    expect(problemsOf({ ...WORKER, FANOUT_JOB_DEFAULTS: value })).toMatch(message);
  });
});

describe('readConfig: FANOUT_JOB_MAXIMA', () => {
  it('tightens the ranges API callers must keep to, and can allow private addresses', () => {
    const config = readConfig({
      ...WORKER,
      FANOUT_JOB_DEFAULTS: '{"concurrency": 64}',
      FANOUT_JOB_MAXIMA: '{"concurrency": 64, "timeoutMs": 120000, "allowPrivate": true}',
    });
    expect(config.jobLimits).toEqual({
      ...OPTION_LIMITS,
      concurrency: { min: 1, max: 64 },
      timeoutMs: { min: 100, max: 120_000 },
    });
    expect(config.allowPrivate).toBe(true);
  });

  it('a maximum above fanout’s own is refused, as the construct refuses it', () => {
    expect(problemsOf({ ...WORKER, FANOUT_JOB_MAXIMA: '{"retries": 50}' })).toBe(
      'fanout configuration: FANOUT_JOB_MAXIMA: retries must be an integer from 0 to 10, got 50',
    );
  });

  it('allowPrivate false is read as false', () => {
    expect(readConfig({ ...WORKER, FANOUT_JOB_MAXIMA: '{"allowPrivate": false}' }).allowPrivate).toBe(false);
  });

  it('an unknown key is refused, listing the keys allowed', () => {
    const message = problemsOf({ ...WORKER, FANOUT_JOB_MAXIMA: '{"speed": 3}' });
    expect(message).toMatch(/^fanout configuration: FANOUT_JOB_MAXIMA: speed is not a numeric option \(/);
    expect(message).toContain(`${Object.keys(OPTION_LIMITS).join(', ')}, allowPrivate)`);
  });

  it('a non-numeric option (body) is not a maximum', () => {
    expect(problemsOf({ ...WORKER, FANOUT_JOB_MAXIMA: '{"body": "none"}' })).toMatch(
      /FANOUT_JOB_MAXIMA: body is not a numeric option/,
    );
  });

  it.each([
    ['a fraction', '{"concurrency": 1.5}', 'concurrency must be an integer from 1 to 900, got 1.5'],
    ['a string', '{"concurrency": "10"}', 'concurrency must be an integer from 1 to 900, got "10"'],
    ['below the minimum', '{"concurrency": 0}', 'concurrency must be an integer from 1 to 900, got 0'],
    [
      'below a minimum of 100',
      '{"timeoutMs": 99}',
      'timeoutMs must be an integer from 100 to 900000 ms, got 99',
    ],
    ['negative', '{"retries": -1}', 'retries must be an integer from 0 to 10, got -1'],
    ['allowPrivate not a boolean', '{"allowPrivate": "yes"}', 'allowPrivate must be true or false'],
    ['not an object', '[64]', 'not a JSON object'],
  ])('%s is refused', (_name, value, problem) => {
    expect(problemsOf({ ...WORKER, FANOUT_JOB_MAXIMA: value })).toBe(
      `fanout configuration: FANOUT_JOB_MAXIMA: ${problem}`,
    );
  });

  it('a minimum itself is a valid maximum', () => {
    const env = { ...WORKER, FANOUT_JOB_DEFAULTS: '{"retries": 0}', FANOUT_JOB_MAXIMA: '{"retries": 0}' };
    expect(readConfig(env).jobLimits.retries).toEqual({
      min: 0,
      max: 0,
    });
  });

  it('defaults outside the maxima are refused: API callers who set nothing would be refused', () => {
    // The API resolves a caller's options over jobDefaults within jobLimits.
    const message = problemsOf({ ...WORKER, FANOUT_JOB_MAXIMA: '{"concurrency": 64}' });
    expect(message).toContain('FANOUT_JOB_DEFAULTS');
    expect(message).toContain('concurrency');
  });
});

describe('readConfig: every problem at once', () => {
  it('reports missing variables, bad numbers and bad JSON in one error', () => {
    const message = problemsOf({
      FANOUT_TABLE: 'tbl',
      FANOUT_DISPATCHER_FUNCTION: 'disp',
      FANOUT_CANCEL_POLL_MS: 'soon',
      FANOUT_RESULT_URL_SECONDS: '-5',
      FANOUT_JOB_DEFAULTS: '{"retries": 99}',
      FANOUT_JOB_MAXIMA: '{"speed": 1}',
    });
    expect(message).toMatch(/^fanout configuration: /);
    const problems = message.replace(/^fanout configuration: /, '').split('; ');
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        'FANOUT_BUCKET is not set',
        'FANOUT_QUEUE_URL is not set',
        'FANOUT_JOB_DEFAULTS: retries: must be an integer from 0 to 10, got 99',
        expect.stringMatching(/^FANOUT_JOB_MAXIMA: speed is not a numeric option/),
        'FANOUT_CANCEL_POLL_MS must be a whole number, got soon',
        'FANOUT_RESULT_URL_SECONDS must be a whole number, got -5',
      ]),
    );
  });
});
