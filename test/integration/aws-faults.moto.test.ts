import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lambda/adapters/aws/clients.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import { TEST_CACHE } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { EMULATORS, emulatorEnv, type RunningEmulators } from '../support/emulators.js';
import { scoreResults } from '../support/queue-checker.js';
import { isolatedDeployment, submitUrls } from './deployment-fixture.js';

// Faults the pipeline must survive on a real S3/SQS/DynamoDB protocol, on moto and on
// LocalStack+moto (test/support/emulators.ts): duplicate and concurrent deliveries, a worker
// that dies between writing its part and counting it, and a worker process killed (SIGKILL)
// in the middle of a chunk. Each is scored like a queue checker: every accepted URL has
// exactly one record, none is lost, duplicated or unexpected, the chunks are counted once,
// and the job is finalized once.

describe.each(EMULATORS)('on $name', (emulator) => {
  let emulators: RunningEmulators;
  let target: TargetServer;
  let clients: AwsClients;
  let tmp: string;

  beforeAll(async () => {
    emulators = await emulator.start({ serialized: true });
    target = await startTargetServer({
      '/ok': (_req, res) => res.end('fine'),
      '/slow': (_req, res) => {
        const timer = setTimeout(() => res.end('late'), 100);
        res.on('close', () => clearTimeout(timer));
      },
    });
    Object.assign(process.env, emulatorEnv(emulators.endpoints));
    clients = emulators.clients();
    tmp = mkdtempSync(join(tmpdir(), 'fanout-faults-'));
  }, 120_000);

  afterAll(async () => {
    await target?.close();
    await emulators?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const urlsOf = (tag: string, n: number, path = '/ok') =>
    Array.from({ length: n }, (_, i) => target.url(`${path}?${tag}=${i}`));

  describe('duplicate and concurrent deliveries', () => {
    it('every chunk message sent twice, both copies taken by two workers at once: one record each, one finalize', async () => {
      const { deployment, announced } = await isolatedDeployment(clients);
      const { queue } = deployment.services;
      const send = queue.send.bind(queue);
      // Each copy right behind the original, so the two workers receive the pair together.
      queue.send = (messages: readonly ChunkMessage[]) => send(messages.flatMap((m) => [m, m]));
      const urls = urlsOf('dup', 400, '/slow');
      const jobId = await submitUrls(deployment, urls, { chunkSize: 50, concurrency: 10 });
      const state = await deployment.runUntilFinished(jobId, { maxPolls: 300 });
      expect(state?.status).toBe('succeeded');
      expect(await scoreResults(deployment.services.store, jobId, 400)).toMatchObject({
        lost: 0,
        duplicated: 0,
        unexpected: 0,
        records: 400,
      });
      expect(state).toMatchObject({ chunksDone: 8, totalChunks: 8, urlsDone: 400, urlsFailed: 0 });
      expect(announced).toEqual([jobId]);
      // Both copies of some chunks were fetched at the same time: more requests than URLs.
      const requests = target.requests.filter((r) => r.path === '/slow').length;
      expect(requests).toBeGreaterThan(400);
    }, 180_000);
  });

  describe('a worker that dies after writing its part, before counting it', () => {
    it('the redelivery finds the part, counts it once and does not fetch again', async () => {
      const { deployment, announced } = await isolatedDeployment(clients);
      const { jobs } = deployment.services;
      const markChunkDone = jobs.markChunkDone.bind(jobs);
      let crashes = 0;
      jobs.markChunkDone = async (jobId, chunkId, counts) => {
        if (chunkId === '00000001' && crashes === 0) {
          crashes += 1;
          throw new Error('injected crash between the part and the count');
        }
        return markChunkDone(jobId, chunkId, counts);
      };
      const urls = urlsOf('crash', 300);
      const before = target.requests.length;
      const jobId = await submitUrls(deployment, urls, { chunkSize: 100, concurrency: 10 });
      const state = await deployment.runUntilFinished(jobId, { maxPolls: 300 });
      expect(crashes).toBe(1);
      expect(state?.status).toBe('succeeded');
      expect(await scoreResults(deployment.services.store, jobId, 300)).toMatchObject({
        lost: 0,
        duplicated: 0,
        unexpected: 0,
        records: 300,
      });
      expect(state).toMatchObject({ chunksDone: 3, totalChunks: 3, urlsDone: 300 });
      expect(announced).toEqual([jobId]);
      // Each URL was fetched once: the redelivered chunk was not fetched again.
      expect(target.requests.length - before).toBe(300);
    }, 180_000);
  });

  describe('a worker process killed mid-chunk (SIGKILL)', () => {
    let bundle: string;
    beforeAll(async () => {
      // Inside the repository (node_modules/.cache), so the bundle finds the packages it leaves out.
      mkdirSync(TEST_CACHE, { recursive: true });
      bundle = join(TEST_CACHE, 'worker-process.mjs');
      await build({
        entryPoints: [join(import.meta.dirname, 'fixtures/worker-process.ts')],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        packages: 'external',
        logLevel: 'warning',
      });
    });

    it('after the message comes back, the chunk is fetched again: nothing lost, nothing duplicated', async () => {
      const { deployment, announced } = await isolatedDeployment(clients);
      const { config } = deployment.services;
      const urls = urlsOf('kill', 200, '/slow');
      const jobId = await submitUrls(deployment, urls, { chunkSize: 200, concurrency: 10 });
      await deployment.settled();
      const child: ChildProcess = spawn(process.execPath, [bundle], {
        env: {
          ...process.env,
          FANOUT_BUCKET: config.bucket,
          FANOUT_TABLE: config.tableName,
          FANOUT_QUEUE_URL: config.queueUrl,
          FANOUT_DISPATCHER_FUNCTION: config.dispatcherFunction,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        // Kill it once 50 of the chunk's 200 URLs have been served (bounded wait).
        const served = () =>
          target.requests.filter((r) => r.path === '/slow' && r.headers.host && r.at > 0).length;
        const start = served();
        for (let wait = 0; wait < 600 && served() - start < 50; wait += 1) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(served() - start).toBeGreaterThanOrEqual(50);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      expect(await deployment.services.store.exists(jobKeys.part(jobId, '00000000'))).toBe(false);
      expect((await deployment.services.jobs.get(jobId))?.chunksDone).toBe(0);

      const state = await deployment.runUntilFinished(jobId, { maxPolls: 300 });
      expect(state?.status).toBe('succeeded');
      expect(await scoreResults(deployment.services.store, jobId, 200)).toMatchObject({
        lost: 0,
        duplicated: 0,
        unexpected: 0,
        records: 200,
      });
      expect(state).toMatchObject({ chunksDone: 1, totalChunks: 1, urlsDone: 200 });
      expect(announced).toEqual([jobId]);
    }, 180_000);
  });
});
