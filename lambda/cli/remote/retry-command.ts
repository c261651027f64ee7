import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { FETCH_ERROR_CODES, type FetchErrorCode, InvalidOptionError } from '../../core/errors.js';
import type { JobRequest } from '../../core/job/job-request.js';
import { jobKeys } from '../../core/job/keys.js';
import type { JobOptions } from '../../core/job-options.js';
import type { FailedLine } from '../../core/record.js';
import { plural } from '../../core/report/format.js';
import { EXIT } from '../exit-codes.js';
import { givenJobOptions, jobOptionFlags } from '../job-flags.js';
import { requireFinished } from './finished-job.js';
import { RemoteError, remoteAction } from './remote-error.js';
import { jsonLines, openObject } from './streaming.js';
import { submitList } from './submission.js';
import { printSubmitted } from './submit-command.js';
import { addTargetFlags, Target, type TargetFlags } from './target.js';

interface RetryFlags extends TargetFlags {
  codes?: string;
  jobId?: string;
  upload?: boolean;
  json?: boolean;
}

/** Parses `--codes HTTP_STATUS,dns`: known fetch error codes (any case); names every unknown one. */
export function parseCodes(text: string): Set<FetchErrorCode> {
  const codes = text
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter((c) => c !== '');
  const unknown = codes.filter((c) => !(c in FETCH_ERROR_CODES));
  if (unknown.length > 0 || codes.length === 0) {
    throw new InvalidOptionError(
      '--codes',
      `${unknown.length > 0 ? `unknown error code ${unknown.join(', ')}` : 'no code given'}; known: ${Object.keys(FETCH_ERROR_CODES).join(', ')}`,
    );
  }
  return new Set(codes as FetchErrorCode[]);
}

/** The failures picked for a retry: a JSONL input file ({url, id, meta}) and the count per code. */
interface Selection {
  path: string;
  counts: Map<string, number>;
  total: number;
}

/** Streams the job's failed.jsonl into `dir`, keeping the records whose code is in `codes` (all when null). */
async function selectFailures(
  target: Target,
  location: { bucket: string; jobId: string; dir: string },
  codes: Set<FetchErrorCode> | null,
): Promise<Selection> {
  const { bucket, jobId, dir } = location;
  const body = await openObject(target.s3, bucket, jobKeys.failed(jobId));
  if (!body)
    throw new RemoteError('MISSING', `s3://${bucket}/${jobKeys.failed(jobId)} is missing`, EXIT.FAILED);
  // Named after the job and the codes: an upload of the same selection is the same job.
  const path = join(
    dir,
    `${jobId}-retry${codes ? `-${[...codes].sort().join('-').toLowerCase()}` : ''}.jsonl`,
  );
  const counts = new Map<string, number>();
  const out = createWriteStream(path);
  for await (const line of jsonLines<FailedLine>(body)) {
    const code = line.error?.code;
    if (codes && !codes.has(code)) continue;
    counts.set(code, (counts.get(code) ?? 0) + 1);
    const item = {
      url: line.url,
      ...(line.id !== undefined && { id: line.id }),
      ...(line.meta && { meta: line.meta }),
    };
    if (!out.write(`${JSON.stringify(item)}\n`)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  return { path, counts, total: [...counts.values()].reduce((a, b) => a + b, 0) };
}

/** The original job's options (job.json), which the retry keeps unless a flag overrides them. */
async function originalOptions(target: Target, bucket: string, jobId: string): Promise<Partial<JobOptions>> {
  const body = await openObject(target.s3, bucket, jobKeys.request(jobId));
  if (!body) return {};
  const request = JSON.parse(Buffer.concat(await body.toArray()).toString('utf8')) as JobRequest;
  return request.options ?? {};
}

/** `fanout retry`: a new job from a finished job's failures, optionally only some error codes. */
export function retryCommand(): Command {
  const command = new Command('retry')
    .description("start a new job from a finished job's failed URLs (with their id and meta); prints its id")
    .argument('<jobId>', 'the finished job')
    .option('--codes <codes>', 'only failures with these error codes, comma-separated, e.g. HTTP_STATUS,DNS')
    .option('--job-id <id>', 'id of the new job (API only; default: time + random)')
    .option('--upload', "upload to inputs/ even when the stack has an API (deployment's default options)")
    .option('--json', 'print {"jobId", "via", "source", "retried"} instead of the bare job id');
  for (const option of jobOptionFlags("the original job's")) command.addOption(option);
  return addTargetFlags(command).action(
    remoteAction(async (jobId: string, flags: RetryFlags, self: Command) => {
      const codes = flags.codes === undefined ? null : parseCodes(flags.codes);
      const given = givenJobOptions(self);
      const target = new Target(flags);
      const { bucket } = await target.resolve(['bucket']);
      await requireFinished(target, bucket, jobId);
      const dir = await mkdtemp(join(tmpdir(), 'fanout-retry-'));
      try {
        const { path, counts, total } = await selectFailures(target, { bucket, jobId, dir }, codes);
        if (total === 0) {
          const which = codes ? ` with code ${[...codes].join(', ')}` : '';
          process.stderr.write(`fanout: job ${jobId} has no failed URLs${which}; no job submitted\n`);
          return EXIT.OK;
        }
        const breakdown = [...counts].map(([code, n]) => `${code}: ${n}`).join(', ');
        process.stderr.write(
          `fanout: retrying ${plural(total, 'failed URL')} of job ${jobId} (${breakdown})\n`,
        );
        const submitted = await submitList(target, {
          source: path,
          options: { ...(await originalOptions(target, bucket, jobId)), ...given.options },
          apiOnlyFlags: given.flags,
          upload: flags.upload === true,
          ...(flags.jobId !== undefined && { jobId: flags.jobId }),
        });
        printSubmitted(
          flags.json ? { ...submitted, retried: Object.fromEntries(counts) } : submitted,
          flags.json,
        );
        return EXIT.OK;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
  );
}
