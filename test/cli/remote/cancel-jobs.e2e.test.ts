/**
 * End-to-end: `fanout cancel` and `fanout jobs` (the built CLI) against a deployed stack on
 * moto, and how every remote command says what is missing when it cannot find its target.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../../lambda/core/job/job-view.js';
import type { CliRun } from '../../helpers/cli-harness.js';
import { type RemoteFixture, STACKS, startRemoteFixture } from './remote-fixture.js';

let f: RemoteFixture;
let dir: string;
const full = ['--stack', STACKS.full];
const LOOPBACK = ['--allow', '127.0.0.1/32'];
/** Jobs this file started, oldest first. */
const started: string[] = [];

beforeAll(async () => {
  f = await startRemoteFixture('cancel');
  dir = mkdtempSync(join(tmpdir(), 'fanout-cancel-'));
}, 120_000);

afterAll(async () => {
  await f?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function submitSlow(name: string, count: number, extra: string[] = []): Promise<string> {
  const path = join(dir, `${name}.txt`);
  writeFileSync(
    path,
    `${Array.from({ length: count }, (_, i) => f.target.url(`/slow?${name}=${i}`)).join('\n')}\n`,
  );
  const run = await f.fanout(['submit', path, ...LOOPBACK, '--chunk-size', '50', ...extra, ...full]);
  expect(run.code, run.stderr).toBe(0);
  const jobId = run.stdout.trim();
  started.push(jobId);
  return jobId;
}

describe('fanout cancel', () => {
  it('through the API while the job runs: the job ends cancelled, and status then exits 130', async () => {
    const jobId = await submitSlow('running', 1500, ['--concurrency', '2']);
    let cancelling: Promise<CliRun> | undefined;
    const state = await f.runJob(jobId, (job) => {
      if (!cancelling && job.urlsDone >= 50) cancelling = f.fanout(['cancel', jobId, ...full]);
    });
    const cancel = await (cancelling as Promise<CliRun>);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(
      new RegExp(`^cancel requested for job ${jobId} \\(running: \\d+ of 1,500 URLs done`),
    );
    expect(
      f.gateway.requests.some((r) => r.method === 'DELETE' && r.path === `/jobs/${jobId}` && r.signed),
    ).toBe(true);
    expect(state.status).toBe('cancelled');
    expect(state.urlsDone).toBe(1500);

    const status = await f.fanout(['status', jobId, ...full]);
    expect(status.code).toBe(130);
    expect(status.stdout).toContain(`job ${jobId}: cancelled`);
    const again = await f.fanout(['cancel', jobId, ...full]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(`the jobs API answered 409: job ${jobId} has already ended \\(cancelled\\)`),
    );
  }, 120_000);

  it('on the job table when no API is named: cancelRequested is set, the workers stop the job', async () => {
    const jobId = await submitSlow('queued', 200);
    const table = ['--table', f.table, '--bucket', f.bucket];
    const cancel = await f.fanout(['cancel', jobId, '--json', ...table]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout) as JobView).toMatchObject({ jobId, cancelRequested: true });
    expect((await f.runJob(jobId)).status).toBe('cancelled');
    const again = await f.fanout(['cancel', jobId, ...table]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`fanout: job ${jobId} has already ended (cancelled)\n`);
  }, 120_000);
});

describe('fanout jobs', () => {
  it('lists the jobs newest first (job items only, no chunk markers), as a table or JSON', async () => {
    const jobId = await submitSlow('listed', 3);
    await f.runJob(jobId);
    const newestFirst = [...started].reverse();

    const table = await f.fanout(['jobs', ...full]);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^JOB +STATUS +DONE\/TOTAL +FAILED +CREATED$/);
    expect(rows.slice(1).map((row) => row.split(/ +/)[0])).toEqual(newestFirst);
    expect(rows[1]).toMatch(new RegExp(`^${jobId} +succeeded +3/3 +0 +\\d{4}-\\d\\d-\\d\\dT`));

    const one = await f.fanout(['jobs', '--limit', '1', '--json', ...full]);
    const views = JSON.parse(one.stdout) as JobView[];
    expect(views.map((v) => [v.jobId, v.status])).toEqual([[jobId, 'succeeded']]);
    expect(views[0]?.results?.results?.s3).toBe(`s3://${f.bucket}/jobs/${jobId}/results.jsonl.gz`);

    // The table named by its environment variable alone.
    process.env.FANOUT_TABLE = f.table;
    try {
      const fromEnv = await f.fanout(['jobs', '--json']);
      expect(fromEnv.code, fromEnv.stderr).toBe(0);
      expect((JSON.parse(fromEnv.stdout) as JobView[]).map((v) => v.jobId)).toEqual(newestFirst);
    } finally {
      delete process.env.FANOUT_TABLE;
    }
  }, 60_000);
});

describe('errors name what is missing', () => {
  it('an unknown job: exit 2, through the API and on the table', async () => {
    const viaApi = await f.fanout(['status', 'no-such-job', ...full]);
    expect(viaApi.code).toBe(2);
    expect(viaApi.stderr).toMatch(
      /^fanout: no job no-such-job in the jobs API \(http:\/\/127\.0\.0\.1:\d+\/v1\/\)\n$/,
    );
    const viaTable = await f.fanout(['cancel', 'no-such-job', '--table', f.table]);
    expect(viaTable.code).toBe(2);
    expect(viaTable.stderr).toBe(`fanout: no job no-such-job in table ${f.table}\n`);
  }, 30_000);

  it('a stack that does not exist, or lacks an output: exit 2 naming the output, the flag and the variable', async () => {
    const noStack = await f.fanout(['jobs']);
    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toBe(
      'fanout: stack Fanout does not exist in us-east-1; name the deployed stack with --stack NAME, ' +
        'or give the job table: pass --table or set FANOUT_TABLE\n',
    );
    const broken = await f.fanout(['status', 'any-job', '--stack', STACKS.broken]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /^fanout: stack FanoutBroken has no TableName output; .*pass --table or set FANOUT_TABLE\n$/,
    );
    const noBucket = await f.fanout(['results', 'any-job', '--stack', 'Nope']);
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toMatch(
      /stack Nope does not exist .*the job bucket: pass --bucket or set FANOUT_BUCKET/,
    );
  }, 30_000);

  it('a request the API refuses to authenticate (wrong secret key): exit 4, saying what the identity needs', async () => {
    const [jobId] = started;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const run = await f.fanout(['status', jobId as string, ...full]);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(
        /the jobs API refused the signed request \(403: signature does not match\); .*execute-api:Invoke/,
      );
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    }
  }, 30_000);
});
