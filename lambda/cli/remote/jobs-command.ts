import { paginateScan } from '@aws-sdk/client-dynamodb';
import { Command } from 'commander';
import { toJobState } from '../../adapters/aws/dynamo-attributes.js';
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

const ATTRIBUTES = [
  'pk',
  'jobId',
  'status',
  'chunksDone',
  'totalChunks',
  'accepted',
  'invalid',
  'urlsDone',
  'urlsFailed',
  'createdAt',
  'updatedAt',
  'error',
  'cancelRequested',
];

/**
 * Every job item of the table, newest first. A Scan: the table is keyed by job id only. Job
 * items are told from chunk markers (`job#<id>#chunk#<n>`) by their status attribute.
 */
export async function listJobs(target: Target, tableName: string): Promise<JobState[]> {
  const jobs: JobState[] = [];
  const pages = paginateScan(
    { client: target.dynamodb, pageSize: 1000 },
    {
      TableName: tableName,
      FilterExpression: 'attribute_exists(#status)',
      ProjectionExpression: ATTRIBUTES.map((a) => `#${a}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(ATTRIBUTES.map((a) => [`#${a}`, a])),
    },
  );
  for await (const page of pages) for (const item of page.Items ?? []) jobs.push(toJobState(item));
  return jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.jobId.localeCompare(a.jobId));
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
      const jobs = (await listJobs(target, table)).slice(0, flags.limit);
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
