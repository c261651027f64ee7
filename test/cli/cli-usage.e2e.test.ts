/**
 * The `fanout` command's contract with its caller: help that lists every option the
 * code knows, usage errors that name the flag, and the documented exit codes.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandOutcome, EXIT, getExitCode } from '../../lambda/cli/exit-codes.js';
import { runCommand } from '../../lambda/cli/run-command.js';
import type { JobManifest } from '../../lambda/core/job/job-request.js';
import { DEFAULT_OPTIONS } from '../../lambda/core/options.js';
import type { InvalidLine } from '../../lambda/core/record.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import {
  ensureCliBuilt,
  jobPaths,
  parseJsonl,
  ROOT,
  readJob,
  readJsonlGz,
  runCli,
} from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

let tmp: string;
let server: TargetServer;
let validInput: string;
/** Called when the server first sees a /hang request. */
let onFirstHang: (() => void) | undefined;

beforeAll(async () => {
  ensureCliBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fanout-usage-'));
  let signalled = false;
  const fallback = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/hang')) {
      // Never answers: the SIGINT test interrupts the CLI once a request is in flight.
      if (!signalled) {
        signalled = true;
        onFirstHang?.();
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.url}\n`);
  };
  // Long keep-alive: the client never races a server-side idle close during a test.
  server = await startTargetServer({}, { fallback, keepAliveTimeoutMs: 60_000 });
  validInput = join(tmp, 'valid.txt');
  writeFileSync(validInput, `${server.origin}/a\n`);
});

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The option terms (`-c, --concurrency <n>`) of a commander help text's Options section. */
function helpOptions(help: string): { short?: string; long: string }[] {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S.*:$/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(?:(-\w), )?(--[a-z][\w-]*)/gm)].map((m) => ({
    ...(m[1] !== undefined && { short: m[1] }),
    long: m[2]!,
  }));
}

const squash = (text: string) => text.replace(/\s+/g, ' ');

describe('help', () => {
  it('fanout --help lists the run command and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(EXIT.OK);
    expect(run.stdout).toMatch(/^Usage: fanout /);
    expect(run.stdout).toMatch(/^ {2}run \[options\] <input>/m);
    expect(run.stderr).toBe('');
  });

  it('fanout --version prints the package version', async () => {
    const run = await runCli(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run.code).toBe(EXIT.OK);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it('fanout run --help lists exactly the options run-command.ts defines', async () => {
    const run = await runCli(['run', '--help']);
    expect(run.code).toBe(EXIT.OK);
    expect(run.stdout).toMatch(/^Usage: fanout run \[options\] <input>/);
    const known = runCommand().options.map((o) => ({
      ...(o.short !== undefined && { short: o.short }),
      long: o.long!,
    }));
    known.push({ short: '-h', long: '--help' });
    const byLong = (a: { long: string }, b: { long: string }) => a.long.localeCompare(b.long);
    expect(helpOptions(run.stdout).sort(byLong)).toEqual(known.sort(byLong));
    expect(known.length).toBeGreaterThan(20);
  });

  it('fanout run --help shows each option with its description and the shared defaults', async () => {
    const run = await runCli(['run', '--help']);
    const help = squash(run.stdout);
    for (const option of runCommand().options) {
      expect(option.description, option.flags).not.toBe('');
      expect(help).toContain(`${option.flags} ${squash(option.description)}`);
    }
    const d = DEFAULT_OPTIONS;
    expect(help).toContain(`--concurrency <n> requests in flight at once (default: ${d.concurrency})`);
    expect(help).toContain(
      `--per-host <n> requests in flight per host name, across all workers (default: ${d.perHost})`,
    );
    expect(help).toContain(
      '--host-rate <n> requests per second per host name, across all workers (0: no limit)',
    );
    expect(help).toContain('--robots <mode> obey or ignore robots.txt');
    expect(help).toContain(`(default: ${d.retries})`);
    expect(help).toContain(`--chunk-size <n> URLs per chunk (default: ${d.chunkSize})`);
    expect(help).toContain(`(default: ${d.timeoutMs / 1000}s)`);
  });
});

describe('help of the commands that start a deployed job', () => {
  it.each([
    ['submit', "the deployment's"],
    ['retry', "the original job's"],
  ])("fanout %s --help says %s defaults apply, not fanout run's", async (command, whose) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(EXIT.OK);
    const help = squash(run.stdout);
    expect(help).toContain(`--concurrency <n> requests in flight at once (default: ${whose})`);
    expect(help).toContain(`--timeout <duration> total time per URL, retries included (default: ${whose})`);
    expect(help).toContain(`--body <mode> what to keep of bodies (default: ${whose})`);
    // None of fanout run's own numbers or words: a deployment has defaults of its own.
    const d = DEFAULT_OPTIONS;
    for (const local of [
      d.concurrency,
      d.perHost,
      `${d.timeoutMs / 1000}s`,
      d.chunkSize,
      d.body,
      d.userAgent,
    ]) {
      expect(help).not.toContain(`(default: ${local})`);
    }
  });
});

interface UsageCase {
  name: string;
  args: string[];
  /** What stderr must mention: the flag or the offending value. */
  names: RegExp;
}

const usageCases: UsageCase[] = [
  { name: 'a non-numeric --concurrency', args: ['--concurrency', 'abc'], names: /--concurrency.*"abc"/ },
  { name: '--concurrency 0', args: ['--concurrency', '0'], names: /concurrency: must be an integer from 1/ },
  {
    name: 'a --retries above the limit',
    args: ['--retries', '11'],
    names: /retries: must be an integer from 0 to 10/,
  },
  {
    name: '--per-host above --concurrency',
    args: ['--concurrency', '4', '--per-host', '5'],
    names: /per-?host.*must not exceed/i,
  },
  { name: 'a bad --timeout unit', args: ['--timeout', '5x'], names: /--timeout.*"5x"/ },
  { name: 'a bad --max-body unit', args: ['--max-body', '10XB'], names: /--max-body.*"10XB"/ },
  { name: 'a CIDR prefix out of range', args: ['--allow', '10.0.0.0/99'], names: /allow.*10\.0\.0\.0\/99/ },
  { name: 'a job id with a path in it', args: ['--job-id', '../escape'], names: /--job-id/ },
  {
    name: 'an unknown --body mode',
    args: ['--body', 'weird'],
    names: /--body.*weird/,
  },
  {
    name: 'an unknown --format',
    args: ['--format', 'xml'],
    names: /--format.*xml/,
  },
  { name: 'an unknown flag', args: ['--bogus'], names: /unknown option '--bogus'/ },
];

describe.each(usageCases)('run with $name', ({ name, args, names }) => {
  const outFor = (suffix: string) => join(tmp, `usage-${name.replace(/\W+/g, '-')}-${suffix}`);

  it('names the problem on stderr and writes nothing', async () => {
    const out = outFor('a');
    const run = await runCli(['run', validInput, '--out', out, '--allow', '127.0.0.1/32', ...args]);
    expect(run.stderr).toMatch(names);
    expect(run.stdout).toBe('');
    expect(run.code).not.toBe(EXIT.OK);
    expect(existsSync(out)).toBe(false);
  });

  it(`exits ${EXIT.USAGE} (USAGE)`, async () => {
    const run = await runCli(['run', validInput, '--out', outFor('b'), '--allow', '127.0.0.1/32', ...args]);
    expect(run.code).toBe(EXIT.USAGE);
  });
});

describe('usage outside run', () => {
  it('an unknown command exits 2', async () => {
    const run = await runCli(['fetch-everything']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/unknown command 'fetch-everything'/);
  });

  it('run without an input exits 2', async () => {
    const run = await runCli(['run']);
    expect(run.stderr).toMatch(/missing required argument 'input'/);
    expect(run.code).toBe(EXIT.USAGE);
  });
});

describe('input problems exit 3', () => {
  it('a missing input file, naming the path', async () => {
    const missing = join(tmp, 'no-such-dir', 'urls.txt');
    const out = join(tmp, 'out-missing');
    const run = await runCli(['run', missing, '--out', out]);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toContain(missing);
    expect(run.stderr).toMatch(/ENOENT/);
    expect(existsSync(out)).toBe(false);
  });

  it('a directory given as input', async () => {
    const run = await runCli(['run', tmp, '--out', join(tmp, 'out-dir')]);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toContain(`${tmp}: it is a directory`);
  });

  it.each([
    ['an empty file', ''],
    ['only blank lines and comments', '\n   \n# just a comment\n\t\n'],
  ])('%s (EMPTY_INPUT)', async (_name, content) => {
    const input = join(tmp, `empty-${content.length}.txt`);
    const out = join(tmp, `out-empty-${content.length}`);
    writeFileSync(input, content);
    const run = await runCli(['run', input, '--out', out, '--job-id', 'empty']);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toContain(`${input}: the input holds no URLs`);
    expect(existsSync(jobPaths(out, 'empty').manifest)).toBe(false);
    expect(existsSync(jobPaths(out, 'empty').success)).toBe(false);
  });

  it('a CSV without a url column (MISSING_URL_COLUMN)', async () => {
    const input = join(tmp, 'no-url.csv');
    writeFileSync(input, 'id,link\n1,http://example.com/\n');
    const run = await runCli(['run', input, '--out', join(tmp, 'out-csv')]);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toMatch(/no url column; found: "id", "link"/);
  });

  it('a file that looks like gzip but is not (INPUT_UNREADABLE)', async () => {
    const input = join(tmp, 'broken.txt.gz');
    writeFileSync(input, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02]));
    const run = await runCli(['run', input, '--out', join(tmp, 'out-gz')]);
    expect(run.code).toBe(EXIT.INPUT);
    expect(run.stderr).toMatch(/cannot be decompressed/);
  });
});

describe('finished jobs', () => {
  const invalidOnly = ['ftp://example.com/', 'not a url', 'javascript:void(0)'];
  const writeInvalidOnly = (out: string) => {
    const input = join(tmp, 'invalid-only.txt');
    writeFileSync(input, `${invalidOnly.join('\n')}\n`);
    return runCli(['run', input, '--out', out, '--job-id', 'inv', '-q']);
  };

  it('only invalid lines: exit 1, and the job is written with every line reported', async () => {
    const out = join(tmp, 'out-invalid');
    const run = await writeInvalidOnly(out);
    expect(run.code, run.stderr).toBe(EXIT.COMPLETED_WITH_ERRORS);
    expect(run.stdout).toBe('');
    const p = jobPaths(out, 'inv');
    const summary = JSON.parse(readFileSync(p.summary, 'utf8')) as JobSummary;
    const manifest = JSON.parse(readFileSync(p.manifest, 'utf8')) as JobManifest;
    expect(summary.status).toBe('completed_with_errors');
    expect(summary.urls).toEqual({ accepted: 0, invalid: 3, duplicates: 0, ok: 0, failed: 0, cancelled: 0 });
    expect(manifest).toMatchObject({ accepted: 0, invalid: 3, chunks: 0, lines: 3 });
    expect(readJsonlGz<InvalidLine>(p.invalid).map((i) => [i.line, i.code])).toEqual([
      [1, 'UNSUPPORTED_SCHEME'],
      [2, 'INVALID_URL'],
      [3, 'UNSUPPORTED_SCHEME'],
    ]);
    expect(parseJsonl(readFileSync(p.failed, 'utf8'))).toEqual([]);
    expect(existsSync(p.success)).toBe(true);
    expect(existsSync(p.results)).toBe(true);
  });

  it('only invalid lines: results.jsonl.gz is a valid, empty gzip file', async () => {
    const out = join(tmp, 'out-invalid-gz');
    await writeInvalidOnly(out);
    expect(gunzipSync(readFileSync(jobPaths(out, 'inv').results)).length).toBe(0);
  });

  it('every URL fetched: exit 0 and status succeeded', async () => {
    const input = join(tmp, 'all-good.txt');
    writeFileSync(input, `${server.origin}/one\n\n# two is next\n${server.origin}/two\n`);
    const out = join(tmp, 'out-good');
    const run = await runCli(['run', input, '--out', out, '--job-id', 'good', '--allow', '127.0.0.1/32']);
    expect(run.code, run.stderr).toBe(EXIT.OK);
    // Not a TTY: the summary screen on stdout, no progress line on stderr.
    expect(run.stdout).toMatch(/^fanout job good: succeeded in /);
    expect(run.stderr).toBe('');
    const job = readJob(out, 'good');
    expect(job.summary.status).toBe('succeeded');
    expect(job.results.map((r) => [r.line, r.status, r.error])).toEqual([
      [1, 200, null],
      [4, 200, null],
    ]);
  });

  it('loopback targets are blocked without --allow: exit 1 with BLOCKED_ADDRESS', async () => {
    const out = join(tmp, 'out-blocked');
    const run = await runCli(['run', validInput, '--out', out, '--job-id', 'blocked', '-q']);
    expect(run.code).toBe(EXIT.COMPLETED_WITH_ERRORS);
    const job = readJob(out, 'blocked');
    expect(job.results.map((r) => r.error?.code)).toEqual(['BLOCKED_ADDRESS']);
    expect(job.failed.map((f) => f.error.code)).toEqual(['BLOCKED_ADDRESS']);
  });

  it('Ctrl-C: exit 130, unfinished URLs recorded as CANCELLED, the job still finalized', async () => {
    const input = join(tmp, 'hang.txt');
    // Every URL hangs, so every record must end CANCELLED whenever the signal lands.
    const urls = Array.from({ length: 300 }, (_, i) => `${server.origin}/hang/${i}`);
    writeFileSync(input, `${urls.join('\n')}\n`);
    const out = join(tmp, 'out-sigint');
    let child: ChildProcess | undefined;
    onFirstHang = () => child?.kill('SIGINT');
    const run = await runCli(
      [
        'run',
        input,
        '--out',
        out,
        '--job-id',
        'sig',
        '--allow',
        '127.0.0.1/32',
        '--concurrency',
        '8',
        '--json',
      ],
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    onFirstHang = undefined;
    expect(run.code, run.stderr).toBe(EXIT.INTERRUPTED);
    expect(run.stderr).toMatch(/cancelling/);
    const job = readJob(out, 'sig');
    expect(job.success).toBe(true);
    expect(job.results).toHaveLength(urls.length);
    expect(job.results.every((r) => r.error?.code === 'CANCELLED')).toBe(true);
    expect(job.summary.errors).toEqual({ CANCELLED: 300 });
    expect(JSON.parse(run.stdout)).toEqual(job.summary);
  });
});

describe('getExitCode', () => {
  const finished = (status: 'succeeded' | 'completed_with_errors', interrupted = false): CommandOutcome => ({
    kind: 'finished',
    status,
    interrupted,
  });
  const error = (code: string): CommandOutcome => ({ kind: 'error', code });

  it.each<[string, number, CommandOutcome]>([
    ['succeeded', 0, finished('succeeded')],
    ['completed with errors', 1, finished('completed_with_errors')],
    ['interrupted after success', 130, finished('succeeded', true)],
    ['interrupted with errors', 130, finished('completed_with_errors', true)],
    ['INVALID_OPTION', 2, error('INVALID_OPTION')],
    ['USAGE', 2, error('USAGE')],
    ['JOB_EXISTS', 2, error('JOB_EXISTS')],
    ['INPUT_UNREADABLE', 3, error('INPUT_UNREADABLE')],
    ['EMPTY_INPUT', 3, error('EMPTY_INPUT')],
    ['MISSING_URL_COLUMN', 3, error('MISSING_URL_COLUMN')],
    ['INTERNAL', 4, error('INTERNAL')],
    ['an unknown code', 4, error('EACCES')],
    ['an empty code', 4, error('')],
  ])('%s → %i', (_name, code, outcome) => {
    expect(getExitCode(outcome)).toBe(code);
  });

  it('uses only the documented codes', () => {
    expect(Object.values(EXIT).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 130]);
  });
});
