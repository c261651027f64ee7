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
//
// Prints one JSON line: lines, accepted, invalid, chunks, seconds, urlsPerSecond.
import { parseArgs } from 'node:util';
import { MemoryJobStore } from '../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../lambda/adapters/memory-object-store.js';
import { openInput } from '../lambda/core/input/open-input.js';
import { dispatchJob } from '../lambda/core/job/dispatch.js';
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
  },
});
if (!values.input) throw new Error('--input FILE is required');
const given = values['chunk-size'] ? { chunkSize: Number(values['chunk-size']) } : {};
const options = resolveOptions(given);
const queue = new DroppingQueue();
const started = performance.now();
const result = await dispatchJob(
  { store: new MemoryObjectStore(), queue, jobs: new MemoryJobStore() },
  {
    jobId: 'bench',
    source: values.input,
    format: 'auto',
    options,
    submittedAt: new Date().toISOString(),
  },
  await openInput(values.input),
);
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
  }),
);
