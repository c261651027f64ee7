import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../lambda/cli/exit-codes.js';
import { ensureCliBuilt, ROOT, readJob, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { LOCALSTACK } from '../support/emulators.js';
import { type MotoServer, startMoto } from '../support/moto-server.js';

// What a user runs (issue 25): `cdk synth`, then `fanout run --endpoint URL --template cdk.out`
// runs the job through the bundled assets of that stack.

let moto: MotoServer;
let target: TargetServer;
let work: string;
let cdkOut: string;

beforeAll(async () => {
  ensureCliBuilt();
  work = mkdtempSync(join(tmpdir(), 'fanout-template-'));
  cdkOut = join(work, 'cdk.out');
  const synth = spawnSync(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '-q', '-o', cdkOut], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (synth.status !== 0) throw new Error(`cdk synth failed: ${synth.stderr}`);
  moto = await startMoto({ serialized: true });
  target = await startTargetServer({ '/ok': (_req, res) => res.end('fine') });
}, 240_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('fanout run --endpoint --template', () => {
  it('runs the job through the synthesized stack, each URL once', async () => {
    const input = join(work, 'urls.txt');
    writeFileSync(input, `${Array.from({ length: 40 }, (_, i) => target.url(`/ok?t=${i}`)).join('\n')}\n`);
    const out = join(work, 'out');
    const before = target.requests.length;
    const run = await runCli(
      [
        ...['run', input, '--endpoint', moto.endpoint, '--template', cdkOut, '--out', out],
        ...['--job-id', 'from-template', '--allow', '127.0.0.1/32', '--chunk-size', '10', '--json'],
      ],
      { timeoutMs: 180_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.OK);
    const job = readJob(out, 'from-template');
    expect(job.results.map((r) => r.line)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(target.requests.length - before).toBe(40);
    expect(JSON.parse(run.stdout)).toEqual(job.summary);
  }, 240_000);

  it('runs it with S3 and SQS on LocalStack and DynamoDB on moto, by the per-service variables', async () => {
    const emulators = await LOCALSTACK.start({ serialized: true });
    try {
      const input = join(work, 'urls-ls.txt');
      writeFileSync(input, `${Array.from({ length: 20 }, (_, i) => target.url(`/ok?ls=${i}`)).join('\n')}\n`);
      const out = join(work, 'out-ls');
      const run = await runCli(
        [
          ...['run', input, '--endpoint', emulators.endpoints.dynamodb, '--template', cdkOut, '--out', out],
          ...['--job-id', 'on-localstack', '--allow', '127.0.0.1/32', '--chunk-size', '5', '-q'],
        ],
        {
          timeoutMs: 180_000,
          env: { AWS_ENDPOINT_URL_S3: emulators.endpoints.s3, AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs },
        },
      );
      expect(run.code, run.stderr).toBe(EXIT.OK);
      expect(readJob(out, 'on-localstack').results).toHaveLength(20);
      // The job's objects are in LocalStack's bucket, its queues LocalStack's.
      const listed = await fetch(
        `${emulators.endpoints.s3}/fanout-bucket?list-type=2&prefix=jobs/on-localstack/`,
      );
      expect(await listed.text()).toContain('jobs/on-localstack/summary.json');
    } finally {
      await emulators.stop();
    }
  }, 240_000);

  it('names the AccessDenied of a permission the template removed', async () => {
    const denied = join(work, 'denied.out');
    spawnSync('cp', ['-r', cdkOut, denied]);
    const file = join(denied, 'Fanout.template.json');
    const template = JSON.parse(readFileSync(file, 'utf8'));
    type Statement = { Action: string | string[] };
    type Policy = { Properties: { PolicyDocument: { Statement: Statement[] } } };
    for (const [id, resource] of Object.entries<Policy>(template.Resources)) {
      if (!id.startsWith('FanoutWorkerRoleDefaultPolicy')) continue;
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        if (Array.isArray(statement.Action))
          statement.Action = statement.Action.filter((a: string) => a !== 'dynamodb:UpdateItem');
      }
    }
    writeFileSync(file, JSON.stringify(template));
    const input = join(work, 'few.txt');
    writeFileSync(input, `${target.url('/ok?denied=1')}\n`);
    const run = await runCli(
      [
        ...[
          'run',
          input,
          '--endpoint',
          moto.endpoint,
          '--template',
          denied,
          '--out',
          join(work, 'out-denied'),
        ],
        ...['--job-id', 'denied', '--allow', '127.0.0.1/32', '-q'],
      ],
      { timeoutMs: 180_000 },
    );
    expect(run.code, run.stderr).toBe(EXIT.FAILED);
    expect(run.stderr).toMatch(
      /AccessDenied: the fanout-worker function's role does not allow dynamodb:UpdateItem on arn:aws:dynamodb:[^ ]+:table\/fanout-jobs/,
    );
  }, 240_000);

  it('refuses a --template that is not a synthesized stack, or one without --endpoint', async () => {
    const input = join(work, 'one.txt');
    writeFileSync(input, 'https://example.com/\n');
    const missing = await runCli([
      'run',
      input,
      '--endpoint',
      moto.endpoint,
      '--template',
      join(work, 'nope'),
    ]);
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.stderr).toMatch(/--template.*cannot read cloud assembly manifest/);
    const alone = await runCli(['run', input, '--template', cdkOut]);
    expect(alone.code).toBe(EXIT.USAGE);
    expect(alone.stderr).toMatch(/--template.*needs --endpoint/);
  });
});
