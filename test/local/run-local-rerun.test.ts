/**
 * runLocalJob run twice under one job id: a cancelled run ends `cancelled` and keeps its
 * cancelled URLs out of the timings; the re-run fetches only what was cancelled.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambda/adapters/memory-object-store.js';
import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ResultRecord } from '../../lambda/core/record.js';
import { type LocalJob, runLocalJob } from '../../lambda/local/run-local.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

const QUICK = 6;
const HELD = 10;
let server: TargetServer;
/** While true, /held/* answers nothing: those URLs are in flight when the cancel lands. */
let holding = true;
const waiting: ServerResponse[] = [];
let onServed: (() => void) | undefined;
beforeAll(async () => {
  server = await startTargetServer(
    {},
    {
      fallback: (req, res) => {
        if (holding && req.url?.startsWith('/held/')) waiting.push(res);
        else res.end('ok');
        onServed?.();
      },
    },
  );
});
afterAll(() => server.close());

const urls = [
  ...Array.from({ length: QUICK }, (_, i) => `/quick/${i}`),
  ...Array.from({ length: HELD }, (_, i) => `/held/${i}`),
];
const options = resolveOptions({
  allow: ['127.0.0.1/32'],
  chunkSize: 4,
  concurrency: 4,
  perHost: 4,
  retries: 0,
});

function jobOf(store: MemoryObjectStore, signal?: AbortSignal): LocalJob {
  const list = urls.map((path) => server.url(path)).join('\n');
  return {
    jobId: 'again',
    source: 'list.txt',
    format: 'auto',
    options,
    input: (async function* () {
      yield Buffer.from(list);
    })(),
    inputDigest: 'the-same-list',
    store,
    ...(signal && { signal }),
  };
}

const resultsOf = (store: MemoryObjectStore) =>
  decodeJsonlGz<ResultRecord>(store.objects.get(jobKeys.results('again')) ?? Buffer.alloc(0));

describe('runLocalJob: cancel, then run again', () => {
  it('the cancelled run ends cancelled; the re-run fetches what was cancelled and keeps the rest', async () => {
    const store = new MemoryObjectStore();
    const cancel = new AbortController();
    const quickServed = () => server.requests.filter((r) => r.path.startsWith('/quick/')).length;
    onServed = () => {
      if (quickServed() === QUICK && waiting.length > 0) cancel.abort();
    };
    const first = await runLocalJob(jobOf(store, cancel.signal));
    onServed = undefined;
    holding = false;
    for (const res of waiting.splice(0)) res.destroy();

    const firstResults = resultsOf(store);
    const fetched = firstResults.filter((r) => r.error?.code !== 'CANCELLED');
    const cancelledUrls = firstResults.filter((r) => r.error?.code === 'CANCELLED').map((r) => r.url);
    expect(cancelledUrls.length).toBeGreaterThan(0);
    expect(first.summary.status).toBe('cancelled');
    expect(first.summary.urls.cancelled).toBe(cancelledUrls.length);
    expect(first.summary.latencyMs.count).toBe(fetched.length);
    expect(first.summary.attempts).toBe(fetched.reduce((sum, r) => sum + r.attempts, 0));

    const hitsBefore = new Map(urls.map((path) => [server.url(path), server.hits(path)]));
    const second = await runLocalJob(jobOf(store));
    expect(second.summary.status).toBe('succeeded');
    const secondResults = resultsOf(store);
    expect(secondResults.map((r) => r.url)).toEqual(urls.map((path) => server.url(path)));
    expect(secondResults.every((r) => r.error === null)).toBe(true);
    // What the first run fetched is kept as it was, and not fetched again.
    for (const record of fetched) {
      expect(secondResults.find((r) => r.line === record.line)).toEqual(record);
      expect(server.hits(new URL(record.url).pathname)).toBe(hitsBefore.get(record.url));
    }
    for (const url of cancelledUrls) {
      expect(server.hits(new URL(url).pathname)).toBe((hitsBefore.get(url) ?? 0) + 1);
    }
    expect(store.keys('jobs/again/parts/')).toHaveLength(Math.ceil(urls.length / options.chunkSize));
    expect(store.keys('jobs/again/checkpoints/')).toEqual([]);
  });
});
