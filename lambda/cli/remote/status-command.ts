import { Command, Option } from 'commander';
import { InvalidOptionError } from '../../core/errors.js';
import type { JobView } from '../../core/job/job-view.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { parseDuration } from '../flag-parsers.js';
import { jobAccess } from './job-access.js';
import { exitCodeOf, renderJob } from './job-view.js';
import { remoteAction } from './remote-error.js';
import { addTargetFlags, Target, type TargetFlags } from './target.js';
import { watchJob } from './watch.js';

interface StatusFlags extends TargetFlags {
  watch?: boolean;
  interval: number;
  json?: boolean;
  exitStatus?: boolean;
}

const INTERVAL = { min: 200, max: 60_000 } as const;

/**
 * status's exit code: 0 when the job has results to read (succeeded or completed with
 * errors) or is still going, so `status --watch && results` reaches the results; 4 when it
 * failed, 130 when it was cancelled. With --exit-status, the outcome as `fanout run` gives
 * it: 1 when it completed with errors.
 */
export function statusExitCode(view: Pick<JobView, 'status'>, exitStatus: boolean): ExitCode {
  if (view.status === 'completed_with_errors' && !exitStatus) return EXIT.OK;
  return exitCodeOf(view);
}

/** Prints a job: the short form, or GET /jobs/{id}'s JSON. */
export function printJob(view: JobView, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(view, null, 2)}\n` : `${renderJob(view)}\n`);
}

/** `fanout status`: a job's state and progress; with --watch, a progress bar until it ends. */
export function statusCommand(): Command {
  const command = new Command('status')
    .description("show a job's state and progress; --watch follows it until it ends")
    .argument('<jobId>', 'the job id that submit printed')
    .option('-w, --watch', 'poll until the job ends (progress on stderr)')
    .addOption(
      new Option('--interval <duration>', 'time between polls with --watch')
        .argParser(parseDuration('--interval'))
        .default(2000, '2s'),
    )
    .option('--json', "print the job as JSON (GET /jobs/{id}'s shape)")
    .option(
      '--exit-status',
      'exit as `fanout run` does: 1 when the job completed with errors (0 without this flag)',
    );
  return addTargetFlags(command).action(
    remoteAction(async (jobId: string, flags: StatusFlags) => {
      if (flags.interval < INTERVAL.min || flags.interval > INTERVAL.max) {
        throw new InvalidOptionError(
          '--interval',
          `must be from ${INTERVAL.min}ms to ${INTERVAL.max / 1000}s`,
        );
      }
      const access = await jobAccess(new Target(flags));
      const display = process.stderr.isTTY ? 'bar' : flags.json ? 'none' : 'lines';
      const view = flags.watch
        ? await watchJob(access, jobId, { intervalMs: flags.interval, display })
        : await access.get(jobId);
      printJob(view, flags.json);
      return statusExitCode(view, flags.exitStatus === true);
    }),
  );
}
