/**
 * API Gateway in front of the real API handler, as the deployed stack has it: a local HTTP
 * server under a stage path (`/v1`) that accepts only requests whose SigV4 signature
 * (service execute-api, the test credentials) checks out, and turns them into proxy events.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../../lambda/cli/remote/signing.js';
import type { LocalDeployment } from '../../../lambda/local/local-deployment.js';
import { makeApiEvent } from '../../helpers/api-events.js';

const STAGE = '/v1';
const JSON_TYPE = { 'content-type': 'application/json' };
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** One request API Gateway saw, and whether its signature was accepted. */
export interface SeenRequest {
  method: string;
  path: string;
  body: string;
  signed: boolean;
  /** Why the signature was refused. */
  refusal?: string;
}

export interface ApiGateway {
  /** The ApiUrl output: `http://127.0.0.1:<port>/v1/`. */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Why a request's SigV4 signature is not what the test credentials give; null when it is. */
async function checkSignature(
  req: IncomingMessage,
  url: URL,
  body: string,
  region: string,
  credentials: Credentials,
): Promise<string | null> {
  const header = req.headers.authorization ?? '';
  const match = AUTHORIZATION.exec(header);
  if (!match) return `malformed Authorization header: ${JSON.stringify(header)}`;
  const [, accessKey, , scopeRegion, service, signedHeaders = ''] = match;
  if (accessKey !== credentials.accessKeyId) return `credential ${accessKey}`;
  if (service !== 'execute-api' || scopeRegion !== region) return `scope ${scopeRegion}/${service}`;
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return `signed headers ${signedHeaders}`;
  const headers = Object.fromEntries(names.map((name) => [name, String(req.headers[name] ?? '')]));
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(headers['x-amz-date'] ?? '');
  if (!date) return 'x-amz-date';
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials,
    sha256: Sha256,
  });
  const expected = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(body !== '' && { body }),
    },
    { signingDate: new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`) },
  );
  return expected.headers.authorization === header ? null : 'signature does not match';
}

/** The one identity allowed to invoke the API. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Starts the gateway on 127.0.0.1 in front of `deployment.api`, accepting requests signed by `credentials`. */
export async function startApiGateway(
  deployment: LocalDeployment,
  region: string,
  credentials: Credentials,
): Promise<ApiGateway> {
  const requests: SeenRequest[] = [];
  /** One request: refused (403) unless signed by `credentials`, else the API handler's answer. */
  async function answer(
    req: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const body = await readBody(req);
    const refusal = await checkSignature(req, url, body, region, credentials);
    const path = url.pathname.startsWith(`${STAGE}/`) ? url.pathname.slice(STAGE.length) : url.pathname;
    requests.push({
      method: req.method ?? '',
      path,
      body,
      signed: refusal === null,
      ...(refusal && { refusal }),
    });
    if (refusal) return { status: 403, headers: JSON_TYPE, body: JSON.stringify({ message: refusal }) };
    const result = await deployment.api(makeApiEvent(req.method ?? 'GET', path, { body: body || null }));
    return {
      status: result.statusCode,
      headers: result.headers as Record<string, string>,
      body: result.body,
    };
  }
  const server: Server = createServer((req, res) => {
    answer(req)
      .catch((err: unknown) => ({
        status: 502,
        headers: JSON_TYPE,
        body: JSON.stringify({ message: String(err) }),
      }))
      .then(({ status, headers, body }) => res.writeHead(status, headers).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${STAGE}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
