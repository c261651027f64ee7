/**
 * undici's private paths, pinned: the two deep imports below skip undici's index, which
 * loads fetch, WebSocket, caches and mocks too (~80 ms of start-up a run would pay
 * before its first request); these two modules are all we use. Private paths may move
 * in any release, so package.json pins undici exactly ("8.13.1", not "^") and
 * test/core/fetch/origin-clients.test.ts fails on any other version, and checks that
 * the modules are the public `Client` and `buildConnector`. To upgrade: check these
 * imports and undici-modules.d.ts against the new release, then move both pins.
 */
import type { buildConnector as BuildConnector, Client, Dispatcher } from 'undici';
import buildConnector from 'undici/lib/core/connect.js';
import UndiciClient from 'undici/lib/dispatcher/client.js';
import type { AddressPolicy } from '../address/address-policy.js';
import { createGuardedLookup, type Resolver } from '../address/guarded-lookup.js';

export interface ConnectionSettings {
  policy: AddressPolicy;
  /** Name resolution; the system resolver unless a test or caller supplies one. */
  resolver?: Resolver | undefined;
  connectTimeoutMs: number;
}

/** One keep-alive connection to one origin: an undici Client, which reconnects as needed. */
export class Connection {
  /** Its socket is open (a 'connect' came after the last 'disconnect'). */
  connected = false;
  /** Waiting in its origin's idle list, not carrying a request. */
  idle = false;
  /** The address its socket connected to, once it has (a WARC record's WARC-IP-Address). */
  remoteAddress: string | null = null;

  constructor(
    readonly origin: string,
    readonly client: Client,
  ) {}

  /** Sends a request on this connection; undici reports to `handler`. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    this.client.dispatch(options, handler);
  }
}

/**
 * The process's keep-alive connections, by origin. The engine takes one for each
 * request and gives it back when undici is done with that request, so a connection
 * carries one request at a time (HTTP/1.1, no pipelining) and an origin never has more
 * connections than requests in flight, which the limiter's per-host cap bounds.
 *
 * This is what undici's Agent and Pool do, without their work that the limiter makes
 * redundant: a queue of requests (each an AsyncResource), two scans of the pool's
 * clients from the first per request (the longer, the more requests an origin has in
 * flight), and three levels of 'drain' events, each with its own array, per response.
 * At 500 requests in flight over ten hosts, `fanout run` spent a fifth less CPU per
 * URL (docs/benchmarks.md).
 *
 * Every connection resolves its host through the guarded lookup, so a socket connects
 * only to an address the policy checked. A connection whose socket closes while idle
 * (the keep-alive timeout, or the server) is dropped, so a list spread over millions of
 * hosts keeps only the connections still open.
 */
export class OriginClients {
  private readonly idle = new Map<string, Connection[]>();
  private readonly live = new Set<Connection>();
  private readonly options: Client.Options;
  private readonly connect: BuildConnector.connector;

  constructor(settings: ConnectionSettings) {
    this.connect = buildConnector({
      timeout: settings.connectTimeoutMs,
      lookup: createGuardedLookup(settings.policy, settings.resolver),
    });
    this.options = {
      pipelining: 1,
      allowH2: false,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      maxHeaderSize: 64 * 1024,
    };
  }

  /** Connections open or carrying a request, all origins together. */
  get size(): number {
    return this.live.size;
  }

  /** An idle connection to `origin` (the scheme, host and port), or a new one. */
  take(origin: string): Connection {
    const connection = this.idle.get(origin)?.pop();
    if (connection) {
      connection.idle = false;
      return connection;
    }
    return this.open(origin);
  }

  /** Gives a connection back once undici is done with its request. */
  give(connection: Connection): void {
    if (!connection.connected) {
      this.drop(connection);
      return;
    }
    connection.idle = true;
    const list = this.idle.get(connection.origin);
    if (list) list.push(connection);
    else this.idle.set(connection.origin, [connection]);
  }

  /** Closes every connection once its request is done. */
  async close(): Promise<void> {
    await Promise.all(Array.from(this.live, (c) => c.client.close()));
    this.live.clear();
    this.idle.clear();
  }

  /** Closes every connection now; requests still under way fail. */
  async destroy(): Promise<void> {
    await Promise.all(Array.from(this.live, (c) => c.client.destroy()));
    this.live.clear();
    this.idle.clear();
  }

  private open(origin: string): Connection {
    let connection: Connection | null = null;
    // The connection notes the address each of its sockets connected to.
    const connect: BuildConnector.connector = (options, callback) =>
      this.connect(options, (...result) => {
        const socket = result[1];
        if (connection && socket) connection.remoteAddress = socket.remoteAddress ?? null;
        callback(...result);
      });
    connection = new Connection(origin, new UndiciClient(origin, { ...this.options, connect }));
    connection.client
      .on('connect', () => {
        connection.connected = true;
      })
      .on('disconnect', () => {
        connection.connected = false;
        if (connection.idle) this.drop(connection);
      });
    this.live.add(connection);
    return connection;
  }

  private drop(connection: Connection): void {
    this.live.delete(connection);
    if (connection.idle) {
      connection.idle = false;
      const list = this.idle.get(connection.origin);
      const at = list ? list.indexOf(connection) : -1;
      if (list && at !== -1) {
        list.splice(at, 1);
        if (list.length === 0) this.idle.delete(connection.origin);
      }
    }
    // No socket and no request: closing only settles the client.
    connection.client.close().catch(() => {});
  }
}
