import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, readJob, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { type MotoServer, startMoto } from '../support/moto-server.js';

// `fanout run --endpoint`: the built CLI runs the whole AWS pipeline (API submission, the
// real dispatcher, SQS, workers, DynamoDB job state, finalize) against moto's server, creating
// the bucket, queues and table itself, and writes the job under --out like a local run.

let moto: MotoServer;
let target: TargetServer;
let work: string;

beforeAll(async () => {
  ensureCliBuilt();
  moto = await startMoto({ serialized: true });
  target = await startTargetServer({
    '/ok': (_req, res) => res.end('fine'),
    '/gone': (_req, res) => res.writeHead(410).end(),
  });
  work = mkdtempSync(join(tmpdir(), 'fanout-endpoint-'));
}, 120_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('fanout run --endpoint', () => {
  it('fetches every URL through the AWS pipeline and writes the same job tree as a local run', async () => {
    const lines = Array.from({ length: 400 }, (_, i) =>
      target.url(i % 40 === 0 ? `/gone?e=${i}` : `/ok?e=${i}`),
    );
    const input = join(work, 'urls.txt');
    writeFileSync(input, `${[...lines, 'not a url'].join('\n')}\n`);
    const out = join(work, 'out');
    const args = ['run', input, '--endpoint', moto.endpoint, '--out', out, '--job-id', 'endpoint-job'];
    const flags = ['--allow', '127.0.0.1/32', '--chunk-size', '50', '-c', '16', '--retries', '0', '--json'];
    const run = await runCli([...args, ...flags], { timeoutMs: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const job = readJob(out, 'endpoint-job');
    expect(job.results.map((r) => r.line)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(job.results.filter((r) => r.status === 410)).toHaveLength(10);
    expect(job.invalid.map((l) => l.line)).toEqual([401]);
    expect(job.manifest).toMatchObject({ accepted: 400, invalid: 1, chunks: 8 });
    expect(job.parts).toHaveLength(8);
    expect(job.success).toBe(true);
    expect(JSON.parse(run.stdout)).toEqual(job.summary);

    // The same id with a different request is refused before anything runs.
    const again = await runCli([...args, ...flags, '--retries', '2'], { timeoutMs: 60_000 });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/endpoint-job already exists with a different request/);
  }, 240_000);
});
