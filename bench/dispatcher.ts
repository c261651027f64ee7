// Dispatcher throughput: the real dispatchJob (streamed parse, URL checks, chunking,
// rejected lines gzipped, chunk messages sent in batches of 10) over a URL list file,
// with in-memory adapters and a queue that drops what it is sent. This is the work the
// dispatcher Lambda does per URL, without the network round trips to S3 and SQS.
//
// bench/run.mjs bundles this file with esbuild and runs it under bench/rusage.py for the
// peak RSS. Alone:
//   npx esbuild bench/dispatcher.ts --bundle --platform=node --format=esm \
//     --packages=external --outfile=/tmp/dispatcher.mjs
//   node /tmp/dispatcher.mjs --input urls.txt [--chunk-size 250]
//     [--pause-every N [--resume offset|reread]]
//
// With --pause-every, the dispatch runs as a chain of runs, each handing over after N
// chunks as a dispatcher out of Lambda time does. --resume offset (the default) opens
// each further run at its checkpoint's byte offset; --resume reread reads the list from
// the start again and skips the lines handled (what every hand-over did before, and
// what a gzipped list still does).
//
// Prints one JSON line: lines, accepted, invalid, chunks, seconds, urlsPerSecond; with
// --pause-every also runs, bytesRead and secondsPerHandOver.
import { parseArgs } from 'node:util';
import { MemoryJobStore } from '../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../lambda/adapters/memory-object-store.js';
import { openInput } from '../lambda/core/input/open-input.js';
import {
  type DispatchCheckpoint,
  type DispatchResult,
  dispatchJob,
  type OpenSource,
} from '../lambda/core/job/dispatch.js';
import type { JobRequest } from '../lambda/core/job/job-request.js';
import { resolveOptions } from '../lambda/core/options.js';
import type { ChunkMessage, ChunkQueue } from '../lambda/core/ports.js';

/** A queue that keeps nothing: counts what it is sent. */
class DroppingQueue implements ChunkQueue {
  messages = 0;
  items = 0;
  async send(messages: readonly ChunkMessage[]): Promise<void> {
    this.messages += messages.length;
    for (const message of messages) this.items += message.items.length;
  }
}

const { values } = parseArgs({
  options: {
    input: { type: 'string' },
    'chunk-size': { type: 'string' },
    'pause-every': { type: 'string' },
    resume: { type: 'string' },
  },
});
if (!values.input) throw new Error('--input FILE is required');
const input: string = values.input;
const pauseEvery = values['pause-every'] === undefined ? null : Number(values['pause-every']);
if (pauseEvery !== null && !(Number.isInteger(pauseEvery) && pauseEvery > 0))
  throw new Error(`--pause-every must be a positive integer, got ${values['pause-every']}`);
const resumeBy = values.resume ?? 'offset';
if (resumeBy !== 'offset' && resumeBy !== 'reread')
  throw new Error(`--resume must be offset or reread, got ${resumeBy}`);
const given = values['chunk-size'] ? { chunkSize: Number(values['chunk-size']) } : {};
const options = resolveOptions(given);
const queue = new DroppingQueue();
const deps = { store: new MemoryObjectStore(), queue, jobs: new MemoryJobStore() };
const request: JobRequest = {
  jobId: 'bench',
  source: input,
  format: 'auto',
  options,
  submittedAt: new Date().toISOString(),
};

let bytesRead = 0;
async function* counted(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    bytesRead += piece.length;
    yield piece;
  }
}
const fromOffset: OpenSource = async (start) => ({ body: counted(await openInput(input, start.offset)) });

/** One run of a chain: hands over after `pauseEvery` chunks. */
async function oneRun(resume: DispatchCheckpoint | undefined): Promise<DispatchResult> {
  let made = 0;
  const shouldPause = () => ++made % (pauseEvery as number) === 0;
  const source = resumeBy === 'offset' ? fromOffset : counted(await openInput(input));
  return dispatchJob(deps, request, source, { shouldPause, ...(resume && { resume }) });
}

const started = performance.now();
let runs = 0;
let result: DispatchResult;
if (pauseEvery === null) {
  result = await dispatchJob(deps, request, counted(await openInput(input)));
  runs = 1;
} else {
  let resume: DispatchCheckpoint | undefined;
  do {
    result = await oneRun(resume);
    runs += 1;
    resume = result.paused ?? undefined;
  } while (result.paused);
}
const seconds = (performance.now() - started) / 1000;
const { manifest } = result;
if (!manifest) throw new Error('dispatch paused unexpectedly');
console.log(
  JSON.stringify({
    lines: manifest.lines,
    accepted: manifest.accepted,
    invalid: manifest.invalid,
    chunks: manifest.chunks,
    sentItems: queue.items,
    seconds,
    urlsPerSecond: manifest.accepted / seconds,
    ...(pauseEvery !== null && { resume: resumeBy, pauseEvery, runs, bytesRead }),
  }),
);
