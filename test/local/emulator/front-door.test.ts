import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FrontDoor,
  type FrontDoorOptions,
  type Principal,
} from '../../../lambda/local/emulator/front-door.js';
import { sdkClients } from './sdk-capture.js';

const ACCOUNT = '123456789012';
const QUEUE_URL = `http://127.0.0.1/${ACCOUNT}/chunks`;
const WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/fanout-WorkerRole`;

/** The Worker may read and write objects, send to the queue, read the table; no s3:ListBucket. */
const worker: Principal = {
  name: 'Worker',
  arn: WORKER_ROLE,
  policies: [
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetObject*', 's3:PutObject'], Resource: 'arn:aws:s3:::bkt/*' },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:chunks` },
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/jobs`,
        },
      ],
    },
  ],
};
/** The Api may list the bucket, read, invoke the Dispatcher and put events; deleting is explicitly denied. */
const api: Principal = {
  name: 'Api',
  arn: `arn:aws:iam::${ACCOUNT}:role/fanout-ApiRole`,
  policies: [
    {
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetObject', 's3:DeleteObject'],
          Resource: ['arn:aws:s3:::bkt', 'arn:aws:s3:::bkt/*'],
        },
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:fanout-Dispatcher`,
        },
        {
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`,
        },
      ],
    },
    {
      Statement: {
        Sid: 'KeepInputs',
        Effect: 'Deny',
        Action: 's3:DeleteObject',
        Resource: 'arn:aws:s3:::bkt/inputs/*',
      },
    },
  ],
};

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** 200 `{}`, or SendMessage's answer (the SQS client checks the body's MD5). */
const jsonAnswer: Handler = (req, res, body) => {
  if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessage') return res.end('{}');
  const md5 = createHash('md5').update(JSON.parse(body.toString()).MessageBody).digest('hex');
  res.end(JSON.stringify({ MessageId: 'm', MD5OfMessageBody: md5 }));
};

/** A stand-in for moto: records every request it gets, answers with `handler` (jsonAnswer by default). */
class FakeBackend {
  readonly received: Received[] = [];
  handler: Handler = jsonAnswer;
  /** Replaces the whole request handling (to watch a body arrive). */
  raw?: (req: IncomingMessage, res: ServerResponse) => void;
  readonly server: Server = createServer(async (req, res) => {
    if (this.raw) return this.raw(req, res);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    this.received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    this.handler(req, res, body);
  });

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

const backend = new FakeBackend();
let door: FrontDoor;
const invoked: unknown[] = [];
const events: unknown[] = [];
const created: unknown[] = [];

async function startDoor(extra: Partial<FrontDoorOptions> = {}): Promise<FrontDoor> {
  return FrontDoor.start({
    backends: { s3: backend.endpoint, sqs: backend.endpoint, dynamodb: backend.endpoint },
    region: 'us-east-1',
    account: () => ACCOUNT,
    principals: new Map([
      ['FANOUTWORKER', worker],
      ['FANOUTAPI', api],
    ]),
    invoke: async (call) => {
      invoked.push(call);
      return { statusCode: 200, payload: Buffer.from('{"ok":true}') };
    },
    putEvents: (entries, caller) => events.push({ entries, caller }),
    onObjectCreated: (event) => created.push(event),
    ...extra,
  });
}

beforeAll(async () => {
  backend.server.listen(0, '127.0.0.1');
  await once(backend.server, 'listening');
  door = await startDoor();
});
afterAll(async () => {
  await door.close();
  backend.server.closeAllConnections();
  await new Promise<void>((done) => backend.server.close(() => done()));
});
afterEach(() => {
  backend.received.length = 0;
  backend.handler = jsonAnswer;
  delete backend.raw;
  for (const list of [invoked, events, created]) list.length = 0;
});

const as = (accessKeyId: string) => sdkClients(door.endpoint, accessKeyId);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('allowed calls are forwarded, streamed', () => {
  it('forwards an 8 MiB PutObject byte for byte, keeping method, path, query and headers', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    backend.handler = (_req, res) => {
      res.writeHead(200, { etag: '"abc"' });
      res.end();
    };
    const put = await as('FANOUTWORKER').s3.send(
      new PutObjectCommand({ Bucket: 'bkt', Key: 'results/j 1/a.json', Body: body, Metadata: { job: 'j1' } }),
    );
    expect(put.ETag).toBe('"abc"');
    const [got] = backend.received;
    expect(got).toMatchObject({
      method: 'PUT',
      url: expect.stringMatching(/^\/bkt\/results\/j%201\/a\.json(\?|$)/),
    });
    expect(got!.headers).toMatchObject({
      host: new URL(backend.endpoint).host,
      'x-amz-meta-job': 'j1',
      authorization: expect.stringContaining('Credential=FANOUTWORKER/'),
    });
    expect(got!.headers.expect).toBeUndefined();
    expect(sha256(got!.body)).toBe(sha256(body));
    expect(created).toEqual([{ bucket: 'bkt', key: 'results/j 1/a.json', size: body.length, eTag: '"abc"' }]);
    expect(door.calls).toContainEqual(
      expect.objectContaining({
        principal: 'Worker',
        operation: 'PutObject',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::bkt/results/j 1/a.json',
        allowed: true,
      }),
    );
  });

  it('streams a request body: the backend has its first bytes before the caller sends the rest', async () => {
    const first = randomBytes(256 * 1024);
    const rest = randomBytes(3 * 1024 * 1024);
    let gotFirst!: () => void;
    const firstArrived = new Promise<void>((done) => {
      gotFirst = done;
    });
    backend.raw = async (req, res) => {
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of req) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
        if (length >= first.length) gotFirst();
      }
      res.writeHead(200, { 'x-sha256': sha256(Buffer.concat(chunks)) });
      res.end();
    };
    const url = new URL(door.endpoint);
    const req = request({
      hostname: url.hostname,
      port: url.port,
      method: 'PUT',
      path: '/bkt/stream?x-id=PutObject',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=FANOUTWORKER/20261208/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
        'transfer-encoding': 'chunked',
      },
    });
    const response = once(req, 'response') as Promise<[IncomingMessage]>;
    req.write(first);
    await firstArrived; // would never resolve if the front door buffered the body
    req.end(rest);
    const [res] = await response;
    res.resume();
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-sha256']).toBe(sha256(Buffer.concat([first, rest])));
  });

  it('streams a large GetObject answer back', async () => {
    const object = randomBytes(6 * 1024 * 1024);
    backend.handler = (_req, res) => {
      res.writeHead(200, { 'content-length': object.length, 'content-type': 'application/octet-stream' });
      res.end(object);
    };
    const got = await as('FANOUTWORKER').s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'big' }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(object));
  });

  it('forwards JSON protocol calls whole (SQS, DynamoDB)', async () => {
    const clients = as('FANOUTWORKER');
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'chunk-1' }));
    await clients.dynamodb.send(new GetItemCommand({ TableName: 'jobs', Key: { pk: { S: 'j1' } } }));
    expect(backend.received.map((r) => [r.headers['x-amz-target'], JSON.parse(r.body.toString())])).toEqual([
      ['AmazonSQS.SendMessage', { QueueUrl: QUEUE_URL, MessageBody: 'chunk-1' }],
      ['DynamoDB_20120810.GetItem', { TableName: 'jobs', Key: { pk: { S: 'j1' } } }],
    ]);
  });

  it('lets the operator (an unknown access key) do anything, recorded as operator', async () => {
    await as('fanout-local').s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'inputs/a' }));
    expect(backend.received).toHaveLength(1);
    expect(door.calls).toContainEqual(
      expect.objectContaining({ principal: 'operator', action: 's3:DeleteObject', allowed: true }),
    );
  });
  it("passes the operator's unclassified S3 call on, recorded with the reason; refuses a function's", async () => {
    const send = (key: string) =>
      fetch(`${door.endpoint}/bkt/k?torrent`, {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${key}/20261208/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0`,
        },
      });
    expect((await send('fanout-local')).status).toBe(200);
    expect(backend.received.map((r) => r.url)).toEqual(['/bkt/k?torrent']);
    expect(door.calls).toContainEqual(
      expect.objectContaining({
        principal: 'operator',
        operation: 'unknown',
        resource: '/bkt/k',
        allowed: true,
        reason: expect.stringMatching(/not modelled/),
      }),
    );
    const refused = await send('FANOUTWORKER');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(
      /<Code>AccessDenied<\/Code><Message>fanout&#39;s front door refuses GET \/bkt\/k\?torrent: S3 GET on an object with query/,
    );
    expect(backend.received).toHaveLength(1);
  });
});

describe('denied calls get the service AccessDenied, as the SDK v3 clients parse it', () => {
  const message = (action: string, resource: string) =>
    `User: ${WORKER_ROLE} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

  it.each<[string, (c: ReturnType<typeof sdkClients>) => Promise<unknown>, string, number, string, string]>([
    [
      'S3 DeleteObject',
      (c) => c.s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'a' })),
      'AccessDenied',
      403,
      's3:DeleteObject',
      'arn:aws:s3:::bkt/a',
    ],
    [
      'SQS SendMessage',
      (c) =>
        c.sqs.send(
          new SendMessageCommand({ QueueUrl: `http://127.0.0.1/${ACCOUNT}/other`, MessageBody: 'x' }),
        ),
      'AccessDenied',
      403,
      'sqs:SendMessage',
      `arn:aws:sqs:us-east-1:${ACCOUNT}:other`,
    ],
    [
      'DynamoDB GetItem',
      (c) => c.dynamodb.send(new GetItemCommand({ TableName: 'parts', Key: { pk: { S: 'a' } } })),
      'AccessDeniedException',
      400,
      'dynamodb:GetItem',
      `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/parts`,
    ],
    [
      'Lambda Invoke',
      (c) => c.lambda.send(new InvokeCommand({ FunctionName: 'fanout-Dispatcher', InvocationType: 'Event' })),
      'AccessDeniedException',
      403,
      'lambda:InvokeFunction',
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:fanout-Dispatcher`,
    ],
    [
      'EventBridge PutEvents',
      (c) =>
        c.events.send(
          new PutEventsCommand({ Entries: [{ Source: 'fanout', DetailType: 'x', Detail: '{}' }] }),
        ),
      'AccessDeniedException',
      400,
      'events:PutEvents',
      `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`,
    ],
  ])('%s', async (_, send, name, status, action, resource) => {
    const err = await failure(send(as('FANOUTWORKER')));
    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.message).toBe(message(action, resource));
    expect(backend.received).toEqual([]);
    expect(invoked).toEqual([]);
    expect(events).toEqual([]);
    expect(door.denials).toContainEqual({
      principal: 'Worker',
      service: expect.any(String),
      operation: expect.any(String),
      action,
      resource,
      allowed: false,
      reason: 'ImplicitDeny',
    });
  });

  it('names an explicit deny as AWS does', async () => {
    const err = await failure(
      as('FANOUTAPI').s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'inputs/a.txt' })),
    );
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toBe(
      `User: ${api.arn} is not authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::bkt/inputs/a.txt with an explicit deny in an identity-based policy`,
    );
    await as('FANOUTAPI').s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'results/a.txt' }));
    expect(backend.received.map((r) => r.method)).toEqual(['DELETE']);
  });

  it('refuses an 8 MiB PutObject before its body is sent, and serves the next call', async () => {
    const clients = as('FANOUTAPI');
    const err = await failure(
      clients.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: randomBytes(8 * 1024 * 1024) })),
    );
    expect(err.name).toBe('AccessDenied');
    backend.handler = (_req, res) => res.end('x');
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('x');
  });

  it('answers a HEAD with a bodiless 403', async () => {
    const err = await failure(
      as('FANOUTWORKER').s3.send(new HeadObjectCommand({ Bucket: 'other', Key: 'k' })),
    );
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(backend.received).toEqual([]);
  });

  it('answers the SQS query protocol with its XML ErrorResponse', async () => {
    const res = await fetch(`${door.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=FANOUTWORKER/20261208/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: `Action=DeleteQueue&QueueUrl=${encodeURIComponent(QUEUE_URL)}`,
    });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toMatch(
      /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code><Message>User: /,
    );
    expect(text).toContain(`perform: sqs:DeleteQueue on resource: arn:aws:sqs:us-east-1:${ACCOUNT}:chunks`);
  });

  it('refuses a request it cannot classify, naming it', async () => {
    const res = await fetch(`${door.endpoint}/2015-03-31/functions/`, {
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=FANOUTAPI/20261208/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0',
      },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(((await res.json()) as { Message: string }).Message).toMatch(
      /^fanout's front door refuses GET \/2015-03-31\/functions\/: Lambda GET \/2015-03-31\/functions\/ is not modelled \(only Invoke\)$/,
    );
    expect(door.denials.at(-1)).toMatchObject({ principal: 'Api', operation: 'unknown', allowed: false });
  });
});

describe('hooks', () => {
  it('calls invoke only when allowed, and answers as Lambda does', async () => {
    const payload = Buffer.from('{"jobId":"j1"}');
    const out = await as('FANOUTAPI').lambda.send(
      new InvokeCommand({
        FunctionName: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:fanout-Dispatcher:live`,
        Payload: payload,
      }),
    );
    expect(out.StatusCode).toBe(200);
    expect(Buffer.from(out.Payload!).toString()).toBe('{"ok":true}');
    expect(invoked).toEqual([
      { functionName: 'fanout-Dispatcher', invocationType: 'RequestResponse', payload, caller: 'Api' },
    ]);
  });

  it('surfaces a function error as Lambda does', async () => {
    const failing = await startDoor({
      invoke: async () => ({
        statusCode: 200,
        payload: Buffer.from('{"errorMessage":"boom"}'),
        functionError: 'Unhandled',
      }),
    });
    try {
      const out = await sdkClients(failing.endpoint, 'FANOUTAPI').lambda.send(
        new InvokeCommand({ FunctionName: 'fanout-Dispatcher' }),
      );
      expect(out.FunctionError).toBe('Unhandled');
    } finally {
      await failing.close();
    }
  });

  it('calls putEvents only when allowed, and answers FailedEntryCount 0 with an EventId each', async () => {
    const entries = [
      { Source: 'fanout', DetailType: 'Job Completed', Detail: '{"jobId":"j1"}' },
      { Source: 'fanout', DetailType: 'Job Completed', Detail: '{"jobId":"j2"}' },
    ];
    const out = await as('FANOUTAPI').events.send(new PutEventsCommand({ Entries: entries }));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toEqual([{ EventId: expect.any(String) }, { EventId: expect.any(String) }]);
    expect(events).toEqual([{ entries, caller: 'Api' }]);
  });

  it('reports CompleteMultipartUpload once the backend completed it, with the size from the backend', async () => {
    backend.handler = (req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': 12345678 });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0"?><CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>results/all.jsonl.gz</Key><ETag>&quot;e-2&quot;</ETag></CompleteMultipartUploadResult>',
      );
    };
    const complete = new CompleteMultipartUploadCommand({
      Bucket: 'bkt',
      Key: 'results/all.jsonl.gz',
      UploadId: 'u1',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"p1"' }] },
    });
    const out = await as('FANOUTWORKER').s3.send(complete);
    expect(out.ETag).toBe('"e-2"');
    expect(created).toEqual([{ bucket: 'bkt', key: 'results/all.jsonl.gz', size: 12345678, eTag: '"e-2"' }]);
  });

  it('does not report an object the backend did not create', async () => {
    backend.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>try again</Message></Error>');
    };
    const complete = new CompleteMultipartUploadCommand({
      Bucket: 'bkt',
      Key: 'k',
      UploadId: 'u1',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"p1"' }] },
    });
    await failure(as('FANOUTWORKER').s3.send(complete));
    backend.handler = (_req, res) => {
      res.writeHead(500);
      res.end();
    };
    await failure(as('FANOUTWORKER').s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' })));
    expect(created).toEqual([]);
  });
});

describe("S3's 403 for a missing key without s3:ListBucket", () => {
  const noSuchKey: Handler = (req, res) => {
    res.writeHead(404, { 'content-type': 'application/xml' });
    res.end(
      req.method === 'HEAD'
        ? undefined
        : '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
    );
  };

  it('answers AccessDenied to a caller without s3:ListBucket', async () => {
    backend.handler = noSuchKey;
    const get = await failure(
      as('FANOUTWORKER').s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'missing' })),
    );
    expect(get.name).toBe('AccessDenied');
    expect(get.message).toBe(
      `User: ${WORKER_ROLE} is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::bkt because no identity-based policy allows the s3:ListBucket action`,
    );
    const head = await failure(
      as('FANOUTWORKER').s3.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'missing' })),
    );
    expect(head.$metadata?.httpStatusCode).toBe(403);
    expect(door.denials.at(-1)).toMatchObject({
      principal: 'Worker',
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::bkt',
    });
  });

  it('passes the 404 to a caller with s3:ListBucket', async () => {
    backend.handler = noSuchKey;
    const get = await failure(
      as('FANOUTAPI').s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'missing' })),
    );
    expect(get.name).toBe('NoSuchKey');
    const head = await failure(
      as('FANOUTAPI').s3.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'missing' })),
    );
    expect(head.name).toBe('NotFound');
  });
});

describe('the call summary', () => {
  it('counts distinct (principal, operation, action, resource, allowed)', async () => {
    const fresh = await startDoor();
    try {
      const clients = sdkClients(fresh.endpoint, 'FANOUTWORKER');
      for (let i = 0; i < 3; i += 1)
        await clients.sqs.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: `m${i}` }));
      await failure(clients.s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'a' })));
      await failure(clients.s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'a' })));
      expect(fresh.calls).toEqual([
        {
          principal: 'Worker',
          service: 'sqs',
          operation: 'SendMessage',
          action: 'sqs:SendMessage',
          resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:chunks`,
          allowed: true,
          count: 3,
        },
        {
          principal: 'Worker',
          service: 's3',
          operation: 'DeleteObject',
          action: 's3:DeleteObject',
          resource: 'arn:aws:s3:::bkt/a',
          allowed: false,
          reason: 'ImplicitDeny',
          count: 2,
        },
      ]);
      expect(fresh.denials).toHaveLength(2);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a backend that is not an http URL', async () => {
    await expect(startDoor({ backends: { s3: 'localhost:4566' } })).rejects.toThrow(
      'front door: the s3 backend "localhost:4566" is not an http(s) URL',
    );
  });
});
