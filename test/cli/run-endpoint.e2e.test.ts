import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, localEndpointCredentials } from '../../lambda/adapters/aws/clients.js';
import { EXIT } from '../../lambda/cli/exit-codes.js';
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

describe('fanout run --endpoint --job-id with another list (issue 22, item 1)', () => {
  it('is refused with JOB_EXISTS: exit 2, one line, nothing fetched, the uploaded list kept', async () => {
    const listOf = (tag: string, n: number) =>
      `${Array.from({ length: n }, (_, i) => target.url(`/ok?${tag}=${i}`)).join('\n')}\n`;
    const input = join(work, 'rerun.txt');
    const out = join(work, 'out-rerun');
    const args = ['run', input, '--endpoint', moto.endpoint, '--out', out, '--job-id', 'ep'];
    const flags = ['--allow', '127.0.0.1/32', '--chunk-size', '10', '-q'];
    const first = listOf('first', 30);
    writeFileSync(input, first);
    const run = await runCli([...args, ...flags], { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(EXIT.OK);

    writeFileSync(input, listOf('second', 45));
    const fetched = target.hits('/ok');
    const again = await runCli([...args, ...flags], { timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(EXIT.USAGE);
    expect(again.stderr).toMatch(
      /^fanout: job ep already exists with a different request; choose another jobId\n$/,
    );
    expect(target.hits('/ok')).toBe(fetched);
    expect(readJob(out, 'ep').results).toHaveLength(30);

    const credentials = localEndpointCredentials();
    const { s3 } = createAwsClients({ endpoint: moto.endpoint, ...(credentials && { credentials }) });
    const uploaded = await s3.send(
      new GetObjectCommand({ Bucket: 'fanout-bucket', Key: 'jobs/ep/input/rerun.txt' }),
    );
    expect(await uploaded.Body?.transformToString()).toBe(first);
  }, 240_000);
});
