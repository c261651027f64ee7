/** Real AWS SDK v3 clients and an HTTP server on 127.0.0.1 that records what they send. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The five clients fanout uses, signing with `accessKeyId`, pointed at `endpoint`, one attempt each. */
export function sdkClients(endpoint: string, accessKeyId: string) {
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'secret' },
    maxAttempts: 1,
  };
  return {
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sqs: new SQSClient(config),
    dynamodb: new DynamoDBClient(config),
    lambda: new LambdaClient(config),
    events: new EventBridgeClient(config),
  };
}

/** A server that records each request and answers `{}` (200): enough for the SDK to have sent it. */
export async function startCapture(): Promise<{
  endpoint: string;
  requests: CapturedRequest[];
  server: Server;
}> {
  const requests: CapturedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}
