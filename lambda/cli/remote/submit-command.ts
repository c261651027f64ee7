import { Command } from 'commander';
import type { InputFormat } from '../../core/input/parse-input.js';
import { EXIT } from '../exit-codes.js';
import { givenJobOptions, inputFormatOption, jobOptionFlags } from '../job-flags.js';
import { remoteAction } from './remote-error.js';
import { type Submitted, submitList } from './submission.js';
import { addTargetFlags, Target, type TargetFlags } from './target.js';

interface SubmitFlags extends TargetFlags {
  jobId?: string;
  upload?: boolean;
  key?: string;
  format: InputFormat;
  json?: boolean;
}

/** Prints a started job: its id on stdout (or JSON), a hint on a terminal's stderr. */
export function printSubmitted(
  submitted: Submitted & { retried?: Record<string, number> },
  json: boolean | undefined,
): void {
  process.stdout.write(json ? `${JSON.stringify(submitted)}\n` : `${submitted.jobId}\n`);
  if (process.stderr.isTTY && !json) {
    const how = submitted.via === 'api' ? 'through the jobs API' : `by upload to ${submitted.source}`;
    process.stderr.write(
      `fanout: job ${submitted.jobId} submitted ${how}; follow it with: fanout status ${submitted.jobId} --watch\n`,
    );
  }
}

/** `fanout submit`: starts a job on the deployed stack from a local file or an s3:// list; prints its id. */
export function submitCommand(): Command {
  const command = new Command('submit')
    .description(
      'start a job on the deployed stack from a local list or s3://bucket/key; prints the job id.\n' +
        "Job options left out take the deployment's defaults.",
    )
    .argument(
      '<list>',
      'a .txt, .csv or .jsonl file (gzip-compressed too), or s3://bucket/key (needs the API)',
    )
    .option('--job-id <id>', 'job id (API only; default: time + random)')
    .option('--upload', "upload to inputs/ even when the stack has an API (deployment's default options)")
    .option('--key <name>', 'object name under inputs/ for an upload (default: the file name)')
    .option('--json', 'print {"jobId", "via", "source"} instead of the bare job id')
    .addOption(inputFormatOption());
  for (const option of jobOptionFlags("the deployment's")) command.addOption(option);
  return addTargetFlags(command).action(
    remoteAction(async (list: string, flags: SubmitFlags, self: Command) => {
      const { options, flags: apiOnlyFlags } = givenJobOptions(self);
      const typedFormat = self.getOptionValueSource('format') === 'cli';
      const submitted = await submitList(new Target(flags), {
        source: list,
        options,
        apiOnlyFlags,
        upload: flags.upload === true,
        ...(typedFormat && { format: flags.format }),
        ...(flags.jobId !== undefined && { jobId: flags.jobId }),
        ...(flags.key !== undefined && { key: flags.key }),
      });
      printSubmitted(submitted, flags.json);
      return EXIT.OK;
    }),
  );
}
