/**
 * A `secret:` request header through the synthesized stack, emulated on moto: the secret made in
 * moto's Secrets Manager, read by the worker through the front door (IAM-checked against the
 * worker's role), sent to the target, and found nowhere the job leaves: not in the bucket, not
 * in any S3, SQS or DynamoDB request the functions made (the chunk messages included), not in
 * their logs.
 */
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretsManagerClient } from '../../lambda/adapters/aws/secrets-client.js';
import { FsObjectStore } from '../../lambda/adapters/fs-object-store.js';
import { resolveOptions } from '../../lambda/core/options.js';
import { synthesizeDefaultStack } from '../../lambda/local/emulator/default-stack.js';
import { describeTemplate } from '../../lambda/local/emulator/deployment-description.js';
import { EmulatedStack } from '../../lambda/local/emulator/emulated-stack.js';
import { fanoutOn, runJobOn } from '../../lambda/local/run-endpoint.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { MOTO, type RunningEmulators } from '../support/emulators.js';

const SECRET = 'Bearer moto-5c9d21-never-at-rest';

/** Text of a body, gunzipped when it is gzip. */
const textOf = (bytes: Buffer) =>
  (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('latin1');

/** A proxy in front of moto that keeps every request and answer body, by the service signed for. */
async function recordingProxy(
  to: string,
): Promise<{ url: string; server: Server; seen: Map<string, Buffer[]> }> {
  const seen = new Map<string, Buffer[]>();
  const target = new URL(to);
  const server = createServer((req, res) => {
    const service =
      /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? 'unsigned';
    const keep = (chunk: Buffer) => {
      const list = seen.get(service) ?? [];
      list.push(chunk);
      seen.set(service, list);
    };
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', keep);
        answer.pipe(res);
      },
    );
    req.on('data', keep);
    req.pipe(upstream);
    upstream.on('error', () => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

function everyFile(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: textOf(readFileSync(path)) }));
}

describe('a secret: header on the emulated stack', () => {
  let moto: RunningEmulators;
  let cdkOut: string;
  let target: TargetServer;
  let work: string;

  beforeAll(async () => {
    [moto, cdkOut] = await Promise.all([MOTO.start({ serialized: true }), synthesizeDefaultStack()]);
    target = await startTargetServer({ '/api': (_req, res) => res.end('{"ok":true}') });
    work = mkdtempSync(join(tmpdir(), 'fanout-header-secrets-'));
  }, 180_000);

  afterAll(async () => {
    await target?.close();
    await moto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('is read by the worker, sent, and written nowhere', async () => {
    const secrets = createSecretsManagerClient({
      endpoint: moto.endpoints.s3,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await secrets.send(new CreateSecretCommand({ Name: 'fanout/api-token', SecretString: SECRET }));
    const proxy = await recordingProxy(moto.endpoints.s3);
    const logs: string[] = [];
    const stack = await EmulatedStack.start({
      description: describeTemplate(cdkOut),
      backends: { s3: proxy.url, sqs: proxy.url, dynamodb: proxy.url, secretsmanager: proxy.url },
      namePrefix: 'hdr',
      maxPollers: 2,
      log: (_fn, line) => logs.push(line),
    });
    const out = join(work, 'out');
    try {
      const urls = Array.from({ length: 12 }, (_, i) => target.url(`/api?item=${i}`));
      const result = await runJobOn(stack, {
        jobId: 'secret-header',
        source: 'urls.txt',
        input: (async function* () {
          yield Buffer.from(`${urls.join('\n')}\n`);
        })(),
        format: 'text',
        options: resolveOptions({
          allow: ['127.0.0.1/32'],
          retries: 0,
          robots: 'ignore',
          chunkSize: 4,
          headers: { Authorization: 'secret:fanout/api-token', Accept: 'application/json' },
        }),
        out: new FsObjectStore(out),
      });
      expect(result.state.status).toBe('succeeded');
      expect(target.requests.map((r) => r.headers.authorization)).toEqual(urls.map(() => SECRET));
      expect(target.requests.every((r) => r.headers.accept === 'application/json')).toBe(true);
      const worker = stack.nameOf('FanoutWorkerB6822246');
      expect(result.report.allowed).toContainEqual(
        expect.objectContaining({ principal: worker, action: 'secretsmanager:GetSecretValue' }),
      );
      expect(result.report.denied).toEqual([]);

      // The chunk messages went out with the reference, not the value.
      const sqs = Buffer.concat(proxy.seen.get('sqs') ?? []).toString('latin1');
      expect(sqs).toContain('secret:fanout/api-token');
      for (const service of ['s3', 'sqs', 'dynamodb']) {
        const traffic = (proxy.seen.get(service) ?? []).map(textOf).join('');
        expect(traffic.length, service).toBeGreaterThan(0);
        expect(traffic, service).not.toContain(SECRET);
      }
      // Every object in the bucket, read back, and the logs.
      const files = everyFile(out);
      expect(files.some((f) => f.path.endsWith('job.json'))).toBe(true);
      for (const { path, text } of files) expect(text, path).not.toContain(SECRET);
      const { bucket } = fanoutOn(stack);
      const s3 = stack.operatorClients().s3;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.Contents?.length).toBeGreaterThan(3);
      for (const { Key } of listed.Contents ?? []) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
        const bytes = Buffer.from(
          await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
        expect(textOf(bytes), Key).not.toContain(SECRET);
      }
      expect(logs.join('\n')).not.toContain(SECRET);
    } finally {
      await stack.close();
      await new Promise<void>((done) => proxy.server.close(() => done()));
    }
  }, 240_000);
});
