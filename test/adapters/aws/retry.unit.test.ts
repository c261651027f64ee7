import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../../lambda/adapters/aws/clients.js';
import { retryErrorType } from '../../../lambda/adapters/aws/retry.js';

const HTML_PAGE =
  '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n';

/**
 * A fake AWS endpoint: the first `failures` requests get an HTML error page with `status`
 * (as moto_server answers a transaction that crashed), the rest a minimal valid answer.
 */
let failures = 0;
let status = 500;
let requests = 0;
let server: Server;
let clients: AwsClients;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      if (requests <= failures) {
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
        res.end(HTML_PAGE);
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = { 'content-type': 'application/x-amz-json-1.0' };
      if (target.startsWith('DynamoDB')) res.writeHead(200, json).end('{}');
      else if (target.startsWith('AmazonSQS')) res.writeHead(200, json).end('{"Attributes":{}}');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('part');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  clients = createAwsClients({
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(() => new Promise<void>((done) => server.close(() => done())));

beforeEach(() => {
  requests = 0;
});

const calls = {
  S3: () =>
    clients.s3.send(new GetObjectCommand({ Bucket: 'fanout', Key: 'jobs/j/parts/00000001.jsonl.gz' })),
  SQS: () =>
    clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: 'http://127.0.0.1/000000000000/fanout-chunks' }),
    ),
  DynamoDB: () =>
    clients.dynamodb.send(new GetItemCommand({ TableName: 'fanout-jobs', Key: { pk: { S: 'job#j' } } })),
};

describe.each(Object.entries(calls))('%s against an endpoint answering HTML error pages', (_, call) => {
  it('retries a run of HTML 500s (more than the SDK default attempts) and then succeeds', async () => {
    [failures, status] = [4, 500];
    const output = await call();
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(output.$metadata.attempts).toBe(5);
    expect(requests).toBe(5);
  });

  it('retries an HTML 5xx the SDK does not list as transient (507)', async () => {
    [failures, status] = [1, 507];
    const output = await call();
    expect(output.$metadata.attempts).toBe(2);
  });

  it('does not retry an HTML 4xx', async () => {
    [failures, status] = [1, 400];
    await expect(call()).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(requests).toBe(1);
  });
});

describe('retryErrorType', () => {
  const withStatus = (code: number) =>
    Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: code } });
  const rawOnly = (code: number) =>
    Object.assign(new Error('UnknownError'), { $response: { statusCode: code, headers: {} } });
  it.each([
    ['an unparseable 500', withStatus(500), 'CLIENT_ERROR', 'TRANSIENT'],
    ['an unparseable 599', withStatus(599), 'SERVER_ERROR', 'TRANSIENT'],
    ['a 5xx seen only in $response', rawOnly(502), 'CLIENT_ERROR', 'TRANSIENT'],
    ['an unparseable 429', withStatus(429), 'CLIENT_ERROR', 'THROTTLING'],
    ['501 Not Implemented', withStatus(501), 'SERVER_ERROR', 'SERVER_ERROR'],
    ['a 400', withStatus(400), 'CLIENT_ERROR', 'CLIENT_ERROR'],
    ['what the SDK calls throttling', withStatus(400), 'THROTTLING', 'THROTTLING'],
  ] as const)('%s', (_, error, errorType, expected) => {
    expect(retryErrorType({ error, errorType })).toBe(expected);
  });
});
