// A bare undici loop (reference, not a product): undici.request on one keep-alive Agent
// with N async workers over the URL list, each body read to its end and dropped.
// It is the floor under any undici-based client: fanout adds timeouts, retries, caps,
// the address policy, hashing and one result record per URL on top of it.
//
//   node bench/clients/undici-loop.mjs --urls FILE --concurrency N
import { Agent } from 'undici';
import { loopArgs, loopClock } from '../lib/loop-client.mjs';

const { urls, concurrency } = loopArgs();
const agent = new Agent({ connections: concurrency });

const clock = loopClock();
let next = 0;
let ok = 0;
let errors = 0;
async function worker() {
  while (next < urls.length) {
    const url = urls[next++];
    try {
      const { origin, pathname } = new URL(url);
      const res = await agent.request({ origin, path: pathname, method: 'GET' });
      for await (const _ of res.body);
      if (res.statusCode === 200) ok += 1;
      else errors += 1;
    } catch {
      errors += 1;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
clock.report({ requests: urls.length, ok, errors });
await agent.close();
