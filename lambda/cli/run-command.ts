import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { FsObjectStore } from '../adapters/fs-object-store.js';
import { BODY_MODES, DEFAULT_OPTIONS, type JobOptions, METHODS } from '../core/defaults.js';
import { FanoutError, InvalidOptionError } from '../core/errors.js';
import { openInput } from '../core/input/open-input.js';
import { INPUT_FORMATS, type InputFormat } from '../core/input/parse-input.js';
import { isValidJobId, jobKeys, newJobId } from '../core/job/keys.js';
import { resolveOptions } from '../core/options.js';
import type { JobSummary } from '../core/summary.js';
import type { EndpointJob } from '../local/run-endpoint.js';
import { type LocalProgress, runLocalJob } from '../local/run-local.js';
import { type CommandOutcome, getExitCode } from './exit-codes.js';
import { collect, parseCount, parseDuration, parseSize } from './flag-parsers.js';
import { checkOutDir } from './out-dir.js';
import { ProgressLine } from './progress-line.js';
import { summaryScreen } from './summary-screen.js';

/** The flags of `fanout run`, as commander hands them over. */
export interface RunFlags {
  out: string;
  jobId?: string;
  format: InputFormat;
  concurrency?: number;
  perHost?: number;
  timeout?: number;
  connectTimeout?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
  retries?: number;
  maxRedirects?: number;
  maxBody?: number;
  body?: string;
  method?: string;
  chunkSize?: number;
  dedupe?: boolean;
  allowPrivate?: boolean;
  allow?: string[];
  userAgent?: string;
  quiet?: boolean;
  json?: boolean;
  endpoint?: string;
  region?: string;
}

const d = DEFAULT_OPTIONS;

/** `fanout run`: the whole job on this machine, written under --out. */
export function runCommand(): Command {
  return new Command('run')
    .description(
      'fetch every URL of a list on this machine (or through the AWS pipeline with --endpoint) and write the job under --out',
    )
    .argument('<input>', "URL list: .txt, .csv or .jsonl, optionally gzip-compressed; '-' reads stdin")
    .option('-o, --out <dir>', 'output directory; the job lands in <dir>/jobs/<jobId>/', './fanout-out')
    .option(
      '--job-id <id>',
      'job id (letters, digits, . _ -); re-running an id keeps the parts already fetched',
    )
    .addOption(new Option('--format <format>', 'input format').choices(INPUT_FORMATS).default('auto'))
    .option(
      '-c, --concurrency <n>',
      `requests in flight at once (default: ${d.concurrency})`,
      parseCount('--concurrency'),
    )
    .option(
      '--per-host <n>',
      `requests in flight per host name (default: ${d.perHost})`,
      parseCount('--per-host'),
    )
    .option(
      '--timeout <duration>',
      `total time per URL, retries included (default: ${d.timeoutMs / 1000}s)`,
      parseDuration('--timeout'),
    )
    .option(
      '--connect-timeout <duration>',
      `connect timeout per attempt (default: ${d.connectTimeoutMs / 1000}s)`,
      parseDuration('--connect-timeout'),
    )
    .option(
      '--headers-timeout <duration>',
      `wait for response headers (default: ${d.headersTimeoutMs / 1000}s)`,
      parseDuration('--headers-timeout'),
    )
    .option(
      '--body-timeout <duration>',
      `longest silence inside a body (default: ${d.bodyTimeoutMs / 1000}s)`,
      parseDuration('--body-timeout'),
    )
    .option(
      '--retries <n>',
      `retries for network errors, 408, 429, 5xx (default: ${d.retries})`,
      parseCount('--retries'),
    )
    .option(
      '--max-redirects <n>',
      `redirects followed (default: ${d.maxRedirects})`,
      parseCount('--max-redirects'),
    )
    .option(
      '--max-body <size>',
      `largest decoded body, e.g. 512KiB (default: ${d.maxBodyBytes / 1024 / 1024}MiB)`,
      parseSize('--max-body'),
    )
    .addOption(new Option('--body <mode>', `what to keep of bodies (default: ${d.body})`).choices(BODY_MODES))
    .addOption(new Option('--method <method>', `HTTP method (default: ${d.method})`).choices(METHODS))
    .option('--chunk-size <n>', `URLs per chunk (default: ${d.chunkSize})`, parseCount('--chunk-size'))
    .option('--dedupe', 'skip exact duplicate URLs (reported as DUPLICATE in invalid.jsonl.gz)')
    .option('--allow-private', 'allow loopback, private and link-local targets (local testing only)')
    .option('--allow <cidr>', 'allow one blocked range, e.g. 127.0.0.0/8 (repeatable)', collect)
    .option('--user-agent <ua>', 'User-Agent header', d.userAgent)
    .option(
      '--endpoint <url>',
      'run the AWS pipeline (S3, SQS, DynamoDB and the Lambda handlers) against this AWS-compatible endpoint',
    )
    .option('--region <name>', 'region for --endpoint (default: AWS_REGION or us-east-1)')
    .option('-q, --quiet', 'no progress line and no summary screen')
    .option('--json', 'print summary.json to stdout instead of the summary screen')
    .action(async (input: string, flags: RunFlags, command: Command) => {
      command.setOptionValue('exitCode', await runAction(input, flags));
    });
}

/** The flag that sets each job option. */
const FLAG_OF: Partial<Record<keyof JobOptions, string>> = {
  concurrency: '--concurrency',
  perHost: '--per-host',
  timeoutMs: '--timeout',
  connectTimeoutMs: '--connect-timeout',
  headersTimeoutMs: '--headers-timeout',
  bodyTimeoutMs: '--body-timeout',
  retries: '--retries',
  maxRedirects: '--max-redirects',
  maxBodyBytes: '--max-body',
  body: '--body',
  method: '--method',
  chunkSize: '--chunk-size',
  allow: '--allow',
  userAgent: '--user-agent',
};

/** Rewrites option names in a validation message into the flags the user typed. */
function inFlagTerms(err: InvalidOptionError): InvalidOptionError {
  const rename = (name: string) => FLAG_OF[name as keyof JobOptions] ?? name;
  // A multi-problem detail lists one "option: problem" per line.
  const detail = err.detail.replace(
    /^(\s+)(\w+):/gm,
    (_all, indent: string, name: string) => `${indent}${rename(name)}:`,
  );
  return new InvalidOptionError(rename(err.option), detail);
}

/** Translates flags into job options; throws InvalidOptionError naming the flag. */
export function optionsFromFlags(flags: RunFlags): JobOptions {
  try {
    return resolveFlags(flags);
  } catch (err) {
    throw err instanceof InvalidOptionError ? inFlagTerms(err) : err;
  }
}

/** The job option each `fanout run` flag sets, by the flag's commander attribute name. */
export const JOB_OPTION_OF = {
  concurrency: 'concurrency',
  perHost: 'perHost',
  timeout: 'timeoutMs',
  connectTimeout: 'connectTimeoutMs',
  headersTimeout: 'headersTimeoutMs',
  bodyTimeout: 'bodyTimeoutMs',
  retries: 'retries',
  maxRedirects: 'maxRedirects',
  maxBody: 'maxBodyBytes',
  body: 'body',
  method: 'method',
  chunkSize: 'chunkSize',
  dedupe: 'dedupe',
  allowPrivate: 'allowPrivate',
  allow: 'allow',
  userAgent: 'userAgent',
} as const satisfies Partial<Record<keyof RunFlags, keyof JobOptions>>;

function resolveFlags(flags: RunFlags): JobOptions {
  const given: Record<string, unknown> = { dedupe: false, allowPrivate: false, allow: [] };
  for (const [attribute, option] of Object.entries(JOB_OPTION_OF)) {
    const value = flags[attribute as keyof RunFlags];
    if (value !== undefined) given[option] = value;
  }
  return resolveOptions(given);
}

async function runAction(input: string, flags: RunFlags): Promise<number> {
  const options = optionsFromFlags(flags);
  const jobId = flags.jobId ?? newJobId();
  if (!isValidJobId(jobId)) {
    throw new InvalidOptionError(
      '--job-id',
      'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  await checkOutDir(flags.out, jobId);
  const source = await openInput(input);
  const store = new FsObjectStore(flags.out);
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
  const progress = flags.quiet || flags.json ? null : new ProgressLine();
  const job = {
    jobId,
    source: input,
    format: flags.format,
    options,
    input: source,
    signal: interrupt.signal,
    ...(progress && { onProgress: (p: LocalProgress) => progress.update(p) }),
  };
  try {
    const summary = flags.endpoint
      ? await endpointSummary({
          ...job,
          endpoint: flags.endpoint,
          out: store,
          ...(flags.region && { region: flags.region }),
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
  }
}

/** The job run on an AWS-compatible endpoint; a job that ended failed is an error naming why. */
async function endpointSummary(job: EndpointJob): Promise<JobSummary> {
  // Loaded on demand: the AWS SDK behind it adds ~0.25 s to the start of every local run.
  const { runOnEndpoint } = await import('../local/run-endpoint.js');
  const { state, summary } = await runOnEndpoint(job);
  if (!summary) {
    throw new FanoutError(
      'JOB_FAILED',
      `job ${job.jobId} ${state.status}: ${state.error ?? 'no summary was written'}`,
    );
  }
  return summary;
}
