// `npm run bench`: fanout against the usual alternatives, side by side, in one run, on
// one local target server. See docs/benchmarks.md for what is measured and how.
//
//   node bench/run.mjs [--quick] [--reps N] [--cli dist/cli.js] [--only fetch|dispatcher|cost|scale|coldstart]
//                      [--clients fanout,aiohttp,node,undici] [--json FILE]
//
// Needs a built CLI (npm run build). It installs the rest itself, once (and says so): .venv
// with PyPI's aiohttp, and, as root with apt-get, wrk (/usr/bin/wrk) and the issue's
// reference client, Debian's python3-aiohttp (scripts/setup-python.sh, setup-system.sh).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { costTable, productDefaults } from './cost-model.mjs';
import { AIOHTTP, aiohttpVersions } from './lib/aiohttp.mjs';
import { bundleBench, bundlePath } from './lib/bundle.mjs';
import { lastJson, measure, median } from './lib/measure.mjs';
import { fmt, printMatrix, printRunLength, printTargets, table } from './lib/print.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    cli: { type: 'string', default: join(ROOT, 'dist/cli.js') },
    only: { type: 'string' },
    json: { type: 'string' },
    clients: { type: 'string' },
  },
});
// --only scale: the scale bench with a model of AWS (bench/scale.mjs, docs/scale.md) and nothing else.
if (values.only === 'scale') {
  const scale = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bench/scale.mjs'),
      ...(values.quick ? ['--tiny'] : []),
      ...(values.json ? ['--json', values.json] : []),
    ],
    { stdio: 'inherit' },
  );
  process.exit(scale.status ?? 1);
}
// --only coldstart: each function's bundle size and init time from `cdk synth` (bench/cold-start.mjs).
if (values.only === 'coldstart') {
  const coldStart = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bench/cold-start.mjs'),
      ...(values.reps ? ['--runs', values.reps] : []),
      ...(values.json ? ['--json', values.json] : []),
    ],
    { stdio: 'inherit' },
  );
  process.exit(coldStart.status ?? 1);
}
const ONLY = ['fetch', 'dispatcher', 'cost', 'scale', 'coldstart'];
if (values.only !== undefined && !ONLY.includes(values.only)) {
  console.error(`bench: --only must be one of ${ONLY.join(', ')}, not ${JSON.stringify(values.only)}`);
  process.exit(2);
}
for (const [script, ...args] of [['setup-python.sh'], ['setup-system.sh', 'wrk', 'python3-aiohttp']]) {
  const setup = spawnSync('bash', [join(ROOT, 'scripts', script), ...args], { stdio: 'inherit' });
  if (setup.status !== 0) {
    console.error(`bench: scripts/${script} failed; the bench needs what it installs`);
    process.exit(1);
  }
}
const QUICK = values.quick;
const REPS = Number(values.reps ?? (QUICK ? 1 : 3));
const CLI = values.cli;
/**
 * Where bench/NAME.ts is bundled: inside the repository (bench/.build is ignored), so
 * its imports find node_modules.
 */
const WRK = '/usr/bin/wrk';

/** Target hosts: 127.0.0.1 … 127.0.0.HOSTS, one port. */
const HOSTS = 10;
const BODY_BYTES = 2048;
/** The matrix: latency (ms) × concurrency, and the URLs per cell. */
const CELLS = [
  { latency: 0, concurrency: 100, urls: QUICK ? 5000 : 20_000 },
  { latency: 0, concurrency: 500, urls: QUICK ? 5000 : 10_000 },
  { latency: 50, concurrency: 100, urls: QUICK ? 3000 : 10_000 },
  { latency: 50, concurrency: 500, urls: QUICK ? 5000 : 10_000 },
];
/** The long cell of the wrk target: fanout (the run and the engine alone) beside wrk, on more URLs. */
const LONG_CELL = { latency: 50, concurrency: 500, urls: QUICK ? 30_000 : 100_000 };
const DISPATCH_LINES = QUICK ? 200_000 : 1_000_000;
/**
 * The first cell again on five times the URLs, for the clients below: the difference
 * between the two runs is what a URL costs once start-up and warm-up are paid.
 */
const WARM_URLS = QUICK ? 25_000 : 100_000;
const WARM_CLIENTS = [
  'fanout run',
  'fanout engine alone (reference)',
  AIOHTTP.debian.name,
  AIOHTTP.pypi.name,
  'undici dispatch + sha256 (floor)',
];

/** aiohttp's version in each build, null for a build this machine does not have. */
const AIOHTTP_VERSIONS = Object.fromEntries(
  Object.entries(AIOHTTP).map(([key, build]) => [key, aiohttpVersions(build.python)]),
);

/** The classic aiohttp client under `python`, one session per URL or one for the run. */
const aiohttpClient = (python, session) => (cell, file) => [
  python,
  [
    join(ROOT, 'bench/clients/aiohttp_client.py'),
    '--urls',
    file,
    '--concurrency',
    String(cell.concurrency),
    '--session',
    session,
  ],
];

/** fanout's per-host cap for a cell: twice an even share, so the global cap is what binds. */
const perHost = (concurrency) => Math.min(concurrency, Math.ceil((2 * concurrency) / HOSTS));

const CLIENTS = [
  {
    name: 'fanout run',
    args: (cell, file, out) => [
      process.execPath,
      [
        CLI,
        'run',
        file,
        '--out',
        out,
        '--job-id',
        'bench',
        '-c',
        String(cell.concurrency),
        '--per-host',
        String(perHost(cell.concurrency)),
        '--allow',
        '127.0.0.0/8',
        '-q',
      ],
    ],
  },
  {
    name: 'fanout engine alone (reference)',
    bundle: 'engine',
    args: (cell, file) => [
      process.execPath,
      [
        bundlePath('engine'),
        '--urls',
        file,
        '--concurrency',
        String(cell.concurrency),
        '--per-host',
        String(perHost(cell.concurrency)),
      ],
    ],
  },
  {
    name: 'aiohttp (PyPI), session per request',
    build: 'pypi',
    args: aiohttpClient(AIOHTTP.pypi.python, 'per-request'),
  },
  { name: AIOHTTP.pypi.name, build: 'pypi', args: aiohttpClient(AIOHTTP.pypi.python, 'shared') },
  { name: AIOHTTP.debian.name, build: 'debian', args: aiohttpClient(AIOHTTP.debian.python, 'shared') },
  {
    name: 'Node fetch, worker loop',
    args: (cell, file) => [
      process.execPath,
      [join(ROOT, 'bench/clients/node-fetch.mjs'), '--urls', file, '--concurrency', String(cell.concurrency)],
    ],
  },
  {
    name: 'undici.request loop',
    args: (cell, file) => [
      process.execPath,
      [
        join(ROOT, 'bench/clients/undici-loop.mjs'),
        '--urls',
        file,
        '--concurrency',
        String(cell.concurrency),
      ],
    ],
  },
  {
    name: 'undici dispatch + sha256 (floor)',
    args: (cell, file) => [
      process.execPath,
      [
        join(ROOT, 'bench/clients/undici-dispatch-loop.mjs'),
        '--urls',
        file,
        '--concurrency',
        String(cell.concurrency),
      ],
    ],
  },
];

const log = (text) => process.stderr.write(`${text}\n`);

// An aiohttp build this machine lacks is left out, and said so.
for (const [key, build] of Object.entries(AIOHTTP)) {
  if (AIOHTTP_VERSIONS[key]) continue;
  log(`${build.name} left out: ${build.python} cannot import aiohttp (${build.source})`);
  for (let i = CLIENTS.length - 1; i >= 0; i -= 1) if (CLIENTS[i].build === key) CLIENTS.splice(i, 1);
}

// --clients fanout,aiohttp,…: only the clients whose names start with one of these (wrk always runs).
if (values.clients) {
  const wanted = values.clients.split(',').map((w) => w.trim().toLowerCase());
  for (let i = CLIENTS.length - 1; i >= 0; i -= 1) {
    if (!wanted.some((w) => CLIENTS[i].name.toLowerCase().startsWith(w))) CLIENTS.splice(i, 1);
  }
}

const load = () => loadavg()[0].toFixed(2);

async function startServer() {
  const child = spawn(process.execPath, [join(ROOT, 'bench/target-server.mjs'), '--hosts', String(HOSTS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl !== -1) resolve(buf.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`target server exited (${code})`)));
  });
  const { port, hosts } = JSON.parse(line);
  return { child, port, hosts, stop: () => child.kill('SIGTERM') };
}

const urlOf = (server, cell, i) =>
  `http://${server.hosts[i % server.hosts.length]}:${server.port}/l${cell.latency}/b${BODY_BYTES}/${i}`;

async function writeList(dir, server, cell) {
  const file = join(dir, `urls-l${cell.latency}-c${cell.concurrency}-n${cell.urls}.txt`);
  const lines = [];
  for (let i = 0; i < cell.urls; i += 1) lines.push(urlOf(server, cell, i));
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * One run of one client on one cell: requests/s, CPU µs per request and peak RSS of the
 * whole process, start-up included, for every client alike; and, for the clients that
 * report it, the same figures for their fetch loop alone.
 */
async function runClient(client, cell, file, dir) {
  const out = join(dir, 'fanout-out');
  const [command, args] = client.args(cell, file, out);
  const r = await measure(command, args);
  let ok = cell.urls;
  let loop = null;
  if (client.name === 'fanout run') {
    if (r.exitCode !== 0) throw new Error(`fanout run exited ${r.exitCode}\n${r.stderr.slice(-2000)}`);
    const summary = JSON.parse(await readFile(join(out, 'jobs/bench/summary.json'), 'utf8'));
    ok = summary.urls.ok;
    await rm(out, { recursive: true, force: true });
  } else {
    const self = lastJson(r.stdout);
    if (!self) throw new Error(`${client.name}: no report\n${r.stderr.slice(-2000)}`);
    ok = self.ok;
    loop = { rps: self.requests / self.wallSec, cpuUs: ((self.userSec + self.sysSec) / self.requests) * 1e6 };
  }
  if (ok !== cell.urls) log(`  ! ${client.name}: ${cell.urls - ok} of ${cell.urls} requests failed`);
  return {
    rps: cell.urls / r.wall,
    cpuUs: ((r.user + r.sys) / cell.urls) * 1e6,
    rssMb: r.maxRssBytes / 2 ** 20,
    loopRps: loop?.rps ?? Number.NaN,
    loopCpuUs: loop?.cpuUs ?? Number.NaN,
  };
}

/**
 * One repetition: every client once on the cell, each run added to `runs` (by client
 * name). The order rotates with `rep`, so no client always runs first or last.
 */
async function runRound(clients, rep, runs, cell, file, dir) {
  const order = clients.map((_, i) => clients[(i + rep) % clients.length]);
  for (const client of order) {
    const r = await runClient(client, cell, file, dir);
    runs.get(client.name).push(r);
    log(
      `  ${client.name}: ${r.rps.toFixed(0)} req/s, ${r.cpuUs.toFixed(1)} µs/req, ${r.rssMb.toFixed(0)} MB`,
    );
  }
}

/** wrk on the same server and cell: its requests/s, and its CPU per request. */
async function runWrk(server, cell, seconds) {
  const url = urlOf(server, cell, 0);
  const r = await measure(WRK, ['-t', '2', '-c', String(cell.concurrency), '-d', `${seconds}s`, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const total = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
  const errors = /Non-2xx|Socket errors/.exec(r.stdout);
  if (errors) log(`  ! wrk: ${errors[0]} in ${cell.latency} ms / ${cell.concurrency}`);
  return { rps, cpuUs: ((r.user + r.sys) / total) * 1e6, rssMb: r.maxRssBytes / 2 ** 20 };
}

function summarize(runs) {
  const out = {};
  for (const key of Object.keys(runs[0])) out[key] = median(runs.map((r) => r[key]));
  return out;
}

async function fetchMatrix(dir, server) {
  const results = [];
  for (const cell of CELLS) {
    const file = await writeList(dir, server, cell);
    const loadBefore = load();
    log(`cell ${cell.latency} ms, c=${cell.concurrency}, ${cell.urls} URLs (load ${loadBefore})`);
    const runs = new Map(CLIENTS.map((c) => [c.name, []]));
    const wrkRuns = [];
    for (let rep = 0; rep < REPS; rep += 1) {
      await runRound(CLIENTS, rep, runs, cell, file, dir);
      const w = await runWrk(server, cell, QUICK ? 2 : 3);
      wrkRuns.push(w);
      log(`  wrk: ${w.rps.toFixed(0)} req/s`);
    }
    results.push({
      cell,
      load: [loadBefore, load()],
      clients: CLIENTS.map((c) => ({ name: c.name, ...summarize(runs.get(c.name)) })),
      wrk: summarize(wrkRuns),
    });
  }
  return results;
}

async function longCell(dir, server) {
  const cell = LONG_CELL;
  const file = await writeList(dir, server, cell);
  const loadBefore = load();
  log(`long cell ${cell.latency} ms, c=${cell.concurrency}, ${cell.urls} URLs (load ${loadBefore})`);
  const clients = CLIENTS.filter((c) => c.name.startsWith('fanout'));
  const runs = new Map(clients.map((c) => [c.name, []]));
  const wrk = [];
  for (let rep = 0; rep < REPS; rep += 1) {
    for (const client of clients) {
      const r = await runClient(client, cell, file, dir);
      runs.get(client.name).push(r);
      log(`  ${client.name}: ${r.rps.toFixed(0)} req/s`);
    }
    wrk.push(await runWrk(server, cell, QUICK ? 3 : 10));
    log(`  wrk: ${wrk.at(-1).rps.toFixed(0)} req/s`);
  }
  return {
    cell,
    load: [loadBefore, load()],
    clients: clients.map((c) => ({ name: c.name, ...summarize(runs.get(c.name)) })),
    wrk: summarize(wrk),
  };
}

/**
 * Splits each client's CPU on the first cell into a fixed part (start-up, and the warm-up
 * before V8 has optimised the hot code) and a part per URL, from its median CPU time on
 * that cell and on the same cell with WARM_URLS URLs: per URL = the difference ÷ the
 * difference in URLs; fixed = the first cell's CPU less its URLs at that rate.
 */
async function runLength(dir, server, first) {
  const cell = { ...first.cell, urls: WARM_URLS };
  const file = await writeList(dir, server, cell);
  const loadBefore = load();
  log(`run length: ${cell.latency} ms, c=${cell.concurrency}, ${cell.urls} URLs (load ${loadBefore})`);
  const clients = CLIENTS.filter((c) => WARM_CLIENTS.includes(c.name));
  const runs = new Map(clients.map((c) => [c.name, []]));
  for (let rep = 0; rep < REPS; rep += 1) await runRound(clients, rep, runs, cell, file, dir);
  const short = first.cell.urls;
  return {
    cell,
    shortUrls: short,
    load: [loadBefore, load()],
    clients: clients.map((c) => {
      const shortCpu = (first.clients.find((f) => f.name === c.name).cpuUs * short) / 1e6;
      const longCpu = (median(runs.get(c.name).map((r) => r.cpuUs)) * cell.urls) / 1e6;
      const perUrlUs = ((longCpu - shortCpu) / (cell.urls - short)) * 1e6;
      return { name: c.name, shortCpu, longCpu, perUrlUs, fixedSec: shortCpu - (perUrlUs * short) / 1e6 };
    }),
  };
}

async function dispatcher(dir) {
  const bundle = await bundleBench('dispatcher');
  const input = join(dir, 'dispatch-input.txt');
  const hosts = [
    'example.com',
    'www.example.org',
    'news.example.net',
    'static.cdn.example.com',
    'a.b.example.io',
  ];
  const lines = [];
  for (let i = 0; i < DISPATCH_LINES; i += 1) {
    lines.push(`https://${hosts[i % hosts.length]}/path/to/page-${i}?q=${i % 977}&ref=bench`);
  }
  await writeFile(input, `${lines.join('\n')}\n`);
  const loadBefore = load();
  log(`dispatcher, ${DISPATCH_LINES} lines (load ${loadBefore})`);
  const runs = [];
  for (let rep = 0; rep < REPS; rep += 1) {
    const r = await measure(process.execPath, [bundle, '--input', input]);
    const self = lastJson(r.stdout);
    if (!self) throw new Error(`dispatcher: no report\n${r.stderr.slice(-2000)}`);
    runs.push({
      urlsPerSecond: self.urlsPerSecond,
      rssMb: r.maxRssBytes / 2 ** 20,
      cpuUs: ((r.user + r.sys) / self.accepted) * 1e6,
    });
    log(`  ${self.urlsPerSecond.toFixed(0)} URLs/s, ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MB`);
  }
  return {
    lines: DISPATCH_LINES,
    load: [loadBefore, load()],
    urlsPerSecond: median(runs.map((r) => r.urlsPerSecond)),
    rssMb: median(runs.map((r) => r.rssMb)),
    cpuUs: median(runs.map((r) => r.cpuUs)),
  };
}

/** Which aiohttp builds ran: version, source and Python. */
function aiohttpLine() {
  const builds = Object.entries(AIOHTTP).flatMap(([key, build]) => {
    const v = AIOHTTP_VERSIONS[key];
    return v ? [`aiohttp ${v.aiohttp} (${build.source}, Python ${v.python})`] : [];
  });
  return builds.length > 0 ? builds.join(' and ') : 'no aiohttp';
}

async function main() {
  if (!existsSync(CLI) && values.only !== 'cost' && values.only !== 'dispatcher') {
    throw new Error(`${CLI} is missing: run npm run build first`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'fanout-bench-'));
  await mkdir(dir, { recursive: true });
  const report = {
    startedAt: new Date().toISOString(),
    cpus: cpus().length,
    quick: QUICK,
    reps: REPS,
    aiohttp: AIOHTTP_VERSIONS,
  };
  console.log(
    `# fanout benchmarks\n\n${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${aiohttpLine()}, ${REPS === 1 ? 'one run' : `medians of ${REPS}`} per figure${QUICK ? ' (--quick)' : ''}, load average at start ${load()}`,
  );
  const server = values.only === 'cost' || values.only === 'dispatcher' ? null : await startServer();
  try {
    if (server) {
      for (const name of new Set(CLIENTS.flatMap((c) => c.bundle ?? []))) await bundleBench(name);
      report.matrix = await fetchMatrix(dir, server);
      report.long = await longCell(dir, server);
      const first = report.matrix[0];
      const has = (name) => first.clients.some((c) => c.name === name);
      if (has('fanout run') && (has(AIOHTTP.debian.name) || has(AIOHTTP.pypi.name))) {
        report.runLength = await runLength(dir, server, first);
      } else log('run length split skipped: it needs fanout run and an aiohttp shared-session client');
    }
    if (!values.only || values.only === 'dispatcher') report.dispatcher = await dispatcher(dir);
  } finally {
    server?.stop();
    await rm(dir, { recursive: true, force: true });
  }

  if (report.matrix) {
    console.log('\n## Fetching');
    console.log(
      [
        '',
        'Every client is one process, measured whole: from spawn to exit, start-up included (wall time, user+sys',
        'CPU and peak RSS from wait4). fanout is `fanout run` as a user runs it: input parsing, result records,',
        'parts and finalize included, `--per-host` at twice an even share of the concurrency over the',
        "target's 10 loopback addresses. The last two columns are the other clients' own timing of their fetch",
        'loop, start-up excluded.',
      ].join('\n'),
    );
    printMatrix(report.matrix, BODY_BYTES);
    const { cell, load: l, clients, wrk } = report.long;
    console.log(
      `\n### ${cell.latency} ms latency, concurrency ${cell.concurrency}, ${fmt(cell.urls)} URLs: fanout beside wrk (load ${l[0]} → ${l[1]})\n`,
    );
    console.log(
      table(
        ['client', 'req/s', 'CPU µs/req', 'peak RSS MB', 'of wrk'],
        [
          ...clients.map((r) => [
            r.name,
            fmt(r.rps),
            fmt(r.cpuUs),
            fmt(r.rssMb),
            `${fmt((100 * r.rps) / wrk.rps)}%`,
          ]),
          ['wrk', fmt(wrk.rps), fmt(wrk.cpuUs), fmt(wrk.rssMb), '100%'],
        ],
      ),
    );
  }
  if (report.runLength) printRunLength(report.runLength);
  if (report.dispatcher) {
    const d = report.dispatcher;
    console.log(`\n## Dispatcher (load ${d.load[0]} → ${d.load[1]})\n`);
    console.log(
      table(
        ['input', 'URLs/s', 'CPU µs/URL', 'peak RSS MB'],
        [[`${fmt(d.lines)} lines`, fmt(d.urlsPerSecond), fmt(d.cpuUs, 2), fmt(d.rssMb)]],
      ),
    );
  }

  // The cost model, from the CPU per URL measured at 0 ms and concurrency 100.
  const measured = report.matrix?.[0]?.clients.find((c) => c.name === 'fanout run')?.cpuUs;
  const cpuUs = measured ?? 100;
  const dispatchCpuUs = report.dispatcher?.cpuUs ?? 2;
  const settings = await productDefaults();
  const { rows } = costTable({ cpuUs, dispatchCpuUs, latencyMs: 200, ...settings });
  report.cost = { cpuUs, dispatchCpuUs, settings, rows };
  console.log(`\n## Cost per million URLs at 200 ms median latency\n`);
  console.log(
    `From ${fmt(cpuUs)} µs of CPU per URL (${measured ? 'measured above' : 'assumed'}) and ${fmt(dispatchCpuUs, 2)} µs per URL in the dispatcher; default settings; prices and assumptions in bench/cost-model.mjs.\n`,
  );
  console.log(
    table(
      ['setup', '$ per 1M URLs', 'of which'],
      rows.map(([what, dollars, note]) => [what, `$${dollars.toFixed(4)}`, note]),
    ),
  );
  console.log('\nfanout at other settings (chunk size, concurrency per worker, worker memory):\n');
  const grid = [
    [128, 1024],
    [256, 512],
    [512, 512],
    [512, 1024],
  ];
  const sizes = [250, 500, 1000, 2000];
  console.log(
    table(
      ['concurrency, memory', ...sizes.map((n) => `chunks of ${n}`)],
      grid.map(([concurrency, memoryMb]) => [
        `-c ${concurrency}, ${memoryMb} MB`,
        ...sizes.map((chunkSize) => {
          const { fanout } = costTable({
            cpuUs,
            dispatchCpuUs,
            latencyMs: 200,
            chunkSize,
            concurrency,
            memoryMb,
          });
          return `$${fanout.total.toFixed(4)}`;
        }),
      ]),
    ),
  );

  printTargets(report);
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

await main();
