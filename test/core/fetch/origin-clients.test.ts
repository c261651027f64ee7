import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../../lambda/core/address/address-policy.js';
import { BlockedAddressError } from '../../../lambda/core/errors.js';
import { type Connection, OriginClients } from '../../../lambda/core/fetch/origin-clients.js';
import { loopbackResolver, startTargetServer, type TargetServer } from '../../helpers/target-server.js';

interface Answer {
  status: number;
  body: string;
}

/** Sends a GET on a connection taken from `pool`; gives it back once undici is done, as the engine does. */
function get(pool: OriginClients, url: string): { connection: Connection; answer: Promise<Answer> } {
  const target = new URL(url);
  const connection = pool.take(target.origin);
  const answer = new Promise<Answer>((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        pool.give(connection);
        resolve({ status, body: Buffer.concat(chunks).toString() });
      },
      onResponseError(_controller, err) {
        pool.give(connection);
        reject(err);
      },
    };
    connection.dispatch({ origin: target.origin, path: target.pathname, method: 'GET' }, handler);
  });
  return { connection, answer };
}

/** Polls until `check` holds: at most 200 tries, 10 ms apart. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

const loopback = new AddressPolicy({ allowPrivate: false, allow: ['127.0.0.1/32'] });
const pools: OriginClients[] = [];
function pool(policy = loopback): OriginClients {
  const p = new OriginClients({ policy, resolver: loopbackResolver, connectTimeoutMs: 2000 });
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

let server: TargetServer;
let quick: TargetServer;
/** The sockets each server saw a request on. */
const sockets = new Map<TargetServer, Set<Socket>>();
const seen = (s: TargetServer) => sockets.get(s)?.size ?? 0;
const route = (req: { socket: Socket }, res: { end: (body: string) => void }, s: TargetServer) => {
  sockets.get(s)?.add(req.socket);
  res.end('hello');
};

beforeAll(async () => {
  server = await startTargetServer({ '/ok': route });
  // Closes an idle keep-alive socket after 50 ms.
  quick = await startTargetServer({ '/ok': route }, { keepAliveTimeoutMs: 50 });
});
afterAll(async () => {
  await Promise.all([server.close(), quick.close()]);
});
function fresh(): void {
  sockets.set(server, new Set());
  sockets.set(quick, new Set());
}

describe('OriginClients', () => {
  it('carries one request after another on the same connection', async () => {
    fresh();
    const p = pool();
    const first = get(p, server.url('/ok'));
    expect(await first.answer).toEqual({ status: 200, body: 'hello' });
    const second = get(p, server.url('/ok'));
    expect(second.connection).toBe(first.connection);
    expect(await second.answer).toEqual({ status: 200, body: 'hello' });
    expect(seen(server)).toBe(1);
    expect(p.size).toBe(1);
  });

  it('gives requests in flight at once a connection each, and keeps them all for reuse', async () => {
    fresh();
    const p = pool();
    const three = [get(p, server.url('/ok')), get(p, server.url('/ok')), get(p, server.url('/ok'))];
    expect(new Set(three.map((r) => r.connection)).size).toBe(3);
    await Promise.all(three.map((r) => r.answer));
    expect(seen(server)).toBe(3);
    const again = [get(p, server.url('/ok')), get(p, server.url('/ok')), get(p, server.url('/ok'))];
    expect(new Set(again.map((r) => r.connection))).toEqual(new Set(three.map((r) => r.connection)));
    await Promise.all(again.map((r) => r.answer));
    expect(seen(server)).toBe(3);
    expect(p.size).toBe(3);
  });

  it('keeps origins apart: another port, or another name for the same address, is another connection', async () => {
    fresh();
    const p = pool();
    const a = get(p, server.url('/ok'));
    await a.answer;
    const b = get(p, quick.url('/ok'));
    const c = get(p, server.url('/ok', 'localhost'));
    expect(b.connection).not.toBe(a.connection);
    expect(c.connection).not.toBe(a.connection);
    expect((await b.answer).status).toBe(200);
    expect((await c.answer).status).toBe(200);
    expect(seen(server)).toBe(2);
    expect(seen(quick)).toBe(1);
    expect(p.size).toBe(3);
  });

  it('drops a connection whose socket the server closed while it was idle, and opens a new one', async () => {
    fresh();
    const p = pool();
    const first = get(p, quick.url('/ok'));
    await first.answer;
    expect(p.size).toBe(1);
    await eventually(() => p.size === 0);
    const second = get(p, quick.url('/ok'));
    expect(second.connection).not.toBe(first.connection);
    expect((await second.answer).status).toBe(200);
    expect(seen(quick)).toBe(2);
  });

  it('does not keep a connection that never connected', async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const p = pool();
    const refused = get(p, `http://127.0.0.1:${port}/ok`);
    await expect(refused.answer).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(p.size).toBe(0);
  });

  it('connects only to addresses the policy allows', async () => {
    fresh();
    const p = pool(new AddressPolicy({ allowPrivate: false, allow: [] }));
    const blocked = get(p, server.url('/ok', 'somewhere.test'));
    await expect(blocked.answer).rejects.toBeInstanceOf(BlockedAddressError);
    expect(seen(server)).toBe(0);
    expect(p.size).toBe(0);
  });

  it('close() waits for the request under way, then closes every socket', async () => {
    fresh();
    const p = pool();
    await get(p, server.url('/ok')).answer;
    const running = get(p, quick.url('/ok'));
    await p.close();
    expect((await running.answer).status).toBe(200);
    expect(p.size).toBe(0);
    for (const socket of [...(sockets.get(server) ?? []), ...(sockets.get(quick) ?? [])]) {
      await eventually(() => socket.destroyed);
    }
  });
});

// origin-clients.ts imports two of undici's private modules (lib/...), which any release
// may move or change. package.json pins undici exactly; this fails on an upgrade, so
// whoever upgrades checks the deep imports (and the .d.ts beside them) against the new
// release first, then moves the pin here and in package.json together.
describe('undici, pinned for its private paths', () => {
  const PINNED = '8.13.1';

  it(`package.json pins undici to exactly ${PINNED}, and that is what is installed`, () => {
    const require = createRequire(import.meta.url);
    const pkg = require('../../../package.json') as { dependencies: Record<string, string> };
    const installed = (require('undici/package.json') as { version: string }).version;
    expect(pkg.dependencies.undici, 'undici must be pinned exactly (see origin-clients.ts)').toBe(PINNED);
    expect(
      installed,
      `undici ${installed} is installed; origin-clients.ts was checked against ${PINNED}`,
    ).toBe(PINNED);
  });

  it('the private modules are the public Client and buildConnector', async () => {
    const undici = await import('undici');
    const { default: Client } = await import('undici/lib/dispatcher/client.js');
    const { default: buildConnector } = await import('undici/lib/core/connect.js');
    expect(Client).toBe(undici.Client);
    expect(buildConnector).toBe(undici.buildConnector);
  });
});
