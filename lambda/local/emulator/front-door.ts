/**
 * The emulated AWS front door: one local HTTP endpoint every emulated function's SDK clients talk
 * to. For each request it finds the caller (the SigV4 access key id names a function), classifies
 * what IAM authorizes (aws-call.ts), evaluates the caller's role policies (iam-policy.ts), and
 * either answers AccessDenied as the service does (access-denied.ts) or forwards the request,
 * streamed, to the service's backend emulator (moto, LocalStack); Lambda Invoke and EventBridge
 * PutEvents go to the hooks instead.
 *
 * Only identity-based policies are evaluated. Resource-based policies (bucket and queue
 * policies), permission boundaries, SCPs and session policies are not: the stack's enforce-SSL
 * bucket and queue policies would refuse every plain-HTTP call of the emulator. Signatures are
 * not verified: the access key id alone names the caller.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { accessDenied, denialMessage, type HttpAnswer } from './access-denied.js';
import { type AwsCall, classifyRequest, functionName } from './aws-call.js';
import { evaluatePolicies, type PolicyDocument } from './iam-policy.js';

export interface Principal {
  /** The function, e.g. 'Worker'. */
  name: string;
  /** The role's ARN, as AccessDenied messages name the caller. */
  arn: string;
  policies: PolicyDocument[];
}

export interface CallRecord {
  principal: string;
  service: string;
  operation: string;
  action: string;
  resource: string;
  allowed: boolean;
  reason?: string;
}

/** One distinct (principal, operation, action, resource, allowed) and how many calls it stood for. */
export interface CallSummary extends CallRecord {
  count: number;
}

type Backend = 's3' | 'sqs' | 'dynamodb' | 'secretsmanager';

export interface FrontDoorOptions {
  /** The endpoint URL of each forwarded service's backend emulator. */
  backends: Partial<Record<Backend, string>>;
  region: string;
  account(service: string): string;
  /** Access key id → principal. An unknown key is the operator: unrestricted, recorded as 'operator'. */
  principals: ReadonlyMap<string, Principal>;
  /**
   * lambda:InvokeFunction, once allowed; `statusCode` as Lambda answers (200 RequestResponse, 202
   * Event), `functionError` its X-Amz-Function-Error. Without it, an allowed Invoke is refused.
   */
  invoke?(call: {
    functionName: string;
    invocationType: string;
    payload: Buffer;
    caller: string;
  }): Promise<{ statusCode: number; payload?: Buffer; functionError?: string }>;
  /** events:PutEvents, once allowed (the entries as the SDK sent them). Without it, events are dropped. */
  putEvents?(entries: unknown[], caller: string): void;
  /** After a successful PutObject / CompleteMultipartUpload / CopyObject forwarded to the backend. */
  onObjectCreated?(event: { bucket: string; key: string; size?: number; eTag?: string }): void;
}

const OPERATOR = 'operator';
/** Denials kept one by one; `calls` counts all of them. */
const MAX_DENIALS = 1000;
/** Headers that belong to one hop; `expect` because the front door answered 100-continue itself. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'host',
]);
const OBJECT_CREATED = new Set(['PutObject', 'CompleteMultipartUpload', 'CopyObject']);

export class FrontDoor {
  readonly #server: Server;
  readonly #options: FrontDoorOptions;
  readonly #calls = new Map<string, CallSummary>();
  /** Each refused call, in order (the first MAX_DENIALS). */
  readonly denials: CallRecord[] = [];
  readonly endpoint: string;

  private constructor(server: Server, options: FrontDoorOptions) {
    this.#server = server;
    this.#options = options;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Starts the front door on 127.0.0.1, on a free port. */
  static async start(options: FrontDoorOptions): Promise<FrontDoor> {
    for (const [service, url] of Object.entries(options.backends)) {
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
        throw new Error(`front door: the ${service} backend ${JSON.stringify(url)} is not an http(s) URL`);
      }
    }
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const door = new FrontDoor(server, options);
    const handle = (continues: boolean) => (req: IncomingMessage, res: ServerResponse) => {
      door.#handle(req, res, continues).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`front door: ${err instanceof Error ? err.message : String(err)}`);
      });
    };
    server.on('request', handle(false));
    // Answer 100-continue only once the call is allowed: a refusal is sent before the body, as S3 does.
    server.on('checkContinue', handle(true));
    return door;
  }

  /** Every distinct call seen, with counts (bounded by the distinct calls, not by traffic). */
  get calls(): readonly CallSummary[] {
    return [...this.#calls.values()];
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse, continues: boolean): Promise<void> {
    const head = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    const readBody = async () => {
      if (continues) res.writeContinue();
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    // The authorizations of JSON protocols and S3 DeleteObjects are in the body; S3 objects stream.
    let call = classifyRequest(head, this.#options);
    const buffered = call.service !== 's3' || /[?&]delete(=|&|$)/.test(head.path);
    const body = buffered ? await readBody() : undefined;
    if (body) call = classifyRequest({ ...head, body }, this.#options);
    const principal = call.accessKeyId ? this.#options.principals.get(call.accessKeyId) : undefined;
    const caller = principal?.name ?? OPERATOR;

    if (call.operation === 'unknown') {
      // Unclassified: refused to a function, passed on for the operator (unrestricted) when it can be.
      const allowed = !principal && this.#backend(call.service) !== undefined;
      const reason = allowed
        ? `the operator's ${head.method} ${head.path}, not classified: ${call.reason}`
        : `fanout's front door refuses ${head.method} ${head.path}: ${call.reason}`;
      const [path] = head.path.split('?');
      this.#record({
        principal: caller,
        service: call.service,
        operation: 'unknown',
        action: 'unknown',
        resource: path!,
        allowed,
        reason,
      });
      if (!allowed) return this.#answer(req, res, accessDenied(call.service, head, reason));
    }
    for (const { action, resource } of call.authorizations) {
      const decision = principal
        ? evaluatePolicies(principal.policies, { action, resource, context: call.context })
        : undefined;
      const allowed = !decision || decision.effect === 'Allow';
      const reason = decision && decision.effect !== 'Allow' ? decision.effect : undefined;
      this.#record({
        principal: caller,
        service: call.service,
        operation: call.operation,
        action,
        resource,
        allowed,
        ...(reason && { reason }),
      });
      if (!allowed && principal) {
        const message = denialMessage(principal.arn, action, resource, decision?.effect === 'ExplicitDeny');
        return this.#answer(req, res, accessDenied(call.service, head, message));
      }
    }
    if (call.service === 'lambda') return this.#invoke(call, body!, caller, req, res);
    if (call.service === 'events') return this.#putEvents(body!, caller, res);
    const backend = this.#backend(call.service);
    if (!backend) {
      return this.#answer(
        req,
        res,
        accessDenied(call.service, head, `fanout's front door has no backend for ${call.service}`),
      );
    }
    if (continues && !body) res.writeContinue();
    return this.#forward(req, res, backend, call, body, principal);
  }

  #backend(service: string): string | undefined {
    return this.#options.backends[service as Backend];
  }

  #record(record: CallRecord): void {
    const key = JSON.stringify([
      record.principal,
      record.operation,
      record.action,
      record.resource,
      record.allowed,
    ]);
    const seen = this.#calls.get(key);
    if (seen) seen.count += 1;
    else this.#calls.set(key, { ...record, count: 1 });
    if (!record.allowed && this.denials.length < MAX_DENIALS) this.denials.push(record);
  }

  /** Sends a whole answer; a request body not read yet is left unread and the connection closed. */
  #answer(req: IncomingMessage, res: ServerResponse, answer: HttpAnswer): void {
    const unread = !req.complete;
    res.writeHead(answer.statusCode, {
      ...answer.headers,
      'content-length': Buffer.byteLength(answer.body),
      ...(unread && { connection: 'close' }),
    });
    res.end(answer.body);
    if (unread) req.resume();
  }

  async #invoke(
    call: AwsCall,
    payload: Buffer,
    caller: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { invoke } = this.#options;
    const invocationType =
      call.operation === 'InvokeAsync'
        ? 'Event'
        : String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!invoke) {
      const head = { method: req.method ?? 'POST', headers: req.headers };
      return this.#answer(req, res, accessDenied('lambda', head, "fanout's front door has no invoke hook"));
    }
    const name = functionName(call.authorizations[0]!.resource);
    const result = await invoke({ functionName: name, invocationType, payload, caller });
    res.writeHead(result.statusCode, {
      'content-type': 'application/json',
      'x-amz-executed-version': '$LATEST',
      ...(result.functionError && { 'x-amz-function-error': result.functionError }),
    });
    res.end(result.payload ?? '');
  }

  #putEvents(body: Buffer, caller: string, res: ServerResponse): void {
    const entries = (JSON.parse(body.toString('utf8')) as { Entries: unknown[] }).Entries;
    this.#options.putEvents?.(entries, caller);
    const answer = JSON.stringify({
      FailedEntryCount: 0,
      Entries: entries.map(() => ({ EventId: randomUUID() })),
    });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(answer);
  }

  /**
   * Forwards a request to the backend and its answer back, both streamed, except the small
   * answers of the writes that create an object (read for their ETag, and because S3 may answer
   * CompleteMultipartUpload and CopyObject with 200 and an error in the body).
   */
  async #forward(
    req: IncomingMessage,
    res: ServerResponse,
    backend: string,
    call: AwsCall,
    body: Buffer | undefined,
    principal: Principal | undefined,
  ): Promise<void> {
    const url = new URL(backend);
    const headers: Record<string, string | string[]> = { host: url.host };
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
    }
    if (body) {
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
    }
    const upstream = httpRequest({
      hostname: url.hostname,
      port: url.port,
      method: req.method,
      path: req.url,
      headers,
    });
    const responded = once(upstream, 'response') as Promise<[IncomingMessage]>;
    if (body) upstream.end(body);
    else pipeline(req, upstream).catch((err: unknown) => upstream.destroy(err as Error));
    const [answer] = await responded;
    const status = answer.statusCode ?? 502;

    if (status === 404 && principal && (call.operation === 'GetObject' || call.operation === 'HeadObject')) {
      const missing = this.#missingKeyDenial(call, principal);
      if (missing) {
        answer.resume();
        return this.#answer(
          req,
          res,
          accessDenied('s3', { method: req.method ?? 'GET', headers: req.headers }, missing),
        );
      }
    }
    const outHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) outHeaders[name] = value;
    }
    const created =
      call.service === 's3' && OBJECT_CREATED.has(call.operation) && status >= 200 && status < 300;
    if (!created) {
      res.writeHead(status, outHeaders);
      return pipeline(answer, res);
    }
    // The answer is small XML (empty for PutObject): read it, report the object, then answer, so
    // the hook has run when the caller sees its write succeed.
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    const xml = Buffer.concat(chunks);
    const text = xml.toString('utf8');
    if (!/<Error>/.test(text)) {
      const eTag =
        (answer.headers.etag as string | undefined) ??
        /<ETag>([^<]*)<\/ETag>/.exec(text)?.[1]?.replace(/&quot;|&#34;/g, '"');
      const sent = Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length']);
      const size =
        call.operation === 'PutObject' && !Number.isNaN(sent) ? sent : await this.#size(backend, call, req);
      this.#created(call, size, eTag);
    }
    res.writeHead(status, outHeaders);
    res.end(xml);
  }

  /** S3's 403-for-404: without s3:ListBucket on the bucket, a missing key is AccessDenied. */
  #missingKeyDenial(call: AwsCall, principal: Principal): string | undefined {
    const bucketArn = call.authorizations[0]!.resource.replace(/^(arn:aws:s3:::[^/]+)\/.*$/, '$1');
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (and API_HeadObject.html):
    // "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403".
    const decision = evaluatePolicies(principal.policies, {
      action: 's3:ListBucket',
      resource: bucketArn,
      context: call.context,
    });
    if (decision.effect === 'Allow') return undefined;
    this.#record({
      principal: principal.name,
      service: 's3',
      operation: call.operation,
      action: 's3:ListBucket',
      resource: bucketArn,
      allowed: false,
      reason: `missing key answered 403, not 404 (${decision.effect})`,
    });
    return denialMessage(principal.arn, 's3:ListBucket', bucketArn, decision.effect === 'ExplicitDeny');
  }

  #created(call: AwsCall, size: number | undefined, eTag: string | undefined): void {
    const [, bucket = '', key = ''] =
      /^arn:aws:s3:::([^/]+)\/(.*)$/s.exec(call.authorizations[0]!.resource) ?? [];
    this.#options.onObjectCreated?.({
      bucket,
      key,
      ...(size !== undefined && { size }),
      ...(eTag && { eTag }),
    });
  }

  /**
   * The created object's size, from a HEAD to the backend (undefined when it does not answer one).
   * It carries the caller's SigV4 headers: the backends do not verify signatures, but moto treats
   * an unsigned request as anonymous, subject to the object's ACL.
   */
  async #size(backend: string, call: AwsCall, req: IncomingMessage): Promise<number | undefined> {
    const [, bucket = '', key = ''] =
      /^arn:aws:s3:::([^/]+)\/(.*)$/s.exec(call.authorizations[0]!.resource) ?? [];
    const path = `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const headers: Record<string, string> = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    for (const name of ['authorization', 'x-amz-date', 'x-amz-security-token']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      const res = await fetch(new URL(path, backend), { method: 'HEAD', headers });
      const length = Number(res.headers.get('content-length'));
      return res.ok && !Number.isNaN(length) ? length : undefined;
    } catch {
      return undefined;
    }
  }
}
