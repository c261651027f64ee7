// A small local website for the demo: pages, a redirect chain, a 404, a flaky page that
// answers 503 once before it works, a compressed page and a slow one. 127.0.0.1 only.
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';

/** Starts the demo site on 127.0.0.1 (port 0 = any free port); resolves to { origin, close }. */
export async function startDemoSite(port = 0) {
  const flakyHits = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.local');
    const path = url.pathname;
    if (path === '/' || path.startsWith('/page/')) {
      const body = `<!doctype html><title>fanout demo ${path}</title><h1>Page ${path}</h1>${'<p>lorem ipsum</p>'.repeat(40)}`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    } else if (path.startsWith('/moved/')) {
      res.writeHead(301, { location: `/page/${path.slice('/moved/'.length)}` }).end();
    } else if (path.startsWith('/flaky/')) {
      const hits = (flakyHits.get(path) ?? 0) + 1;
      flakyHits.set(path, hits);
      if (hits === 1) res.writeHead(503, { 'retry-after': '0' }).end('try again');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('worked on retry');
    } else if (path === '/compressed') {
      const body = gzipSync(JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i })) }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(body);
    } else if (path === '/slow') {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow but fine'), 300);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address();
  return {
    origin: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The demo's URL list for a running site: mostly good URLs, a few failures, a few invalid lines. */
export function demoList(origin) {
  const lines = ['# fanout demo list: one URL per line; blank lines and # comments are ignored', ''];
  for (let i = 1; i <= 200; i += 1) lines.push(`${origin}/page/${i}`);
  for (let i = 1; i <= 20; i += 1) lines.push(`${origin}/moved/${i}`);
  for (let i = 1; i <= 10; i += 1) lines.push(`${origin}/flaky/${i}`);
  lines.push(`${origin}/compressed`, `${origin}/slow`, `${origin}/missing`);
  lines.push('http://127.0.0.1:9/closed-port', 'ftp://example.com/not-http', 'not a url at all');
  return `${lines.join('\n')}\n`;
}
