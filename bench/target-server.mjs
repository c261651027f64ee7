// The benchmark's target: a lean HTTP/1.1 server on several loopback addresses.
//
//   node bench/target-server.mjs [--hosts N] [--port P] [--latency MS] [--bytes N]
//
// It listens on 127.0.0.1 … 127.0.0.N (one port for all) and prints one JSON line,
// {"port": P, "hosts": ["127.0.0.1", …]}, once it is ready. Every request is answered
// with 200, a text/plain body and keep-alive, after a delay. The path picks the delay
// and the body size per request: /l<ms>/b<bytes>/<anything> (e.g. /l50/b2048/17);
// a path without them gets --latency and --bytes.
//
// It speaks just enough HTTP/1.1 for GET and HEAD without request bodies, on raw
// sockets: the clients share this machine's two cores with it, so every microsecond it
// saves goes to the client being measured. wrk measures its ceiling in the same run.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '8' },
    port: { type: 'string', default: '0' },
    latency: { type: 'string', default: '0' },
    bytes: { type: 'string', default: '2048' },
  },
});
const hostCount = Number(values.hosts);
const defaultLatency = Number(values.latency);
const defaultBytes = Number(values.bytes);

/** Ready-made responses by body size: header and body in one buffer. */
const responses = new Map();
function response(bytes, head) {
  const key = head ? -bytes - 1 : bytes;
  let buf = responses.get(key);
  if (!buf) {
    // HTTP/1.1 keeps the connection open by default; the socket is never timed out here.
    const header = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${bytes}\r\n\r\n`;
    const body = Buffer.alloc(head ? 0 : bytes, 'abcdefghijklmnopqrstuvwxyz0123456789\n');
    buf = Buffer.concat([Buffer.from(header, 'latin1'), body]);
    responses.set(key, buf);
  }
  return buf;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Reads "/l<ms>/b<bytes>/…" off a request target. */
function parseTarget(target) {
  let latency = defaultLatency;
  let bytes = defaultBytes;
  const m = /^\/l(\d+)\/b(\d+)(?:\/|$)/.exec(target);
  if (m) {
    latency = Number(m[1]);
    bytes = Number(m[2]);
  }
  return { latency, bytes };
}

function onConnection(socket) {
  socket.setNoDelay(true);
  let pending = null;
  // Responses go out in request order even when their delays differ (pipelining).
  const queue = [];
  const flush = () => {
    while (queue.length > 0 && queue[0].ready) {
      const entry = queue.shift();
      if (!socket.destroyed) socket.write(entry.buf);
      if (entry.close) socket.end();
    }
  };
  socket.on('data', (chunk) => {
    let data = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let start = 0;
    for (;;) {
      const end = data.indexOf(CRLFCRLF, start);
      if (end === -1) break;
      const head = data.latin1Slice(start, end);
      start = end + 4;
      const firstSpace = head.indexOf(' ');
      const secondSpace = head.indexOf(' ', firstSpace + 1);
      const method = head.slice(0, firstSpace);
      const target = head.slice(firstSpace + 1, secondSpace);
      const lower = head.toLowerCase();
      const close = lower.includes('\r\nconnection: close') || head.endsWith('HTTP/1.0');
      const { latency, bytes } = parseTarget(target);
      const entry = { buf: response(bytes, method === 'HEAD'), ready: latency === 0, close };
      queue.push(entry);
      if (latency > 0) {
        setTimeout(() => {
          entry.ready = true;
          flush();
        }, latency);
      }
    }
    if (start < data.length) {
      data = data.subarray(start);
      if (data.length > 64 * 1024) socket.destroy();
      else pending = Buffer.from(data);
    }
    flush();
  });
  socket.on('error', () => {});
}

const hosts = Array.from({ length: hostCount }, (_, i) => `127.0.0.${i + 1}`);
let port = Number(values.port);
const servers = [];
for (const host of hosts) {
  const server = net.createServer({ noDelay: true }, onConnection);
  server.maxConnections = 20_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: 4096 }, resolve);
  });
  port = server.address().port;
  servers.push(server);
}
process.stdout.write(`${JSON.stringify({ port, hosts })}\n`);

const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
