/** The worker reads request headers' secret: values from Secrets Manager, once per invocation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { makeWorkerHandler } from '../../lambda/handlers/worker.js';
import { makeSqsRecord } from '../helpers/factories.js';
import { memoryServices } from '../helpers/memory-services.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

const SECRET = 'Bearer sm-7e1b-never-at-rest';
let server: TargetServer;
beforeAll(async () => {
  server = await startTargetServer({ '/ok': (_req, res) => res.end('ok') });
});
afterAll(() => server.close());

const options = resolveOptions({
  allow: ['127.0.0.1/32'],
  retries: 0,
  robots: 'ignore',
  headers: { Authorization: 'secret:fanout/api-token', Accept: 'application/json' },
});

function chunk(chunkId: string, items: ChunkMessage['items']) {
  const message: ChunkMessage = { jobId: 'j', chunkId, options, items };
  return makeSqsRecord(JSON.stringify(message), chunkId);
}

describe('worker secret: headers', () => {
  it('sends the secret, reads it once per invocation, and refuses env: and other prefixes', async () => {
    const s = memoryServices({ FANOUT_DEADLINE_MARGIN_MS: '200' });
    const reads: string[] = [];
    const readSecret = async (name: string) => {
      reads.push(name);
      if (name !== 'fanout/api-token') throw new Error(`ResourceNotFoundException: ${name}`);
      return SECRET;
    };
    const services = { ...s, readSecret };
    await s.jobs.create('j', new Date());
    await s.jobs.setTotal('j', { chunks: 3, accepted: 6, invalid: 0 });
    const url = server.url('/ok');
    const handler = makeWorkerHandler(() => services);
    const context = { getRemainingTimeInMillis: () => 60_000 };
    const first = chunk('00000000', [
      { line: 1, url },
      { line: 2, url },
      { line: 3, url, headers: { 'X-Home': 'env:HOME' } },
      { line: 4, url, headers: { 'X-Other': 'secret:other/token' } },
    ]);
    const second = chunk('00000001', [{ line: 5, url }]);
    expect((await handler({ Records: [first, second] }, context)).batchItemFailures).toEqual([]);
    expect(reads).toEqual(['fanout/api-token']);
    const third = chunk('00000002', [{ line: 6, url }]);
    expect((await handler({ Records: [third] }, context)).batchItemFailures).toEqual([]);
    expect(reads).toEqual(['fanout/api-token', 'fanout/api-token']);

    expect(server.requests.map((r) => r.headers.authorization)).toEqual([SECRET, SECRET, SECRET, SECRET]);
    expect(server.requests.every((r) => r.headers.accept === 'application/json')).toBe(true);
    const part = decodeJsonlGz<ResultRecord>(
      (await s.store.get(jobKeys.part('j', '00000000'))) ?? Buffer.alloc(0),
    );
    expect(part.map((r) => [r.line, r.status, r.error?.code ?? null])).toEqual([
      [1, 200, null],
      [2, 200, null],
      [3, null, 'HEADER_UNRESOLVED'],
      [4, null, 'HEADER_UNRESOLVED'],
    ]);
    expect(part[2]?.error?.message).toContain('X-Home: env:HOME');
    expect(part[3]?.error?.message).toContain('fanout/*');
    for (const key of await s.store.list('jobs/')) {
      expect((await s.store.get(key))?.toString('latin1'), key).not.toContain(SECRET);
    }
  });
});
