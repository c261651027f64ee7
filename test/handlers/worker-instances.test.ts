import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import { makeWorkerHandler } from '../../lambda/handlers/worker.js';
import { makeSqsRecord } from '../helpers/factories.js';
import { type MemoryServices, memoryServices } from '../helpers/memory-services.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

// Issue 24, item 5: each handler makeWorkerHandler makes is one worker instance, isolated as a
// Lambda instance is. Before, every handler in a process shared one module-level engine per set
// of options, so a local fleet was one engine: one per-host limit and one connection pool.

let server: TargetServer;
afterEach(() => server?.close());

const options = resolveOptions({ allow: ['127.0.0.1/32'], retries: 0, concurrency: 1, perHost: 1 });
const context = { getRemainingTimeInMillis: () => 60_000 };

/** A job of one chunk per path list, ready for its chunks to be processed; returns their messages. */
async function prepareJob(s: MemoryServices, jobId: string, chunks: string[][]): Promise<ChunkMessage[]> {
  const request = { jobId, source: 'x', format: 'auto', options, submittedAt: new Date().toISOString() };
  await s.store.put(jobKeys.request(jobId), JSON.stringify(request));
  await s.jobs.create(jobId, new Date());
  const accepted = chunks.flat().length;
  const manifest = { jobId, lines: accepted, accepted, invalid: 0, chunks: chunks.length, chunkSize: 100 };
  await s.store.put(jobKeys.manifest(jobId), JSON.stringify({ ...manifest, dispatchedAt: '' }));
  await s.jobs.setTotal(jobId, { chunks: chunks.length, accepted, invalid: 0 });
  return chunks.map((paths, index) => ({
    jobId,
    chunkId: String(index).padStart(8, '0'),
    options,
    items: paths.map((path, i) => ({ line: index * 100 + i + 1, url: server.url(path) })),
  }));
}

const event = (...messages: ChunkMessage[]) => ({
  Records: messages.map((m) => makeSqsRecord(JSON.stringify(m))),
});

describe('worker instances (makeWorkerHandler)', () => {
  it('two instances on one job share no engine: each has its own per-host limit', async () => {
    // Answers once two requests are in flight at once (or after 1.5 s, so a shared limit ends too).
    const waiting: ServerResponse[] = [];
    server = await startTargetServer({
      '/pair': (_req, res) => {
        waiting.push(res);
        const release = () => {
          for (const held of waiting.splice(0)) held.end('ok');
        };
        if (waiting.length >= 2) release();
        else setTimeout(release, 1500);
      },
    });
    const s = memoryServices();
    const [first, second] = await prepareJob(s, 'j', [
      ['/pair?a=1', '/pair?a=2'],
      ['/pair?b=1', '/pair?b=2'],
    ]);
    const one = makeWorkerHandler(() => s);
    const two = makeWorkerHandler(() => s);
    const responses = await Promise.all([
      one(event(first as ChunkMessage), context),
      two(event(second as ChunkMessage), context),
    ]);
    expect(responses.map((r) => r.batchItemFailures)).toEqual([[], []]);
    expect((await s.jobs.get('j'))?.chunksDone).toBe(2);
    // --per-host 1 each: two instances, two requests at once to the host.
    expect(server.hostMaxInFlight.get('127.0.0.1')).toBe(2);
  });

  it('one instance keeps one engine per job: another job gets its own connections', async () => {
    const sockets: Socket[] = [];
    server = await startTargetServer(
      {
        '/who': (req, res) => {
          sockets.push(req.socket);
          res.end('ok');
        },
      },
      { keepAliveTimeoutMs: 60_000 },
    );
    const s = memoryServices();
    const [a1, a2] = await prepareJob(s, 'a', [['/who'], ['/who']]);
    const others = await Promise.all(
      ['b', 'c', 'd', 'e', 'f'].map(async (job) => (await prepareJob(s, job, [['/who']]))[0] as ChunkMessage),
    );
    const handler = makeWorkerHandler(() => s);
    // Two jobs in one invocation, one after the other, with the same options.
    await handler(event(a1 as ChunkMessage, others[0] as ChunkMessage), context);
    expect(sockets).toHaveLength(2);
    expect(sockets[0]).not.toBe(sockets[1]);
    // The first job again: its engine's connection is reused.
    await handler(event(a2 as ChunkMessage), context);
    expect(sockets[2]).toBe(sockets[0]);

    // A warm instance keeps the engines of its 4 most recent jobs: older ones are closed.
    for (const message of others.slice(1)) await handler(event(message as ChunkMessage), context);
    const [, b, , c, d, e, f] = sockets as [Socket, Socket, Socket, Socket, Socket, Socket, Socket];
    await vi.waitFor(() => expect([sockets[0]?.destroyed, b.destroyed]).toEqual([true, true]));
    for (const open of [c, d, e, f]) expect(open.destroyed).toBe(false);
  });
});
