import { existsSync, rmSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { FsObjectStore } from '../adapters/fs-object-store.js';
import { FanoutError, InvalidOptionError } from '../core/errors.js';
import { referenceProblem } from '../core/headers/header-values.js';
import type { InputFormat } from '../core/input/parse-input.js';
import { isValidJobId, jobKeys, newJobId } from '../core/job/keys.js';
import { count } from '../core/option-kinds.js';
import type { JobSummary } from '../core/summary.js';
import { digestInput, removeSpool } from '../local/input-digest.js';
import type { EndpointJob } from '../local/run-endpoint.js';
import { type LocalProgress, runLocalJob } from '../local/run-local.js';
import { type CommandOutcome, getExitCode } from './exit-codes.js';
import { inputFormatOption, jobOptionFlags, optionsFromFlags } from './job-flags.js';
import { checkOutDir } from './out-dir.js';
import { ProgressLine } from './progress-line.js';
import { summaryScreen } from './summary-screen.js';

/** The flags of `fanout run`, as commander hands them over, besides the job options' (job-flags.ts). */
export interface RunFlags {
  out: string;
  jobId?: string;
  format: InputFormat;
  quiet?: boolean;
  json?: boolean;
  endpoint?: string;
  template?: string;
  region?: string;
  workers?: number;
}

/** How many worker instances `--workers` may run at once. */
const MAX_WORKERS = 64;
const WORKERS = count(1, MAX_WORKERS);

function parseWorkers(text: string): number {
  const workers = WORKERS.parse(text, '--workers');
  const problem = WORKERS.check(workers);
  if (problem) throw new InvalidOptionError('--workers', problem);
  return workers;
}

/** `fanout run`: the whole job on this machine, written under --out. */
export function runCommand(): Command {
  const command = new Command('run')
    .description(
      'fetch every URL of a list on this machine (or through the AWS pipeline with --endpoint) and write the job under --out',
    )
    .argument('<input>', "URL list: .txt, .csv or .jsonl, optionally gzip-compressed; '-' reads stdin")
    .option('-o, --out <dir>', 'output directory; the job lands in <dir>/jobs/<jobId>/', './fanout-out')
    .option(
      '--job-id <id>',
      'job id (letters, digits, . _ -); re-running an id with the same list and options resumes the job',
    )
    .addOption(inputFormatOption());
  for (const flag of jobOptionFlags('table')) command.addOption(flag);
  return command
    .option(
      '--endpoint <url>',
      'run the AWS pipeline (S3, SQS, DynamoDB and the Lambda handlers) against this AWS-compatible endpoint',
    )
    .option(
      '--template <dir>',
      'for --endpoint: the cdk.out folder (`cdk synth`) of the stack to emulate (default: the default stack, synthesized here)',
    )
    .option('--region <name>', 'region for --endpoint (default: AWS_REGION or us-east-1)')
    .option(
      '--workers <n>',
      `worker instances for --endpoint, each isolated as a Lambda instance is (1-${MAX_WORKERS}; default: concurrency / chunk size + 1, at least 2)`,
      parseWorkers,
    )
    .option('-q, --quiet', 'no progress line and no summary screen')
    .option('--json', 'print summary.json to stdout instead of the summary screen')
    .action(async (input: string, flags: RunFlags, command: Command) => {
      command.setOptionValue('exitCode', await runAction(input, flags));
    });
}

async function runAction(input: string, flags: RunFlags): Promise<number> {
  const options = optionsFromFlags(flags);
  const headerProblem = referenceProblem(options.headers, flags.endpoint ? 'deployed' : 'local');
  if (headerProblem) throw new InvalidOptionError('--header', headerProblem);
  if (flags.workers !== undefined && !flags.endpoint) {
    throw new InvalidOptionError(
      '--workers',
      'needs --endpoint: it sets how many worker instances run the AWS pipeline (a run on this machine uses --concurrency)',
    );
  }
  if (flags.template !== undefined) {
    if (!flags.endpoint)
      throw new InvalidOptionError(
        '--template',
        'needs --endpoint: it names the stack the AWS pipeline emulates',
      );
    await checkTemplate(flags.template);
  }
  const jobId = flags.jobId ?? newJobId();
  if (!isValidJobId(jobId)) {
    throw new InvalidOptionError(
      '--job-id',
      'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  // A run refused before it wrote anything (a binary stdin) leaves no empty --out behind.
  const outExisted = existsSync(flags.out);
  await checkOutDir(flags.out, jobId);
  const store = new FsObjectStore(flags.out);
  const spoolPath = store.pathOf(`.stdin-${process.pid}.spool`);
  // A second Ctrl-C exits at once: leave no half-written file behind.
  const onExit = () => {
    store.discardTempFilesSync();
    rmSync(spoolPath, { force: true });
  };
  process.on('exit', onExit);
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(
      '\nfanout: cancelling; URLs not yet fetched are recorded as CANCELLED (Ctrl-C again to quit now)\n',
    );
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  let progress: ProgressLine | null = null;
  try {
    // The list's digest is part of the job's identity: known before the job id is claimed.
    const source = await digestInput(input, spoolPath);
    // Files a run killed mid-write left (a second Ctrl-C): no live process writes them.
    await store.sweepTempFiles(jobKeys.prefix(jobId));
    progress = flags.quiet || flags.json ? null : new ProgressLine();
    const bar = progress;
    const job = {
      jobId,
      source: input,
      format: flags.format,
      options,
      input: await source.open(),
      inputDigest: source.digest,
      signal: interrupt.signal,
      ...(bar && { onProgress: (p: LocalProgress) => bar.update(p) }),
    };
    const summary = flags.endpoint
      ? await endpointSummary({
          ...job,
          endpoint: flags.endpoint,
          out: store,
          ...(flags.template && { template: flags.template }),
          ...(flags.region && { region: flags.region }),
          ...(flags.workers && { workers: flags.workers }),
        })
      : (await runLocalJob({ ...job, store })).summary;
    progress?.stop();
    const outputDir = store.pathOf(jobKeys.prefix(jobId));
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else if (!flags.quiet) process.stdout.write(`${await summaryScreen(summary, resolve(outputDir))}\n`);
    const outcome: CommandOutcome = {
      kind: 'finished',
      status: summary.status,
      interrupted: interrupt.signal.aborted,
    };
    return getExitCode(outcome);
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
    process.off('exit', onExit);
    await removeSpool(spoolPath);
    if (!outExisted) await rmdir(flags.out).catch(() => {});
  }
}

/** A --template that is not a synthesized stack fanout can emulate is a usage error, found before any work. */
async function checkTemplate(dir: string): Promise<void> {
  const { describeTemplate } = await import('../local/emulator/deployment-description.js');
  const { TemplateError } = await import('../local/emulator/stack-template.js');
  try {
    describeTemplate(dir);
  } catch (err) {
    if (err instanceof TemplateError) throw new InvalidOptionError('--template', err.message);
    throw err;
  }
}

/** The job run on an AWS-compatible endpoint; a job that ended failed is an error naming why. */
async function endpointSummary(job: EndpointJob): Promise<JobSummary> {
  // Loaded on demand: the AWS SDK behind it adds ~0.25 s to the start of every local run.
  const { runOnEndpoint } = await import('../local/run-endpoint.js');
  const { state, summary, report } = await runOnEndpoint(job);
  for (const d of report.denied) {
    process.stderr.write(
      `fanout: AccessDenied: the ${d.principal} function's role does not allow ${d.action} on ${d.resource} (${d.count} ${d.count === 1 ? 'call' : 'calls'})\n`,
    );
  }
  for (const e of report.eventSourceErrors)
    process.stderr.write(`fanout: event source ${e.eventSource}: ${e.error}\n`);
  if (!summary) {
    throw new FanoutError(
      'JOB_FAILED',
      `job ${job.jobId} ${state.status}: ${state.error ?? 'no summary was written'}`,
    );
  }
  return summary;
}
