/**
 * Issue 24: a host slowed down by one worker stays slowed for the next worker that gets its host
 * group (each worker instance has an engine of its own), and recovers there.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { FetchEngine } from '../../../lambda/core/fetch/engine.js';
import { HOST_BACKOFF, type HostPaceState } from '../../../lambda/core/fetch/host-pace.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { processChunk } from '../../../lambda/core/job/process-chunk.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';
import { startTargetServer, type TargetServer } from '../../helpers/target-server.js';

let server: TargetServer;
beforeAll(async () => {
  server = await startTargetServer({
    '/busy': (_req, res) => res.writeHead(503).end(),
    '/ok': (_req, res) => res.end('ok'),
  });
});
afterAll(() => server.close());

const options = resolveOptions({ allow: ['127.0.0.1/32'], retries: 0, perHost: 4, robots: 'ignore' });
const engines: FetchEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

/** A worker instance: an engine of its own. */
function worker() {
  const engine = new FetchEngine({ options });
  engines.push(engine);
  return engine;
}

const GROUP = 7;
const chunk = (chunkId: string, paths: string[]): ChunkMessage => ({
  jobId: 'j',
  chunkId,
  group: GROUP,
  options,
  items: paths.map((path, i) => ({ line: i + 1, url: server.url(path) })),
});

describe('the pace of a host group, handed from worker to worker', () => {
  it('a host slowed by one worker is slowed for the next, and recovers there', async () => {
    const store = new MemoryObjectStore();
    const jobs = new MemoryJobStore();
    await jobs.create('j', new Date());
    await jobs.setTotal('j', { chunks: 2, accepted: 8, invalid: 0 });
    const run = { handOverPace: true };

    await processChunk(
      { store, jobs, engine: worker() },
      chunk('00000000', ['/busy', '/busy', '/busy', '/busy']),
      run,
    );
    const saved = JSON.parse(
      store.objects.get(jobKeys.hostPace('j', GROUP))?.toString('utf8') ?? '{}',
    ) as Record<string, HostPaceState>;
    // Four 503s of one round: the cap halves once, the spacing starts.
    expect(saved['127.0.0.1']).toMatchObject({ cap: 2, backoffMs: HOST_BACKOFF.firstSpacingMs });

    const since = server.requests.length;
    await processChunk(
      { store, jobs, engine: worker() },
      chunk('00000001', ['/ok', '/ok', '/ok', '/ok']),
      run,
    );
    const starts = server.requests.slice(since).map((r) => r.at);
    // A fresh engine would send all four at once; this one went on from the saved pace.
    expect(starts).toHaveLength(4);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(HOST_BACKOFF.firstSpacingMs - 50);
    const after = JSON.parse(
      store.objects.get(jobKeys.hostPace('j', GROUP))?.toString('utf8') ?? '{}',
    ) as Record<string, HostPaceState>;
    // Plain answers brought the host back: its cap and spacing recovered.
    expect(after['127.0.0.1']?.cap ?? options.perHost).toBeGreaterThan(2);
    expect(after['127.0.0.1']?.backoffMs ?? 0).toBeLessThan(HOST_BACKOFF.firstSpacingMs);
  });

  it('a worker of a fleet-less run (no hand-over) neither reads nor writes the pace', async () => {
    const store = new MemoryObjectStore();
    const jobs = new MemoryJobStore();
    await jobs.create('j', new Date());
    await jobs.setTotal('j', { chunks: 1, accepted: 1, invalid: 0 });
    await processChunk({ store, jobs, engine: worker() }, chunk('00000000', ['/busy']));
    expect(store.objects.has(jobKeys.hostPace('j', GROUP))).toBe(false);
  });
});
