import { Command } from 'commander';
import { DynamoJobStore } from '../../adapters/aws/dynamo-job-store.js';
import { InvalidOptionError } from '../../core/errors.js';
import { toJobView } from '../../core/job/job-view.js';
import type { JobState } from '../../core/ports.js';
import { EXIT } from '../exit-codes.js';
import { parseCount } from '../flag-parsers.js';
import { remoteAction } from './remote-error.js';
import { addTargetFlags, Target, type TargetFlags } from './target.js';

interface JobsFlags extends TargetFlags {
  limit: number;
  json?: boolean;
}

/**
 * The newest `limit` jobs of the table, newest first: a Query on the contract's jobs-by-created
 * index (job items only), then each job's counter shards for its counts.
 */
export async function listJobs(target: Target, tableName: string, limit: number): Promise<JobState[]> {
  return new DynamoJobStore({ client: target.dynamodb, tableName }).listNewest(limit);
}

/** The jobs as an aligned table: id, status, URLs done/total, failed, created. */
export function renderJobs(jobs: readonly JobState[]): string {
  const rows = jobs.map((job) => [
    job.jobId,
    job.status,
    `${job.urlsDone}/${job.totalChunks === null ? `${job.accepted}+` : job.accepted}`,
    String(job.urlsFailed),
    job.createdAt,
  ]);
  const all = [['JOB', 'STATUS', 'DONE/TOTAL', 'FAILED', 'CREATED'], ...rows];
  const widths = all[0]?.map((_, column) => Math.max(...all.map((row) => row[column]?.length ?? 0))) ?? [];
  return all
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `fanout jobs`: the recent jobs of the deployment and their state. */
export function jobsCommand(): Command {
  const command = new Command('jobs')
    .description('list recent jobs and their state, newest first')
    .option('-n, --limit <n>', 'show at most this many jobs', parseCount('--limit'), 20)
    .option('--json', 'print the jobs as a JSON array');
  return addTargetFlags(command).action(
    remoteAction(async (flags: JobsFlags) => {
      if (flags.limit < 1) throw new InvalidOptionError('--limit', 'must be at least 1');
      const target = new Target(flags);
      const { table, bucket } = await target.resolve(['table'], ['bucket']);
      const jobs = await listJobs(target, table, flags.limit);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify(
            jobs.map((job) => toJobView(job, { bucket })),
            null,
            2,
          )}\n`,
        );
      } else if (jobs.length === 0) {
        process.stderr.write(`fanout: no jobs in table ${table}\n`);
      } else {
        process.stdout.write(`${renderJobs(jobs)}\n`);
      }
      return EXIT.OK;
    }),
  );
}
