// The floor under fanout's engine (reference, not a product): C loops over the URL list,
// each sending its next request through undici's dispatch API on a keep-alive Client of
// the URL's origin, one request per Client at a time (as fanout's engine does, without
// undici's Agent and Pool), and hashing the body with sha256, as fanout's default body
// mode does. No records, timeouts, retries, caps or address policy: what is left is
// undici, the kernel and the hash, which any undici-based fetcher pays.
//
//   node bench/clients/undici-dispatch-loop.mjs --urls FILE --concurrency N
import { createHash, hash } from 'node:crypto';
import { Client } from 'undici';
import { loopArgs, loopClock } from '../lib/loop-client.mjs';

const { urls, concurrency } = loopArgs();
/** Idle Clients by origin, and every Client made, to close at the end. */
const idle = new Map();
const clients = [];

function take(origin) {
  const client = idle.get(origin)?.pop();
  if (client) return client;
  const made = new Client(origin);
  clients.push(made);
  return made;
}

function give(origin, client) {
  const list = idle.get(origin);
  if (list) list.push(client);
  else idle.set(origin, [client]);
}
const headers = { 'user-agent': 'bench', 'accept-encoding': 'gzip, deflate, br', accept: '*/*' };

const clock = loopClock();
let next = 0;
let ok = 0;
let errors = 0;

/** Sends the next URL's request; calls `done` when the list is used up. */
function fetchNext(done) {
  if (next >= urls.length) {
    done();
    return;
  }
  const { origin, pathname, search } = new URL(urls[next++]);
  let status = 0;
  let first = null;
  let digest = null;
  const client = take(origin);
  client.dispatch(
    { origin, path: `${pathname}${search}`, method: 'GET', headers },
    {
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData(_controller, chunk) {
        if (digest) digest.update(chunk);
        else if (first === null) first = chunk;
        else {
          digest = createHash('sha256').update(first).update(chunk);
          first = null;
        }
      },
      onResponseEnd() {
        if (digest) digest.digest('hex');
        else hash('sha256', first ?? Buffer.alloc(0), 'hex');
        if (status === 200) ok += 1;
        else errors += 1;
        give(origin, client);
        fetchNext(done);
      },
      onResponseError() {
        errors += 1;
        give(origin, client);
        fetchNext(done);
      },
    },
  );
}

await Promise.all(Array.from({ length: concurrency }, () => new Promise((resolve) => fetchNext(resolve))));
clock.report({ requests: urls.length, ok, errors });
await Promise.all(clients.map((c) => c.close()));
