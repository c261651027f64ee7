import { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { jobAccess } from './job-access.js';
import { progressText } from './job-view.js';
import { remoteAction } from './remote-error.js';
import { addTargetFlags, Target, type TargetFlags } from './target.js';

interface CancelFlags extends TargetFlags {
  json?: boolean;
}

/** `fanout cancel`: asks a running job to stop (DELETE /jobs/{id}, or cancelRequested on the table). */
export function cancelCommand(): Command {
  const command = new Command('cancel')
    .description('ask a running job to stop; the URLs not yet fetched are recorded as CANCELLED')
    .argument('<jobId>', 'the job id')
    .option('--json', 'print the job as JSON');
  return addTargetFlags(command).action(
    remoteAction(async (jobId: string, flags: CancelFlags) => {
      const view = await (await jobAccess(new Target(flags))).cancel(jobId);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(view, null, 2)}\n`
          : `cancel requested for job ${jobId} (${view.status}: ${progressText(view)}); the rest will be recorded as CANCELLED\n`,
      );
      return EXIT.OK;
    }),
  );
}
