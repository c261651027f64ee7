// `npm run demo`: serves the demo site on 127.0.0.1 and runs the real `fanout run` on it.
// Loopback is blocked by default; this example lifts the block for 127.0.0.1 only (--allow).
//
// It can run any number of times. The site listens on a new port each run, so its list is
// a new list and the job a new job: each run replaces the previous demo job
// (fanout-out/jobs/demo/, one the demo wrote itself), and says so. The list lives in a
// temporary folder that is removed however the run ends (success, failure, Ctrl-C).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoList, startDemoSite } from './demo-site.mjs';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const OUT = 'fanout-out';
const JOB_ID = 'demo';
const LIST_NAME = 'demo-urls.txt';
const TEMP_PREFIX = 'fanout-demo-';

/** The CLI while it runs: Ctrl-C reaches it directly (same process group); other signals are passed on. */
let child = null;
/** A signal that came before the CLI started: the demo stops without running it. */
let stopped = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child === null) stopped = signal;
    else if (signal !== 'SIGINT') child.kill(signal);
  });
}

/** True when `jobs/demo/` under OUT is missing or was written by this demo (its list was a demo list). */
async function isDemoJob(jobDir) {
  let request;
  try {
    request = JSON.parse(await readFile(join(jobDir, 'job.json'), 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return true; // no job.json: not a job anything can resume
    return false;
  }
  const source = String(request?.source ?? '');
  return basename(source) === LIST_NAME && basename(dirname(source)).startsWith(TEMP_PREFIX);
}

/** Runs the demo; resolves to the exit code. */
async function demo(dir) {
  const jobDir = join(OUT, 'jobs', JOB_ID);
  if (await stat(jobDir).catch(() => null)) {
    if (!(await isDemoJob(jobDir))) {
      console.error(
        `demo: ${jobDir}/ holds a job the demo did not write; move it away (the demo replaces only its own job)`,
      );
      return 2;
    }
    console.error(
      `demo: replacing the previous demo job in ${jobDir}/ (each run's site has a new port, so a new list)`,
    );
    await rm(jobDir, { recursive: true, force: true });
  }
  const site = await startDemoSite();
  try {
    const list = join(dir, LIST_NAME);
    await writeFile(list, demoList(site.origin));
    console.error(`demo site on ${site.origin}; URL list at ${list}`);
    if (stopped) return 130;
    const args = [CLI, 'run', list, '--allow', '127.0.0.1/32', '--out', OUT, '--job-id', JOB_ID];
    args.push(...process.argv.slice(2));
    child = spawn(process.execPath, args, { stdio: 'inherit' });
    // Said once the CLI runs, so a Ctrl-C after this line reaches it.
    child.once('spawn', () => console.error(`$ fanout ${args.slice(1).join(' ')}`));
    const [code, signal] = await new Promise((resolve) => {
      child.on('error', (err) => {
        console.error(`demo: could not start the CLI: ${err.message}`);
        resolve([4, null]);
      });
      child.on('exit', (c, s) => resolve([c, s]));
    });
    if (code === null) return 128 + (constants.signals[signal] ?? 0);
    // Exit code 1 means "finished, some URLs failed": the demo list has failures on purpose.
    return code === 1 ? 0 : code;
  } finally {
    await site.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
try {
  process.exitCode = await demo(dir);
} finally {
  await rm(dir, { recursive: true, force: true });
}
