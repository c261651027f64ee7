// What the Node reference clients share: their command line, and the one JSON line each
// prints about its own fetch loop (start-up excluded), which bench/run.mjs reads.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** --urls FILE --concurrency N: the URL list and the concurrency. */
export function loopArgs() {
  const { values } = parseArgs({
    options: { urls: { type: 'string' }, concurrency: { type: 'string', default: '100' } },
  });
  return { urls: readUrlList(values.urls), concurrency: Number(values.concurrency) };
}

/** The URLs of a list file, one per line. */
export function readUrlList(file) {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** Starts the loop's clock; `report` prints requests, ok, errors and the loop's wall and CPU seconds. */
export function loopClock() {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    report({ requests, ok, errors }) {
      const wallSec = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      console.log(
        JSON.stringify({ requests, ok, errors, wallSec, userSec: cpu.user / 1e6, sysSec: cpu.system / 1e6 }),
      );
    },
  };
}
