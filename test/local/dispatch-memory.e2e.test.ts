/**
 * Dispatch memory stays bounded as the input grows: the real dispatchJob streams a
 * 100,000-line and a 1,000,000-line list in separate processes, and their peak RSS
 * may differ only by a small constant. Memory is asserted, never time.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT_DEFAULTS } from '../../lambda/core/contract.js';
import { hostGroupsFor } from '../../lambda/core/host-group.js';
import { DEFAULT_OPTIONS } from '../../lambda/core/options.js';

const run = promisify(execFile);

const FIXTURE = join(import.meta.dirname, 'fixtures/dispatch-memory.ts');
const CHUNK_SIZE = DEFAULT_OPTIONS.chunkSize;
const SEND_BATCH = 10;
/** Every this-many-th line is an ftp:// URL, so the invalid-line stream is exercised too. */
const INVALID_EVERY = 1000;
/** Allowed growth of peak RSS from 100k to 1M lines. */
const MAX_GROWTH_MB = 40;
/**
 * V8 grows its young generation with the allocation rate over a run's lifetime (to a
 * fixed cap), which alone adds ~35-40 MB of RSS to a longer run that keeps nothing.
 * Pinning its size in both runs leaves the difference to memory actually retained.
 */
// The dispatcher holds up to one unfinished chunk per host group, long enough for V8 to promote
// those URLs to its old generation, which it then collects lazily. A small old generation makes
// it collect, so peak RSS follows what is live, and a live set that grew with the list would
// end the run out of memory.
const NODE_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16', '--max-old-space-size=64'];

interface DispatchReport {
  lines: number;
  accepted: number;
  invalid: number;
  chunks: number;
  chunkSize: number;
  sends: number;
  messages: number;
  items: number;
  storedBytes: number;
  maxRssMb: number;
  seconds: number;
}

let tmp: string;
let bundle: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fanout-dispatch-memory-'));
  bundle = join(tmp, 'dispatch-memory.mjs');
  await build({
    entryPoints: [FIXTURE],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'warning',
  });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Writes `lines` URL lines through a stream, honouring backpressure. */
async function writeList(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  const batch = 10_000;
  for (let from = 1; from <= lines; from += batch) {
    let text = '';
    for (let i = from; i < from + batch && i <= lines; i += 1) {
      text +=
        i % INVALID_EVERY === 0
          ? `ftp://files.example.com/${i}\n`
          : `https://host${i % 997}.example.com/articles/${i}?ref=list&n=${i}\n`;
    }
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(resolve);
  });
}

async function dispatchFile(lines: number): Promise<DispatchReport> {
  const input = join(tmp, `list-${lines}.txt`);
  await writeList(input, lines);
  const { stdout } = await run(process.execPath, [...NODE_FLAGS, bundle, input], {
    timeout: 90_000,
    maxBuffer: 1024 * 1024,
  });
  rmSync(input);
  return JSON.parse(stdout) as DispatchReport;
}

function expectCounts(report: DispatchReport, lines: number): void {
  const invalid = Math.floor(lines / INVALID_EVERY);
  const accepted = lines - invalid;
  // Chunks fill by host group (997 hosts over the default 100 groups): full ones, and at the
  // end one partial chunk per group at most.
  const full = Math.floor(accepted / CHUNK_SIZE);
  const groups = hostGroupsFor(DEPLOYMENT_DEFAULTS.maxWorkerConcurrency);
  expect(report.chunks).toBeGreaterThanOrEqual(full);
  expect(report.chunks).toBeLessThanOrEqual(full + groups);
  expect(report).toMatchObject({
    lines,
    accepted,
    invalid,
    chunkSize: CHUNK_SIZE,
    messages: report.chunks,
    items: accepted,
    sends: Math.ceil(report.chunks / SEND_BATCH),
  });
}

describe('dispatchJob memory', () => {
  it('stays bounded from 100,000 to 1,000,000 lines', async () => {
    const small = await dispatchFile(100_000);
    expectCounts(small, 100_000);
    const large = await dispatchFile(1_000_000);
    expectCounts(large, 1_000_000);

    const growth = large.maxRssMb - small.maxRssMb;
    const rate = (r: DispatchReport) => Math.round(r.lines / r.seconds).toLocaleString('en-US');
    console.log(
      `dispatch peak RSS: 100k lines ${small.maxRssMb.toFixed(1)} MB, 1M lines ${large.maxRssMb.toFixed(1)} MB ` +
        `(growth ${growth.toFixed(1)} MB); ${rate(small)} and ${rate(large)} lines/s`,
    );
    expect(growth).toBeLessThan(MAX_GROWTH_MB);
  }, 120_000);
});
