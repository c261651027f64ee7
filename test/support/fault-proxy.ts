import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy sees it. */
export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The SQS/DynamoDB JSON operation (X-Amz-Target), e.g. 'AmazonSQS.SendMessageBatch'. */
  target: string;
}

/** What a rule does to a request it matches. */
export type Fault =
  /** Answer without forwarding. */
  | { kind: 'respond'; status: number; body: string; contentType?: string }
  /** Forward a rewritten body, then rewrite the response body. */
  | { kind: 'rewrite'; request?: (body: Buffer) => Buffer; response: (body: Buffer, sent: Buffer) => Buffer };

export interface FaultRule {
  name: string;
  matches(req: ProxiedRequest): boolean;
  fault: Fault | ((req: ProxiedRequest) => Fault);
  /** How many matching requests get the fault (the rest pass). @default Infinity */
  times?: number;
  /** Fault every n-th matching request (1 = each). @default 1 */
  every?: number;
}

/**
 * An HTTP proxy in front of an AWS-compatible endpoint (moto) that injects faults: answers
 * chosen requests with errors, or rewrites them and their responses. Clients point their
 * endpoint at it; `injected` counts what each rule did.
 */
export class FaultProxy {
  readonly injected = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private server: Server | null = null;
  endpoint = '';

  constructor(
    private readonly upstream: string,
    private readonly rules: FaultRule[],
  ) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const proxied: ProxiedRequest = {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks),
          target: String(req.headers['x-amz-target'] ?? ''),
        };
        const fault = this.faultFor(proxied);
        if (fault?.kind === 'respond') {
          res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/xml' });
          res.end(fault.body);
          return;
        }
        const sent = fault?.request ? fault.request(proxied.body) : proxied.body;
        this.forward(proxied, sent)
          .then(({ status, headers, body }) => {
            const out = fault ? fault.response(body, sent) : body;
            const { 'content-length': _length, 'transfer-encoding': _encoding, ...rest } = headers;
            res.writeHead(status, { ...rest, 'content-length': out.length });
            res.end(out);
          })
          .catch((err: Error) => {
            res.writeHead(502).end(err.message);
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private faultFor(req: ProxiedRequest): Fault | null {
    for (const rule of this.rules) {
      if (!rule.matches(req)) continue;
      const seen = (this.seen.get(rule.name) ?? 0) + 1;
      this.seen.set(rule.name, seen);
      const done = this.injected.get(rule.name) ?? 0;
      // This rule lets the request pass; a later rule may still take it.
      if (done >= (rule.times ?? Number.POSITIVE_INFINITY) || seen % (rule.every ?? 1) !== 0) continue;
      this.injected.set(rule.name, done + 1);
      return typeof rule.fault === 'function' ? rule.fault(req) : rule.fault;
    }
    return null;
  }

  private forward(req: ProxiedRequest, body: Buffer) {
    const url = new URL(req.path, this.upstream);
    const headers = { ...req.headers, host: url.host, 'content-length': String(body.length) };
    return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>(
      (resolve, reject) => {
        const out = request(url, { method: req.method, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        });
        out.on('error', reject);
        out.end(body);
      },
    );
  }
}
