// fanout's fetch engine alone (a reference, not a product path): the URL list cut into
// chunks of the default size and fetched by FetchEngine.fetchAll with as many chunks in
// hand as `fanout run` keeps, its options resolved as the CLI resolves them. No input
// parsing, no parts, no finalize: set beside `fanout run` and the dispatch loop (the
// floor), it splits fanout's cost into the engine's and the pipeline's.
//
// bench/run.mjs bundles this file with esbuild (as it does bench/dispatcher.ts). Alone:
//   npx esbuild bench/engine.ts --bundle --platform=node --format=esm \
//     --packages=external --outfile=bench/.build/engine.mjs
//   node bench/.build/engine.mjs --urls FILE --concurrency N [--per-host N]
//
// Prints the reference clients' JSON line (bench/lib/loop-client.mjs).
import { parseArgs } from 'node:util';
import { FetchEngine } from '../lambda/core/fetch/engine.js';
import { resolveOptions } from '../lambda/core/options.js';
import type { InputItem } from '../lambda/core/record.js';
import { chunksInHand } from '../lambda/local/run-local.js';
import { loopClock, readUrlList } from './lib/loop-client.mjs';

const { values } = parseArgs({
  options: {
    urls: { type: 'string' },
    concurrency: { type: 'string', default: '100' },
    'per-host': { type: 'string' },
  },
});
if (!values.urls) throw new Error('--urls FILE is required');
const urls = readUrlList(values.urls);
const options = resolveOptions({
  concurrency: Number(values.concurrency),
  ...(values['per-host'] && { perHost: Number(values['per-host']) }),
  allow: ['127.0.0.0/8'],
});
const engine = new FetchEngine({ options });

const clock = loopClock();
let next = 0;
let ok = 0;
let errors = 0;
/** One of the chunks in hand: takes the next chunk of the list until none is left. */
async function worker(): Promise<void> {
  while (next < urls.length) {
    const first = next;
    next += options.chunkSize;
    const items: InputItem[] = urls
      .slice(first, first + options.chunkSize)
      .map((url, i) => ({ line: first + i + 1, url }));
    for (const record of await engine.fetchAll(items)) {
      if (record.status === 200 && record.error === null) ok += 1;
      else errors += 1;
    }
  }
}
await Promise.all(Array.from({ length: chunksInHand(options) }, worker));
clock.report({ requests: urls.length, ok, errors });
await engine.close();
