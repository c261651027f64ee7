// Node's built-in fetch with a bounded worker loop: N async workers take the next URL
// from a shared index until the list is done. The body is read whole (arrayBuffer), as
// a script that uses it would. Node's fetch pools keep-alive connections per origin.
//
//   node bench/clients/node-fetch.mjs --urls FILE --concurrency N
//
// Prints one JSON line: requests, ok, errors, and the loop's own wall and CPU seconds.
import { loopArgs, loopClock } from '../lib/loop-client.mjs';

const { urls, concurrency } = loopArgs();
const clock = loopClock();
let next = 0;
let ok = 0;
let errors = 0;
async function worker() {
  while (next < urls.length) {
    const url = urls[next++];
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) ok += 1;
      else errors += 1;
    } catch {
      errors += 1;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
clock.report({ requests: urls.length, ok, errors });
