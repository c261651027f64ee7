// The scale bench's stages: the real dispatchJob, processChunk and finalizeJob against the
// modelled adapters, each timed twice: simulated request time on the model's clock, and the
// real CPU time of fanout's own code on this machine.
import { chunkIdAt } from '../../lambda/core/chunker.js';
import type { FetchEngine } from '../../lambda/core/fetch/engine.js';
import { dispatchJob } from '../../lambda/core/job/dispatch.js';
import { finalizeJob } from '../../lambda/core/job/finalize.js';
import type { JobManifest, JobRequest } from '../../lambda/core/job/job-request.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import { encodePart } from '../../lambda/core/job/part-file.js';
import { processChunk } from '../../lambda/core/job/process-chunk.js';
import { resolveOptions } from '../../lambda/core/options.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import { blankRecord, type InputItem, type ResultRecord } from '../../lambda/core/record.js';
import { seededRandom } from '../lib/seeded-random.mjs';
import { ModelledJobStore } from './modelled-job-store.js';
import { ModelledObjectStore } from './modelled-object-store.js';
import { ModelledQueue } from './modelled-queue.js';
import { VirtualClock } from './virtual-clock.js';

/** A stage's two clocks. */
export interface Timing {
  /** Simulated seconds: the requests' modelled latencies, retries and throttling (modelled). */
  simulatedSeconds: number;
  /** Real CPU seconds of the code under test on this machine (measured). */
  cpuSeconds: number;
}

/** Runs `main` on `clock`, measuring both. */
async function timed<T>(clock: VirtualClock, main: () => Promise<T>): Promise<{ value: T } & Timing> {
  const startCpu = process.cpuUsage();
  const startSim = clock.now;
  const value = await clock.run(main);
  const cpu = process.cpuUsage(startCpu);
  return {
    value,
    simulatedSeconds: (clock.now - startSim) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

const request = (jobId: string, source: string): JobRequest => ({
  jobId,
  source,
  format: 'text',
  options: resolveOptions({}),
  submittedAt: new Date().toISOString(),
});

/** One result record of a fetched URL, as a stub engine returns it. */
function okRecord(item: InputItem): ResultRecord {
  return {
    ...blankRecord(item),
    finalUrl: item.url,
    status: 200,
    contentType: 'text/plain',
    bytes: 2048,
    attempts: 1,
    timings: { start: new Date(0).toISOString(), ttfbMs: 190, totalMs: 200 },
  };
}

export interface FinalizeRun extends Timing {
  parts: number;
  s3Gets: number;
  slowDowns: number;
}

/**
 * finalizeJob over `parts` tiny parts (one record each: the fan-in's cost is per part),
 * already written and counted when it starts.
 */
export async function finalizeStage(parts: number): Promise<FinalizeRun> {
  const clock = new VirtualClock();
  const store = new ModelledObjectStore(clock);
  const jobs = new ModelledJobStore(clock);
  const jobId = 'scale-finalize';
  const req = request(jobId, 'urls.txt');
  const manifest: JobManifest = {
    jobId,
    lines: parts,
    accepted: parts,
    invalid: 0,
    duplicates: 0,
    chunks: parts,
    chunkSize: 1,
    dispatchedAt: new Date().toISOString(),
  };
  store.preload(jobKeys.request(jobId), Buffer.from(JSON.stringify(req)));
  store.preload(jobKeys.manifest(jobId), Buffer.from(JSON.stringify(manifest)));
  const part = encodePart([okRecord({ url: 'https://example.com/a', line: 1 })]).data;
  for (let i = 0; i < parts; i += 1) store.preload(jobKeys.part(jobId, chunkIdAt(i)), part);
  jobs.preloadDone(jobId, { chunks: parts, accepted: parts });
  const run = await timed(clock, () => finalizeJob({ store, jobs }, jobId));
  if (run.value.urls.accepted !== parts)
    throw new Error(`finalize counted ${run.value.urls.accepted} of ${parts} URLs`);
  return {
    parts,
    simulatedSeconds: run.simulatedSeconds,
    cpuSeconds: run.cpuSeconds,
    s3Gets: store.counters.get,
    slowDowns: store.counters.slowDowns,
  };
}

export interface DispatchRun extends Timing {
  lines: number;
  chunks: number;
  sendBatches: number;
}

/** A URL list of `lines` lines, made as it is read, in 64 KiB blocks. */
async function* urlList(lines: number): AsyncGenerator<Uint8Array> {
  const hosts = [
    'example.com',
    'www.example.org',
    'news.example.net',
    'static.cdn.example.com',
    'a.b.example.io',
  ];
  let block = '';
  for (let i = 0; i < lines; i += 1) {
    block += `https://${hosts[i % hosts.length]}/path/to/page-${i}?ref=scale\n`;
    if (block.length >= 65_536) {
      yield Buffer.from(block);
      block = '';
    }
  }
  if (block) yield Buffer.from(block);
}

/** dispatchJob over a `lines`-line list, sending to a modelled SQS that keeps nothing. */
export async function dispatchStage(lines: number): Promise<DispatchRun> {
  const clock = new VirtualClock();
  const store = new ModelledObjectStore(clock);
  const jobs = new ModelledJobStore(clock);
  const queue = new ModelledQueue(clock, { keep: false });
  const run = await timed(clock, () =>
    dispatchJob({ store, queue, jobs }, request('scale-dispatch', 'urls.txt'), urlList(lines)),
  );
  if (run.value.manifest.accepted !== lines)
    throw new Error(`dispatch accepted ${run.value.manifest.accepted} of ${lines}`);
  return {
    lines,
    chunks: run.value.manifest.chunks,
    sendBatches: queue.counters.sendBatches,
    simulatedSeconds: run.simulatedSeconds,
    cpuSeconds: run.cpuSeconds,
  };
}

export interface ContentionRun extends Timing {
  workers: number;
  shards: number;
  chunks: number;
  completionsPerSecond: number;
  conflicts: number;
  throttles: number;
  failures: number;
  /** Mean simulated time of one processChunk (s), the modelled fetch included. */
  chunkSeconds: number;
  peakItemWriteUnits: number;
  peakItem: string;
  peakInFlight: number;
}

/**
 * `workers` workers (the SQS event source's batch size of 1) taking chunks from a modelled
 * queue for `seconds` of simulated time: processChunk with a stub engine whose fetch takes
 * `fetchMs` of simulated time (a default chunk's modelled fetch; the chunk carries only
 * `itemsPerChunk` URLs so the records stay cheap), part written to modelled S3, chunk counted
 * on the modelled job table with `shards` counter items.
 */
export async function contentionStage(options: {
  workers: number;
  shards: number;
  seconds: number;
  fetchMs: number;
  itemsPerChunk: number;
}): Promise<ContentionRun> {
  const { workers, shards, seconds, fetchMs, itemsPerChunk } = options;
  const clock = new VirtualClock();
  const store = new ModelledObjectStore(clock);
  const jobs = new ModelledJobStore(clock, { shards });
  const queue = new ModelledQueue(clock);
  const jobId = 'scale-chunks';
  const opts = resolveOptions({});
  // Enough chunks for every worker for the whole run; the total is never reached, so no finalize.
  const chunks = Math.ceil((workers * seconds * 1000) / (0.8 * fetchMs)) + workers;
  const messages: ChunkMessage[] = [];
  for (let c = 0; c < chunks; c += 1) {
    const items = Array.from({ length: itemsPerChunk }, (_, i) => ({
      url: `https://example.com/${c}/${i}`,
      line: c * itemsPerChunk + i + 1,
    }));
    messages.push({ jobId, chunkId: chunkIdAt(c), options: opts, items });
  }
  jobs.preloadRunning(jobId, 1e9);
  queue.preload(messages);
  const random = seededRandom(7);
  const engine = {
    // A chunk's fetch takes 80–120% of the modelled time: chunks do not all end at once.
    fetchAll: async (items: readonly InputItem[]) => {
      await clock.sleep(fetchMs * (0.8 + 0.4 * random()));
      return items.map(okRecord);
    },
  } as unknown as FetchEngine;
  // Counted after a warm-up of a fifth of the run, once the workers no longer start in step.
  const warmMs = seconds * 200;
  const endMs = seconds * 1000;
  let done = 0;
  let chunkMs = 0;
  const worker = async () => {
    while (clock.now < endMs) {
      const received = await queue.receive();
      if (!received) break;
      const started = clock.now;
      try {
        await processChunk({ store, jobs, engine }, received.message, { firstDelivery: true });
        await queue.delete(received.receiptHandle);
        if (clock.now > warmMs && clock.now <= endMs) {
          done += 1;
          chunkMs += clock.now - started;
        }
      } catch {
        // A count that failed every retry: the message comes back after its visibility timeout.
        await queue.release(received.receiptHandle, 0);
      }
    }
  };
  const run = await timed(clock, async () => {
    await Promise.all(Array.from({ length: workers }, worker));
  });
  const peak = jobs.peakItemWriteUnits();
  return {
    workers,
    shards,
    chunks: done,
    completionsPerSecond: (done * 1000) / (endMs - warmMs),
    conflicts: jobs.counters.conflicts,
    throttles: jobs.counters.throttles,
    failures: jobs.counters.failures,
    chunkSeconds: done > 0 ? chunkMs / done / 1000 : Number.NaN,
    peakItemWriteUnits: peak.unitsPerSecond,
    peakItem: peak.key,
    peakInFlight: queue.counters.peakInFlight,
    simulatedSeconds: run.simulatedSeconds,
    cpuSeconds: run.cpuSeconds,
  };
}
