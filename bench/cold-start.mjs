// `node bench/cold-start.mjs [--runs N] [--base REV] [--cdk-out DIR] [--json FILE]`: each
// function's cold start, from the assets the stack deploys. It synthesizes the stack
// (`cdk synth`, offline, into a temporary directory) and, for each function of the template,
// reports its bundle's size (index.mjs, raw and gzipped), the SDK clients it holds, and, in a
// fresh `node` process with the function's environment from the template (NODE_OPTIONS
// included): its init time, from just before `await import(file)` (as Lambda's runtime loads
// the handler) to just after; its first call, a handler call on an event that needs no AWS
// call (NO_OP_EVENTS), which builds the function's services and SDK clients; and the process's
// whole wall time (start, import, first call, exit). Medians of --runs fresh processes.
//
// --base REV measures the same for another revision (git archive of REV, synthesized with this
// tree's node_modules) and alternates the two, run by run, so that load on the machine falls on
// both alike. --cdk-out DIR takes an existing cloud assembly for this tree instead of synthesizing.
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundledSdkClients, bundleSize, coldStart, functionAssets, synth } from './lib/assets.mjs';
import { median } from './lib/measure.mjs';
import { fmt, table } from './lib/print.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MIN_RUNS = 5;
/** The options, checked: each bad one named with what is allowed. */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '9' },
      base: { type: 'string' },
      'cdk-out': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < MIN_RUNS) {
    throw new Error(
      `--runs (--reps in bench/run.mjs) must be a whole number ≥ ${MIN_RUNS}, not ${JSON.stringify(values.runs)}`,
    );
  }
  const cdkOut = values['cdk-out'];
  if (cdkOut !== undefined && !existsSync(join(cdkOut, 'manifest.json'))) {
    throw new Error(`--cdk-out ${JSON.stringify(cdkOut)} is not a cloud assembly (no manifest.json)`);
  }
  return { runs, base: values.base, cdkOut, json: values.json };
}

/** REV's tree (git archive) in `dir`, with this tree's node_modules. */
function checkout(rev, dir) {
  const res = spawnSync(
    'bash',
    ['-c', 'set -o pipefail; git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', '-', ROOT, rev, dir],
    {
      encoding: 'utf8',
    },
  );
  if (res.status !== 0) throw new Error(`cannot check out ${JSON.stringify(rev)}: ${res.stderr.trim()}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
}

/** Each side's functions by name, measured run by run, the sides alternating in order. */
async function measureSides(sides, runs) {
  const samples = sides.map((side) => new Map(side.functions.map((fn) => [fn.name, []])));
  for (let run = 0; run < runs; run += 1) {
    const order = run % 2 === 0 ? sides.map((_, i) => i) : sides.map((_, i) => i).reverse();
    for (const fn of sides[0].functions) {
      for (const i of order) {
        const same = sides[i].functions.find((f) => f.name === fn.name);
        if (same) samples[i].get(fn.name).push(await coldStart(same));
      }
    }
  }
  return sides.map((side, i) =>
    side.functions.map((fn) => {
      const s = samples[i].get(fn.name);
      return {
        function: fn.name,
        ...bundleSize(fn.file),
        sdkClients: bundledSdkClients(fn.file),
        importMs: median(s.map((x) => x.importMs)),
        firstCallMs: median(s.map((x) => x.firstCallMs ?? Number.NaN)),
        firstCallError: s.find((x) => x.firstCallError)?.firstCallError,
        wallMs: median(s.map((x) => x.wallMs)),
        runs: s.length,
      };
    }),
  );
}

const kb = (bytes) => fmt(bytes / 1024, 1);
const ms = (v) => fmt(v, 1);
/** Each column after the function's name: its header, and its cell for one side's row. */
const COLUMNS = [
  ['index.mjs KiB', (r) => kb(r.bytes)],
  ['gzip KiB', (r) => kb(r.gzipBytes)],
  ['import ms', (r) => ms(r.importMs)],
  ['first call ms', (r) => (r.firstCallError ? 'fails' : ms(r.firstCallMs))],
  ['process wall ms', (r) => ms(r.wallMs)],
  ['SDK clients', (r) => r.sdkClients.join(' ')],
];

/** The Markdown table: one row per function, before → after when there is a base. */
export function coldStartTable(after, before) {
  const rows = after.map((r) => {
    const b = before?.find((x) => x.function === r.function);
    return [
      r.function,
      ...COLUMNS.map(([, cell]) => (b && cell(b) !== cell(r) ? `${cell(b)} → ${cell(r)}` : cell(r))),
    ];
  });
  const failures = [...(before ?? []).map((r) => ['before', r]), ...after.map((r) => ['after', r])]
    .filter(([, r]) => r.firstCallError)
    .map(([side, r]) => `\n${r.function} (${side}): the first call failed: ${r.firstCallError}`);
  return table(['function', ...COLUMNS.map(([header]) => header)], rows) + failures.join('');
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const tmp = await mkdtemp(join(tmpdir(), 'fanout-cold-start-'));
  try {
    let out = options.cdkOut;
    if (!out) {
      out = join(tmp, 'cdk.out');
      console.error('cold-start: cdk synth of this tree…');
      synth(out);
    }
    const sides = [{ label: 'this tree', functions: functionAssets(out) }];
    if (options.base) {
      const dir = join(tmp, 'base');
      await mkdir(dir);
      checkout(options.base, dir);
      console.error(`cold-start: cdk synth of ${options.base}…`);
      synth(join(tmp, 'base.out'), dir);
      sides.push({ label: options.base, functions: functionAssets(join(tmp, 'base.out')) });
    }
    console.error(`cold-start: ${options.runs} fresh processes per function and side…`);
    const [after, before] = await measureSides(sides, options.runs);
    console.log(
      `\n### Cold start per function (${options.runs} fresh processes each, medians; Node ${process.versions.node} on ${arch()}${options.base ? `; ${options.base} → this tree` : ''})\n`,
    );
    console.log(coldStartTable(after, before));
    if (options.json) {
      const report = { node: process.versions.node, arch: arch(), runs: options.runs, after, before };
      await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`cold-start: ${err.message}`);
    process.exit(1);
  });
}
