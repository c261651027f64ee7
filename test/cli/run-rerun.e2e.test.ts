/**
 * End-to-end: the built `fanout run` run twice under one --job-id. Another list is refused
 * before anything is fetched or written; a cancelled job says so everywhere, and running
 * it again fetches what was cancelled and keeps what was fetched; --dedupe's skipped
 * duplicates are no error.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../lambda/cli/exit-codes.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { type CliRun, ensureCliBuilt, jobPaths, readJob, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

let server: TargetServer;
let tmp: string;
/** While true, /held/* answers nothing: those URLs are in flight when Ctrl-C lands. */
let holding = false;
const waiting: ServerResponse[] = [];
let onServed: (() => void) | undefined;

beforeAll(async () => {
  ensureCliBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fanout-rerun-'));
  server = await startTargetServer(
    {},
    {
      fallback: (req, res) => {
        if (holding && req.url?.startsWith('/held')) waiting.push(res);
        else res.end(`page ${req.url}\n`);
        onServed?.();
      },
    },
  );
});
afterAll(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  holding = false;
  onServed = undefined;
});

const listOf = (prefix: string, n: number) =>
  `${Array.from({ length: n }, (_, i) => server.url(`/${prefix}/${i}`)).join('\n')}\n`;
const hitsUnder = (prefix: string) => server.requests.filter((r) => r.path.startsWith(`/${prefix}/`)).length;
const common = ['--allow', '127.0.0.1/32', '--chunk-size', '10', '--concurrency', '4'];

/** Every file under a directory with a digest of its bytes: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    files[path] = `${createHash('sha256').update(readFileSync(path)).digest('hex')} ${mtimeMs}`;
  }
  return files;
}

function expectExit(run: CliRun, code: number): void {
  expect(run.timedOut, 'the CLI did not finish in time').toBe(false);
  expect(run.code, `exit code; stderr:\n${run.stderr}`).toBe(code);
}

/** Files a write left behind: temporary objects and stdin spools. */
function strays(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) =>
    /\.tmp-|\.spool$/.test(name),
  );
}

describe('fanout run --job-id with another list (issue 22, item 1)', () => {
  it('a file rewritten with other URLs is refused with JOB_EXISTS: exit 2, one line, nothing fetched or written', async () => {
    const out = join(tmp, 'out-file');
    const list = join(tmp, 'list.txt');
    writeFileSync(list, listOf('first', 30));
    const first = await runCli(['run', list, '--out', out, '--job-id', 'x', ...common, '-q']);
    expectExit(first, EXIT.OK);
    const dir = jobPaths(out, 'x').dir;
    const before = snapshot(dir);

    writeFileSync(list, listOf('second', 45));
    const second = await runCli(['run', list, '--out', out, '--job-id', 'x', ...common, '-q']);
    expectExit(second, EXIT.USAGE);
    expect(second.stderr).toBe(
      'fanout: job x already exists with a different list (JOB_EXISTS); choose another job id, or give the same ones to resume it\n',
    );
    expect(hitsUnder('second')).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    expect(strays(out)).toEqual([]);

    // The first list again resumes the job: nothing is fetched twice.
    writeFileSync(list, listOf('first', 30));
    const hits = hitsUnder('first');
    const third = await runCli(['run', list, '--out', out, '--job-id', 'x', ...common, '--json']);
    expectExit(third, EXIT.OK);
    expect(hitsUnder('first')).toBe(hits);
    const job = readJob(out, 'x');
    expect(job.summary.status).toBe('succeeded');
    expect(job.results.map((r) => r.url)).toEqual(listOf('first', 30).trim().split('\n'));
  });

  it('from stdin: another list is refused the same way, the same list resumes, and no spool is left', async () => {
    const out = join(tmp, 'out-stdin');
    const args = ['run', '-', '--out', out, '--job-id', 'piped', ...common, '-q'];
    expectExit(await runCli(args, { stdin: listOf('stdin-a', 12) }), EXIT.OK);
    const dir = jobPaths(out, 'piped').dir;
    const before = snapshot(dir);

    const other = await runCli(args, { stdin: listOf('stdin-b', 12) });
    expectExit(other, EXIT.USAGE);
    expect(other.stderr).toMatch(/^fanout: job piped already exists with a different list \(JOB_EXISTS\)/);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(hitsUnder('stdin-b')).toBe(0);
    expect(snapshot(dir)).toEqual(before);

    const hits = hitsUnder('stdin-a');
    expectExit(await runCli(args, { stdin: listOf('stdin-a', 12) }), EXIT.OK);
    expect(hitsUnder('stdin-a')).toBe(hits);
    expect(readJob(out, 'piped').results).toHaveLength(12);
    expect(strays(out)).toEqual([]);
  });
});

const QUICK = 14;
const HELD = 16;

/**
 * Runs the CLI on a list of QUICK URLs under /<quick>/ then HELD under /held…/, and sends
 * it SIGINT (`times` times) once every quick URL was served and a held one waits.
 */
async function runAndInterrupt(
  args: string[],
  quick: string,
  times: number,
  stdin?: string,
): Promise<CliRun> {
  holding = true;
  let child: ChildProcess | undefined;
  let sent = false;
  onServed = () => {
    if (sent || !child || hitsUnder(quick) < QUICK || waiting.length === 0) return;
    sent = true;
    for (let i = 0; i < times; i += 1) child.kill('SIGINT');
  };
  const run = await runCli(args, {
    ...(stdin !== undefined && { stdin }),
    onSpawn: (c) => {
      child = c;
    },
  });
  onServed = undefined;
  holding = false;
  for (const res of waiting.splice(0)) res.destroy();
  return run;
}

describe('Ctrl-C, then the same command again (issue 22, items 2 and 6)', () => {
  /** A list of QUICK quick then HELD held URLs, run under `jobId` and cancelled once mid-chunk. */
  async function cancelledRun(jobId: string) {
    const out = join(tmp, `out-${jobId}`);
    const list = join(tmp, `${jobId}.txt`);
    const quick = `quick-${jobId}`;
    writeFileSync(list, `${listOf(quick, QUICK)}${listOf(`held-${jobId}`, HELD)}`);
    const args = ['run', list, '--out', out, '--job-id', jobId, ...common];
    const run = await runAndInterrupt(args, quick, 1);
    expectExit(run, EXIT.INTERRUPTED);
    const job = readJob(out, jobId);
    const fetched = job.results.filter((r) => r.error?.code !== 'CANCELLED');
    const cancelled = job.results.filter((r) => r.error?.code === 'CANCELLED');
    expect(cancelled.length).toBeGreaterThan(0);
    return { out, args, run, job, fetched, cancelled };
  }

  it('a cancelled job says cancelled everywhere; its cancelled URLs are no attempts, latency or host failures', async () => {
    const { run, job, fetched, cancelled } = await cancelledRun('c6');
    const { summary } = job;
    expect(summary.status).toBe('cancelled');
    expect(run.stdout).toMatch(/^fanout job c6: cancelled in /);
    expect(summary.urls.cancelled).toBe(cancelled.length);
    expect(summary.errors).toEqual({ CANCELLED: cancelled.length });
    expect(summary.attempts).toBe(fetched.reduce((sum, r) => sum + r.attempts, 0));
    expect(summary.latencyMs.count).toBe(fetched.length);
    const report = readFileSync(join(job.dir, 'report.html'), 'utf8');
    expect(report).toContain('data-status="cancelled"');
    expect(report).toContain('No host had a failure.');
  });

  it('the re-run fetches what was cancelled, keeps what was fetched, and sweeps stray temporary files', async () => {
    const { out, args, job: cancelledJob, fetched, cancelled } = await cancelledRun('c2');
    // Stray temporary files, as a process killed mid-write leaves them.
    const parts = jobPaths(out, 'c2').parts;
    writeFileSync(join(parts, '00000000.jsonl.gz.tmp-0123456789ab'), 'half');
    writeFileSync(join(parts, '00000001.jsonl.gz.tmp-999999999-0123456789ab'), 'half');
    const hits = new Map(cancelledJob.results.map((r) => [r.url, server.hits(new URL(r.url).pathname)]));
    const gapMs = 1500;
    await sleep(gapMs);

    const second = await runCli([...args, '--json']);
    expectExit(second, EXIT.OK);
    const job = readJob(out, 'c2');
    expect(job.results.every((r) => r.error === null)).toBe(true);
    expect(job.results).toHaveLength(QUICK + HELD);
    expect(job.summary.status).toBe('succeeded');
    const byLine = new Map<number, ResultRecord>(job.results.map((r) => [r.line, r]));
    for (const record of fetched) {
      expect(byLine.get(record.line)).toEqual(record);
      expect(server.hits(new URL(record.url).pathname)).toBe(hits.get(record.url));
    }
    for (const record of cancelled) {
      expect(server.hits(new URL(record.url).pathname)).toBe((hits.get(record.url) ?? 0) + 1);
    }
    expect(strays(out)).toEqual([]);
    // Wall time: the two runs, not the gap between them.
    const span = Date.parse(job.summary.finishedAt) - Date.parse(job.summary.startedAt);
    expect(job.summary.wallMs).toBeLessThanOrEqual(span - gapMs);
  });

  it('a double Ctrl-C quits at once and leaves no temporary file; the next run finishes the job', async () => {
    const out = join(tmp, 'out-twice');
    const args = ['run', '-', '--out', out, '--job-id', 'twice', ...common, '-q'];
    const stdin = `${listOf('quick2', QUICK)}${listOf('held2', HELD)}`;
    const run = await runAndInterrupt(args, 'quick2', 2, stdin);
    expectExit(run, EXIT.INTERRUPTED);
    expect(strays(out)).toEqual([]);
    const again = await runCli(args, { stdin });
    expectExit(again, EXIT.OK);
    expect(readJob(out, 'twice').results.every((r) => r.error === null)).toBe(true);
  });
});

describe('--dedupe (issue 22, item 9)', () => {
  it('a run whose only skipped lines are duplicates succeeds (exit 0), and says how many it skipped', async () => {
    const out = join(tmp, 'out-dedupe');
    const once = listOf('dedupe', 5);
    const run = await runCli(['run', '-', '--out', out, '--job-id', 'd', ...common, '--dedupe'], {
      stdin: `${once}${once}`,
    });
    expectExit(run, EXIT.OK);
    expect(run.stdout).toMatch(/^fanout job d: succeeded in /);
    expect(run.stdout).toContain('5 duplicates skipped');
    const job = readJob(out, 'd');
    expect(job.summary.status).toBe('succeeded');
    expect(job.summary.urls).toMatchObject({ accepted: 5, invalid: 0, duplicates: 5, failed: 0 });
    expect(job.invalid.map((i) => i.code)).toEqual(Array(5).fill('DUPLICATE'));
    const report = readFileSync(join(job.dir, 'report.html'), 'utf8');
    expect(report).toContain('data-total="duplicates" data-value="5"');
  });
});
