import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JOB_TABLE } from '../../lambda/core/contract.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'fanout-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a bench script with Node, as `npm run bench` does. */
function run(script: string, args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, script), ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('the scale bench', () => {
  it('runs end to end at a tiny size through npm run bench -- --only scale', () => {
    const json = join(dir, 'scale.json');
    const r = run('bench/run.mjs', ['--only', 'scale', '--quick', '--json', json]);
    expect(r.status, r.stderr).toBe(0);
    for (const heading of [
      '## Finalize against parts',
      '## Dispatch against lines',
      '## Chunk completions on the job item',
      '## A 10^8-URL job at 200 ms median latency (modelled)',
      '## Against the targets of issue 23 (modelled)',
    ]) {
      expect(r.stdout).toContain(heading);
    }
    expect(r.stdout).toContain('1,000,000 (extrapolated)');
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.finalize.map((f: { parts: number }) => f.parts)).toEqual([100, 1_000]);
    // The list's five hosts fill chunks by host group: 1,000 lines make five partial chunks.
    expect(report.dispatch.map((d: { chunks: number }) => d.chunks)).toEqual([5, 10]);
    expect(new Set(report.contention.map((c: { shards: number }) => c.shards))).toEqual(
      new Set([1, JOB_TABLE.counterShards]),
    );
    for (const c of report.contention) expect(c.chunks).toBeGreaterThan(0);
  });

  it('names a bad option', () => {
    const r = run('bench/scale.mjs', ['--tiny', '--shards', 'many']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--shards must be a whole number');
    const only = run('bench/run.mjs', ['--only', 'scal']);
    expect(only.status).toBe(2);
    expect(only.stderr).toContain('--only must be one of fetch, dispatcher, cost, scale');
  });
});
