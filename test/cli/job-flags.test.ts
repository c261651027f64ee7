import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { givenJobOptions, optionsFromFlags } from '../../lambda/cli/job-flags.js';
import { submitCommand } from '../../lambda/cli/remote/submit-command.js';
import { runCommand } from '../../lambda/cli/run-command.js';
import { DEFAULT_OPTIONS } from '../../lambda/core/options.js';

/** A command's flag values after parsing `args`, without running its action. */
function parsed(command: Command, args: string[]): Command {
  command.exitOverride().action(() => {});
  command.parse(['list.txt', ...args], { from: 'user' });
  return command;
}

describe('optionsFromFlags (fanout run)', () => {
  const options = (...args: string[]) => optionsFromFlags(parsed(runCommand(), args).opts());

  it('no flags: the defaults', () => {
    expect(options()).toEqual(DEFAULT_OPTIONS);
  });

  it('reads each kind of flag into its option', () => {
    expect(
      options(
        '-c',
        '16',
        '--timeout',
        '2m',
        '--max-body',
        '1MiB',
        '--body',
        'store',
        '--dedupe',
        '--allow',
        '10.0.0.0/8',
        '--allow',
        '127.0.0.1',
        '--user-agent',
        'me',
      ),
    ).toMatchObject({
      concurrency: 16,
      perHost: 8,
      timeoutMs: 120_000,
      maxBodyBytes: 1024 * 1024,
      body: 'store',
      dedupe: true,
      allow: ['10.0.0.0/8', '127.0.0.1'],
      userAgent: 'me',
    });
  });

  it('names every problem by its flag, all at once', () => {
    expect(() => options('--retries', '11', '--timeout', '50ms')).toThrow(
      'options: 2 problems\n  --timeout: must be an integer from 100 to 900000 ms, got 50\n  --retries: must be an integer from 0 to 10, got 11',
    );
  });
});

describe('givenJobOptions (submit, retry)', () => {
  const given = (...args: string[]) => givenJobOptions(parsed(submitCommand(), args));

  it('only the flags typed, with the flags they came from', () => {
    expect(given('--retries', '1', '--format', 'csv')).toEqual({
      options: { retries: 1 },
      flags: ['--retries', '--format'],
    });
    expect(given()).toEqual({ options: {}, flags: [] });
  });

  it('checks each typed value, naming the flag', () => {
    expect(() => given('--concurrency', '0')).toThrow(
      '--concurrency: must be an integer from 1 to 900, got 0',
    );
    expect(() => given('--concurrency', '4', '--per-host', '5')).toThrow(
      '--per-host: must not exceed concurrency (4), got 5',
    );
  });

  it('leaves a relation with an option not typed to the deployment, whose default it does not know', () => {
    // fanout run's concurrency (256) is not the deployment's.
    expect(given('--per-host', '300').options).toEqual({ perHost: 300 });
  });
});
