/**
 * Adding an option is adding a row: a row added to the table (as the next issues add hostRate,
 * robots, headers) shows up on every surface with nothing else changed. The table module is
 * replaced by itself plus one row; every surface is the production code.
 */
import { describe, expect, it, vi } from 'vitest';
import { resolveFetcherSettings } from '../../infra/fetcher-settings.js';
import { optionsFromFlags } from '../../lambda/cli/job-flags.js';
import { retryCommand } from '../../lambda/cli/remote/retry-command.js';
import { submitCommand } from '../../lambda/cli/remote/submit-command.js';
import { runCommand } from '../../lambda/cli/run-command.js';
import { parseSubmission } from '../../lambda/core/job/submit.js';
import { DEFAULT_OPTIONS, OPTION_LIMITS } from '../../lambda/core/options.js';
import { readConfig } from '../../lambda/handlers/config.js';

vi.mock('../../lambda/core/job-options.js', async (importOriginal) => {
  const table = await importOriginal<typeof import('../../lambda/core/job-options.js')>();
  const { count } = await import('../../lambda/core/option-kinds.js');
  const hostRate = {
    kind: count(0, 100),
    default: 0,
    flag: '--host-rate <n>',
    doc: 'requests per second to one host, 0 for no limit',
    deployed: 'jobDefaults',
  };
  return { ...table, JOB_OPTIONS: { ...table.JOB_OPTIONS, hostRate } };
});

type WithRate = { hostRate?: number };
const WORKER = {
  FANOUT_BUCKET: 'bkt',
  FANOUT_TABLE: 'tbl',
  FANOUT_QUEUE_URL: 'https://sqs/q',
  FANOUT_DISPATCHER_FUNCTION: 'disp',
};
describe('a row added to the option table', () => {
  it('has a default and a range', () => {
    expect((DEFAULT_OPTIONS as WithRate).hostRate).toBe(0);
    expect(OPTION_LIMITS).toHaveProperty('hostRate', { min: 0, max: 100 });
  });

  it('is a flag of fanout run, submit and retry, with its default in help', () => {
    const help = (command: { options: readonly { long?: string; description: string }[] }) =>
      command.options.find((o) => o.long === '--host-rate')?.description;
    expect(help(runCommand())).toBe('requests per second to one host, 0 for no limit (default: 0)');
    expect(help(submitCommand())).toBe(
      "requests per second to one host, 0 for no limit (default: the deployment's)",
    );
    expect(help(retryCommand())).toMatch(/\(default: the original job's\)$/);
  });

  it('is read from the command line and checked, naming the flag', () => {
    const parse = (...args: string[]) => {
      const command = runCommand()
        .exitOverride()
        .action(() => {});
      command.parse(['urls.txt', ...args], { from: 'user' });
      return optionsFromFlags(command.opts()) as WithRate;
    };
    expect(parse('--host-rate', '5').hostRate).toBe(5);
    expect(parse().hostRate).toBe(0);
    expect(() => parse('--host-rate', 'fast')).toThrow('--host-rate: expected a whole number, got "fast"');
    expect(() => parse('--host-rate', '101')).toThrow(
      '--host-rate: must be an integer from 0 to 100, got 101',
    );
  });

  it("is an API field, over the deployment's default and within its maxima", () => {
    const policy = {
      bucket: 'b',
      defaults: { ...DEFAULT_OPTIONS, allow: [] },
      limits: OPTION_LIMITS,
      allowPrivate: false,
    };
    const submit = (options: object) =>
      parseSubmission(JSON.stringify({ urls: ['https://e.com/'], options }), policy).request
        .options as WithRate;
    expect(submit({ hostRate: 5 }).hostRate).toBe(5);
    expect(submit({}).hostRate).toBe(0);
    expect(() => submit({ hostRate: 101 })).toThrow(
      'options.hostRate: must be an integer from 0 to 100, got 101',
    );
  });

  it("is a job default and a maximum of the construct's props", () => {
    const props = { jobDefaults: { hostRate: 5 }, jobMaxima: { hostRate: 10 } } as object;
    const settings = resolveFetcherSettings(props);
    expect(settings.jobDefaults).toMatchObject({ hostRate: 5 });
    expect(settings.jobMaxima).toMatchObject({ hostRate: 10 });
    expect(() => resolveFetcherSettings({ jobDefaults: { hostRate: -1 } } as object)).toThrow(
      'jobDefaults.hostRate must be an integer from 0 to 100, got -1',
    );
    expect(() =>
      resolveFetcherSettings({ jobDefaults: { hostRate: 20 }, jobMaxima: { hostRate: 10 } } as object),
    ).toThrow('jobMaxima.hostRate (10) is below the default (20)');
  });

  it('is read from FANOUT_JOB_DEFAULTS and capped by FANOUT_JOB_MAXIMA', () => {
    const config = readConfig({
      ...WORKER,
      FANOUT_JOB_DEFAULTS: '{"hostRate": 5}',
      FANOUT_JOB_MAXIMA: '{"hostRate": 10}',
    });
    expect((config.jobDefaults as WithRate).hostRate).toBe(5);
    expect(config.jobLimits).toHaveProperty('hostRate', { min: 0, max: 10 });
    const env = { ...WORKER, FANOUT_JOB_DEFAULTS: '{"hostRate": 11}', FANOUT_JOB_MAXIMA: '{"hostRate": 10}' };
    expect(() => readConfig(env)).toThrow(
      /^fanout configuration: FANOUT_JOB_DEFAULTS: hostRate: must be an integer from 0 to 10, got 11$/,
    );
  });
});
