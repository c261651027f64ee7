import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Target } from './target.js';

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SHA-256 (or HMAC-SHA-256, given a secret) that SignatureV4 asks for, on node:crypto. */
export class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

/** The region of an API Gateway URL (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function apiRegion(url: URL): string | undefined {
  return /^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

/** A request to sign and send. */
export interface SignedRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: URL;
  /** A JSON body. */
  body?: string;
}

/** Longest wait for one API request. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends a request signed with SigV4 for `execute-api` (the API is IAM-authorized), using the
 * default credential chain; the region is the API URL's, else the target's.
 */
export async function signedFetch(target: Target, request: SignedRequest): Promise<Response> {
  const { url, method, body } = request;
  const signer = new SignatureV4({
    service: 'execute-api',
    region: apiRegion(url) ?? (await target.region()),
    credentials: await target.credentials(),
    sha256: Sha256,
  });
  const query = Object.fromEntries(url.searchParams);
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port && { port: Number(url.port) }),
    path: url.pathname,
    query,
    headers: {
      host: url.host,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body }),
  });
  // fetch sets Host itself, to the very url.host that was signed.
  const { host: _host, ...headers } = signed.headers;
  return fetch(url, {
    method,
    headers,
    ...(body !== undefined && { body }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}
