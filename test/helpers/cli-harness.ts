/**
 * Runs the built `fanout` CLI (dist/cli.js) as a child process and reads back the job
 * directory it writes. Children run asynchronously so a target server in the test
 * process keeps answering while the CLI fetches from it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { JobManifest, JobRequest } from '../../lambda/core/job/job-request.js';
import type { FailedLine, InvalidLine, ResultRecord } from '../../lambda/core/record.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import { requireIntegrationProject } from '../support/test-project.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** The bundled CLI, as `npm run build` writes it. */
export const CLI_PATH = join(ROOT, 'dist/cli.js');
/** Scratch space for test builds; inside node_modules so bundles resolve the project's packages. */
export const TEST_CACHE = join(ROOT, 'node_modules/.cache/fanout-test');

const BUILD_INPUTS = ['lambda', 'scripts/build.mjs', 'package.json'];
const LOCK_DIR = join(TEST_CACHE, 'build.lock');
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 45_000;

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isBuildCurrent(): boolean {
  if (!existsSync(CLI_PATH)) return false;
  const built = statSync(CLI_PATH).mtimeMs;
  return BUILD_INPUTS.every((input) => newestMtime(join(ROOT, input)) <= built);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds dist/cli.js with scripts/build.mjs unless it is newer than every source.
 * Test files run in parallel: a lock directory makes one build while the others wait,
 * so no file runs a half-written bundle.
 */
export function ensureCliBuilt(): void {
  requireIntegrationProject('The built CLI');
  mkdirSync(TEST_CACHE, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK_DIR}`);
      sleepSync(100);
    }
  }
  try {
    if (!isBuildCurrent()) {
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 });
    }
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

export interface CliRun {
  /** The exit code; null when the process was killed (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CliRunOptions {
  /** Written to the child's stdin, which is then closed (it is closed at once without this). */
  stdin?: string | Uint8Array;
  cwd?: string;
  /** The child is killed after this long. @default 60000 */
  timeoutMs?: number;
  /** Called once the child is spawned, e.g. to signal it later. */
  onSpawn?: (child: ChildProcess) => void;
  /** Variables set for the child on top of this process's environment. */
  env?: Record<string, string>;
}

/** Runs `node dist/cli.js ...args` and collects its exit code and output. */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  requireIntegrationProject('The built CLI');
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // The child may exit before reading all of stdin; that is its business, not an error here.
  child.stdin.on('error', () => {});
  child.stdin.end(options.stdin);
  options.onSpawn?.(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolvePromise, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** Parses JSON lines (blank lines skipped). */
export function parseJsonl<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Reads a gzip-compressed JSONL file; strict: a file that is not gzip throws. */
export function readJsonlGz<T>(path: string): T[] {
  return parseJsonl<T>(gunzipSync(readFileSync(path)).toString('utf8'));
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Paths of a job's files under an --out directory. */
export function jobPaths(outDir: string, jobId: string) {
  const dir = join(outDir, 'jobs', jobId);
  return {
    dir,
    request: join(dir, 'job.json'),
    manifest: join(dir, 'manifest.json'),
    invalid: join(dir, 'invalid.jsonl.gz'),
    parts: join(dir, 'parts'),
    bodies: join(dir, 'bodies'),
    results: join(dir, 'results.jsonl.gz'),
    summary: join(dir, 'summary.json'),
    failed: join(dir, 'failed.jsonl'),
    success: join(dir, '_SUCCESS'),
  };
}

/** Everything a finished job left behind, parsed. */
export interface JobOutput {
  dir: string;
  request: JobRequest;
  manifest: JobManifest;
  summary: JobSummary;
  results: ResultRecord[];
  invalid: InvalidLine[];
  failed: FailedLine[];
  /** File names under parts/, sorted. */
  parts: string[];
  /** File names under bodies/, sorted (empty when there is no bodies/). */
  bodies: string[];
  success: boolean;
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path).sort() : [];
}

/** Reads a finished job's directory; throws when a file is missing or malformed. */
export function readJob(outDir: string, jobId: string): JobOutput {
  const p = jobPaths(outDir, jobId);
  return {
    dir: p.dir,
    request: readJson<JobRequest>(p.request),
    manifest: readJson<JobManifest>(p.manifest),
    summary: readJson<JobSummary>(p.summary),
    results: readJsonlGz<ResultRecord>(p.results),
    invalid: readJsonlGz<InvalidLine>(p.invalid),
    failed: parseJsonl<FailedLine>(readFileSync(p.failed, 'utf8')),
    parts: listDir(p.parts),
    bodies: listDir(p.bodies),
    success: existsSync(p.success),
  };
}
