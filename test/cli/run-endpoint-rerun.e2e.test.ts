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

// `fanout run --endpoint` under an existing --job-id with another list (issue 22, item 1):
// the list's digest travels in the request, so the API refuses it with JOB_EXISTS, and the
// job's uploaded list is left as it was.

let moto: MotoServer;
let target: TargetServer;
let work: string;

beforeAll(async () => {
  ensureCliBuilt();
  moto = await startMoto({ serialized: true });
  target = await startTargetServer({}, { fallback: (_req, res) => res.end('fine') });
  work = mkdtempSync(join(tmpdir(), 'fanout-endpoint-rerun-'));
}, 120_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

const listOf = (prefix: string, n: number) =>
  `${Array.from({ length: n }, (_, i) => target.url(`/${prefix}/${i}`)).join('\n')}\n`;

describe('fanout run --endpoint --job-id with another list', () => {
  it('is refused with JOB_EXISTS: exit 2, one line, nothing fetched, the uploaded list kept', async () => {
    const input = join(work, 'urls.txt');
    const out = join(work, 'out');
    const args = ['run', input, '--endpoint', moto.endpoint, '--out', out, '--job-id', 'ep'];
    const flags = ['--allow', '127.0.0.1/32', '--chunk-size', '10', '-q'];
    const first = listOf('first', 30);
    writeFileSync(input, first);
    const run = await runCli([...args, ...flags], { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(EXIT.OK);

    writeFileSync(input, listOf('second', 45));
    const again = await runCli([...args, ...flags], { timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(EXIT.USAGE);
    expect(again.stderr).toMatch(
      /^fanout: job ep already exists with a different request; choose another jobId\n$/,
    );
    expect(target.requests.filter((r) => r.path.startsWith('/second/'))).toHaveLength(0);
    expect(readJob(out, 'ep').results).toHaveLength(30);

    const credentials = localEndpointCredentials();
    const { s3 } = createAwsClients({ endpoint: moto.endpoint, ...(credentials && { credentials }) });
    const uploaded = await s3.send(
      new GetObjectCommand({ Bucket: 'fanout-local', Key: 'jobs/ep/input/urls.txt' }),
    );
    expect(await uploaded.Body?.transformToString()).toBe(first);
  }, 240_000);
});
