// A bare undici loop (reference, not a product): undici.request on one keep-alive Agent
// with N async workers over the URL list, each body read to its end and dropped.
// It is the floor under any undici-based client: fanout adds timeouts, retries, caps,
// the address policy, hashing and one result record per URL on top of it.
//
//   node bench/clients/undici-loop.mjs --urls FILE --concurrency N
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';

const { values } = parseArgs({
  options: { urls: { type: 'string' }, concurrency: { type: 'string', default: '100' } },
});
const urls = readFileSync(values.urls, 'utf8').split('\n').filter(Boolean);
const concurrency = Number(values.concurrency);
const agent = new Agent({ connections: concurrency });

const cpu0 = process.cpuUsage();
const t0 = performance.now();
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
const wallSec = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await agent.close();
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
