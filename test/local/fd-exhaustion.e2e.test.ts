import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

// Out of file descriptors (EMFILE) is a retryable condition, never a crash: run the
// built CLI under a tiny `ulimit -n` with far more requests in flight than descriptors.
let server: TargetServer;
let dir: string;
const URLS = 300;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs']);
  dir = await mkdtemp(join(tmpdir(), 'fanout-emfile-'));
  server = await startTargetServer({ '/page': (_req, res) => res.end('x'.repeat(256)) });
  await writeFile(
    join(dir, 'urls.txt'),
    Array.from({ length: URLS }, (_, i) => server.url(`/page?i=${i}`)).join('\n'),
  );
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('file-descriptor exhaustion', () => {
  it.each([48, 64])(
    'ulimit -n %i with 200 requests in flight: every URL gets a record, the job finishes',
    async (limit) => {
      const out = join(dir, `out-${limit}`);
      const cli = `exec "${process.execPath}" dist/cli.js run "${join(dir, 'urls.txt')}" --allow 127.0.0.1/32 -c 200 --per-host 200 --retries 6 --out "${out}" --job-id fd --json`;
      // Asynchronous on purpose: the target server lives in this process and must keep answering.
      const run = await promisify(execFile)('bash', ['-c', `ulimit -n ${limit} && ${cli}`], {
        encoding: 'utf8',
        timeout: 120_000,
      }).catch((err: { code: number; stdout: string; stderr: string }) => ({ ...err, exitCode: err.code }));
      expect(run.stderr, run.stderr).not.toMatch(/EMFILE|Error/);
      expect([undefined, 0, 1]).toContain((run as { exitCode?: number }).exitCode);
      const summary = JSON.parse(run.stdout);
      expect(summary.urls.accepted).toBe(URLS);
      const gz = await readFile(join(out, 'jobs/fd/results.jsonl.gz'));
      const records = gunzipSync(gz)
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(records).toHaveLength(URLS);
      expect(new Set(records.map((r) => r.line)).size).toBe(URLS);
      // Anything that did not succeed ran out of retries on a named, retryable condition.
      for (const r of records) if (r.error) expect(r.error.code).toBe('RESOURCE_EXHAUSTED');
      expect(summary.retried).toBeGreaterThan(0);
    },
  );
});
