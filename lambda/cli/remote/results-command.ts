import { Command } from 'commander';
import { InvalidOptionError } from '../../core/errors.js';
import { jobKeys } from '../../core/job/keys.js';
import { EXIT } from '../exit-codes.js';
import { requireFinished } from './finished-job.js';
import { RemoteError, remoteAction } from './remote-error.js';
import { openObject, streamBody } from './streaming.js';
import { addTargetFlags, Target, type TargetFlags } from './target.js';

interface ResultsFlags extends TargetFlags {
  failed?: boolean;
  invalid?: boolean;
  out?: string;
}

/** `fanout results`: streams a finished job's records (or its failures, or its invalid lines) as JSONL. */
export function resultsCommand(): Command {
  const command = new Command('results')
    .description("stream a finished job's results as JSON lines (gunzipped), or its failures")
    .argument('<jobId>', 'the job id')
    .option('--failed', 'the records that ended in an error (failed.jsonl: input for a new job)')
    .option('--invalid', 'the rejected input lines (invalid.jsonl.gz)')
    .option('-o, --out <file>', 'write to a file instead of stdout');
  return addTargetFlags(command).action(
    remoteAction(async (jobId: string, flags: ResultsFlags) => {
      if (flags.failed && flags.invalid)
        throw new InvalidOptionError('--failed', 'give --failed or --invalid, not both');
      const target = new Target(flags);
      const { bucket } = await target.resolve(['bucket']);
      await requireFinished(target, bucket, jobId);
      const key = flags.failed
        ? jobKeys.failed(jobId)
        : flags.invalid
          ? jobKeys.invalid(jobId)
          : jobKeys.results(jobId);
      const body = await openObject(target.s3, bucket, key);
      if (!body) throw new RemoteError('MISSING', `s3://${bucket}/${key} is missing`, EXIT.FAILED);
      await streamBody(body, { gunzip: !flags.failed, ...(flags.out !== undefined && { out: flags.out }) });
      return EXIT.OK;
    }),
  );
}
