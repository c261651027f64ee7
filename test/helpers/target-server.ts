import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse, server: TargetServer) => unknown;

/** A real HTTP server on 127.0.0.1 for fetch tests: routes by path, counts what it sees. */
export class TargetServer {
  /** Each request as it started (`at`), and when its answer ended or the client left (`doneAt`). */
  readonly requests: Array<{
    path: string;
    host: string;
    at: number;
    doneAt?: number;
    headers: IncomingMessage['headers'];
  }> = [];
  /**
   * Requests for /robots.txt, kept apart from `requests` and the in-flight counts so those
   * count what a test sent. Answered 404 (allow all) unless a route names /robots.txt.
   */
  readonly robotsRequests: Array<{ host: string; at: number; headers: IncomingMessage['headers'] }> = [];
  /** Requests being answered right now, and the most seen at once: overall and per Host header. */
  inFlight = 0;
  maxInFlight = 0;
  readonly hostInFlight = new Map<string, number>();
  readonly hostMaxInFlight = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private readonly aliases: NetServer[] = [];
  port = 0;

  constructor(
    private readonly routes: Record<string, Route>,
    private readonly options: TargetServerOptions = {},
  ) {}

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  hits(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    if (this.options.keepAliveTimeoutMs !== undefined)
      server.keepAliveTimeout = this.options.keepAliveTimeoutMs;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    // More loopback addresses on the same port: distinct hosts, one server and one record.
    for (const address of this.options.alsoOn ?? []) {
      const alias = createNetServer((socket) => server.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        alias.once('error', reject);
        alias.listen(this.port, address, resolve);
      });
      this.aliases.push(alias);
    }
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.aliases.map((alias) => new Promise((resolve) => alias.close(resolve))));
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (url.pathname === '/robots.txt') {
      this.robotsRequests.push({ host, at: Date.now(), headers: req.headers });
      const robots = this.routes['/robots.txt'];
      if (robots) Promise.resolve(robots(req, res, this)).catch(() => res.destroy());
      else res.writeHead(404).end('no robots.txt');
      return;
    }
    const request: TargetServer['requests'][number] = {
      path: url.pathname,
      host,
      at: Date.now(),
      headers: req.headers,
    };
    this.requests.push(request);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const hostNow = (this.hostInFlight.get(host) ?? 0) + 1;
    this.hostInFlight.set(host, hostNow);
    this.hostMaxInFlight.set(host, Math.max(this.hostMaxInFlight.get(host) ?? 0, hostNow));
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      request.doneAt = Date.now();
      this.inFlight -= 1;
      this.hostInFlight.set(host, (this.hostInFlight.get(host) ?? 1) - 1);
    };
    res.on('close', finish);
    const route = this.routes[url.pathname] ?? this.options.fallback;
    if (!route) {
      res.writeHead(404).end('no route');
      return;
    }
    Promise.resolve(route(req, res, this)).catch(() => res.destroy());
  }
}

export interface TargetServerOptions {
  /** Answers paths without a route; 404 when absent. */
  fallback?: Route;
  /** Server-side idle keep-alive; Node's default (5 s) when absent. */
  keepAliveTimeoutMs?: number;
  /** Other loopback addresses (e.g. 127.0.0.2) served on the same port, as distinct host names. */
  alsoOn?: readonly string[];
}

/** Starts a target server with the given routes. */
export function startTargetServer(
  routes: Record<string, Route>,
  options?: TargetServerOptions,
): Promise<TargetServer> {
  return new TargetServer(routes, options).start();
}

/** A resolver that answers every name with 127.0.0.1, so tests can use many host names on one server. */
export const loopbackResolver = async () => [{ address: '127.0.0.1', family: 4 as const }];
