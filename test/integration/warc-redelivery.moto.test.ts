import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lambda/adapters/aws/clients.js';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import type { ChunkMessage, ObjectStore } from '../../lambda/core/ports.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { EMULATORS, emulatorEnv, type RunningEmulators } from '../support/emulators.js';
import { scoreResults } from '../support/queue-checker.js';
import { isolatedDeployment, submitUrls } from './deployment-fixture.js';

// Issue 26: a chunk's WARC is written once, like its part. A chunk delivered twice (both copies
// fetched at once, or a worker that died between its WARC and its part) leaves exactly one WARC
// per chunk, and every result record points at a response record of the WARC that was kept.

const WARCIO = resolve('.venv/bin/warcio');

describe.each(EMULATORS)('WARC chunks on $name', (emulator) => {
  let emulators: RunningEmulators;
  let target: TargetServer;
  let clients: AwsClients;
  let tmp: string;

  beforeAll(async () => {
    emulators = await emulator.start({ serialized: true });
    target = await startTargetServer({
      '/slow': (_req, res) => {
        const timer = setTimeout(() => res.end('late'), 50);
        res.on('close', () => clearTimeout(timer));
      },
    });
    Object.assign(process.env, emulatorEnv(emulators.endpoints));
    clients = emulators.clients();
    tmp = mkdtempSync(join(tmpdir(), 'fanout-warc-faults-'));
  }, 120_000);

  afterAll(async () => {
    await target?.close();
    await emulators?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const urlsOf = (tag: string, n: number) =>
    Array.from({ length: n }, (_, i) => target.url(`/slow?${tag}=${i}`));

  /** Every chunk has one WARC, warcio check passes on it, and each record names a response in it. */
  async function expectOneWarcPerChunk(store: ObjectStore, jobId: string, chunks: number, urls: number) {
    expect(await scoreResults(store, jobId, urls)).toMatchObject({ lost: 0, duplicated: 0, records: urls });
    const warcs = (await store.list(jobKeys.prefix(jobId))).filter((key) => key.includes('/warc/'));
    expect(warcs).toEqual(Array.from({ length: chunks }, (_, i) => jobKeys.warc(jobId, `0000000${i}`)));
    const files = new Map<string, Buffer>();
    for (const key of warcs) {
      const data = (await store.get(key)) as Buffer;
      files.set(key.slice(jobKeys.prefix(jobId).length), data);
      const path = join(tmp, `${jobId}-${key.split('/').pop()}`);
      writeFileSync(path, data);
      expect(execFileSync(WARCIO, ['check', path], { encoding: 'utf8' })).toBe('');
    }
    const records = decodeJsonlGz<ResultRecord>((await store.get(jobKeys.results(jobId))) as Buffer);
    for (const record of records) {
      const place = record.warc as NonNullable<ResultRecord['warc']>;
      const data = files.get(place.file) as Buffer;
      const head = gunzipSync(data.subarray(place.offset, place.offset + place.length)).toString('latin1');
      expect(head).toContain('\r\nWARC-Type: response\r\n');
      expect(head).toContain(`\r\nWARC-Target-URI: ${record.url}\r\n`);
    }
    const index = (await store.get(jobKeys.cdxIndex(jobId)))?.toString('utf8') ?? '';
    // One line per response: the copy fetched alongside left nothing of its own.
    expect(index.trimEnd().split('\n')).toHaveLength(urls);
  }

  it('every chunk message sent twice, both copies taken at once: one WARC per chunk', async () => {
    const { deployment } = await isolatedDeployment(clients);
    const { queue } = deployment.services;
    const send = queue.send.bind(queue);
    queue.send = (messages: readonly ChunkMessage[]) => send(messages.flatMap((m) => [m, m]));
    const jobId = await submitUrls(deployment, urlsOf('dup', 60), { chunkSize: 20, body: 'warc' });
    const state = await deployment.runUntilFinished(jobId, { maxPolls: 300 });
    expect(state?.status).toBe('succeeded');
    await expectOneWarcPerChunk(deployment.services.store, jobId, 3, 60);
  }, 180_000);

  it('a worker that dies after its WARC, before its part: the redelivery keeps that WARC', async () => {
    const { deployment } = await isolatedDeployment(clients);
    const { store } = deployment.services;
    const putIfAbsent = store.putIfAbsent.bind(store);
    let crashes = 0;
    store.putIfAbsent = async (key, body, contentType) => {
      if (key.endsWith('/parts/00000001.jsonl.gz') && crashes === 0) {
        crashes += 1;
        throw new Error('injected crash between the WARC and the part');
      }
      return putIfAbsent(key, body, contentType);
    };
    const jobId = await submitUrls(deployment, urlsOf('crash', 40), { chunkSize: 20, body: 'warc' });
    const state = await deployment.runUntilFinished(jobId, { maxPolls: 300 });
    expect(crashes).toBe(1);
    expect(state?.status).toBe('succeeded');
    await expectOneWarcPerChunk(store, jobId, 2, 40);
  }, 180_000);
});
