import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lambda/adapters/aws/clients.js';
import { S3ObjectStore } from '../../lambda/adapters/aws/s3-object-store.js';
import { MemoryJobStore } from '../../lambda/adapters/memory-job-store.js';
import { chunkIdAt } from '../../lambda/core/chunker.js';
import { finalizeStep } from '../../lambda/core/job/finalize.js';
import type { JobManifest, JobRequest } from '../../lambda/core/job/job-request.js';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { encodePart } from '../../lambda/core/job/part-file.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { makeFailure, makeRecord } from '../helpers/factories.js';
import { EMULATORS, emulatorEnv, type RunningEmulators } from '../support/emulators.js';

const BUCKET = 'fan-in-bucket';
const JOB = 'copy-job';
const PARTS = 40;
const PER_PART = 100;

describe.each(EMULATORS)('on $name', (emulator) => {
  let emulators: RunningEmulators;
  let clients: AwsClients;

  beforeAll(async () => {
    emulators = await emulator.start();
    Object.assign(process.env, emulatorEnv(emulators.endpoints));
    clients = emulators.clients();
    await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 120_000);

  afterAll(async () => {
    await emulators?.stop();
  });

  describe('the fan-in on S3', () => {
    it('assembles results.jsonl.gz with UploadPartCopy of >= 5 MiB segments, continued after a pause', async () => {
      const store = new S3ObjectStore({ client: clients.s3, bucket: BUCKET });
      const jobs = new MemoryJobStore();
      const total = PARTS * PER_PART;
      const request: JobRequest = {
        jobId: JOB,
        source: 'list.txt',
        format: 'text',
        options: resolveOptions({ chunkSize: PER_PART }),
        submittedAt: '2026-12-02T10:00:00.000Z',
      };
      const manifest: JobManifest = {
        jobId: JOB,
        lines: total,
        accepted: total,
        invalid: 0,
        chunks: PARTS,
        chunkSize: PER_PART,
        dispatchedAt: '2026-12-02T10:00:01.000Z',
      };
      await store.put(jobKeys.request(JOB), JSON.stringify(request));
      await store.put(jobKeys.manifest(JOB), JSON.stringify(manifest));
      await jobs.create(JOB, new Date(request.submittedAt));
      await jobs.setTotal(JOB, { chunks: PARTS, accepted: total, invalid: 0 });
      // Incompressible URLs: about 300 KB a part, 12 MB in all, so two segments pass 5 MiB.
      for (let index = 0; index < PARTS; index += 1) {
        const part = Array.from({ length: PER_PART }, (_, i) => {
          const line = index * PER_PART + i + 1;
          const url = `https://e.example/${line}/${randomBytes(3000).toString('base64url')}`;
          return line % 50 === 0 ? makeFailure('DNS', { line, url }) : makeRecord({ line, url });
        });
        await store.put(jobKeys.part(JOB, chunkIdAt(index)), encodePart(part).data);
      }

      const copies: number[] = [];
      const copyPart = store.multipart.copyPart;
      store.multipart.copyPart = async (...args) => {
        copies.push(args[2]);
        return copyPart(...args);
      };
      const limits = { segmentBytes: 5 * 1024 * 1024 };
      const first = await finalizeStep({ store, jobs }, JOB, { limits, shouldPause: () => true });
      expect(first.paused?.partsDone).toBeGreaterThan(0);
      const second = await finalizeStep({ store, jobs }, JOB, { limits });
      expect(second.summary?.urls).toMatchObject({ accepted: total, failed: total / 50 });

      expect(copies.sort((a, b) => a - b)).toEqual([1, 2, 3]);
      const results = decodeJsonlGz<ResultRecord>((await store.get(jobKeys.results(JOB))) ?? Buffer.alloc(0));
      expect(results.map((r) => r.line)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(await store.list(`jobs/${JOB}/finalize/`)).toEqual([]);
      expect(await store.exists(jobKeys.success(JOB))).toBe(true);
      const uploads = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      expect(uploads.Uploads ?? []).toEqual([]);
    }, 120_000);
  });
});
