// Node's built-in fetch with a bounded worker loop: N async workers take the next URL
// from a shared index until the list is done. The body is read whole (arrayBuffer), as
// a script that uses it would. Node's fetch pools keep-alive connections per origin.
//
//   node bench/clients/node-fetch.mjs --urls FILE --concurrency N
//
// Prints one JSON line: requests, ok, errors, and the loop's own wall and CPU seconds.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { urls: { type: 'string' }, concurrency: { type: 'string', default: '100' } },
});
const urls = readFileSync(values.urls, 'utf8').split('\n').filter(Boolean);
const concurrency = Number(values.concurrency);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
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
const wallSec = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    requests: urls.length,
    ok,
    errors,
    wallSec,
    userSec: cpu.user / 1e6,
    sysSec: cpu.system / 1e6,
  }),
);
