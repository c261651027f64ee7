import type { Server } from 'node:http';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DescribeTableCommand,
  ExecuteStatementCommand,
  GetItemCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsCall, classifyRequest } from '../../../lambda/local/emulator/aws-call.js';
import { type CapturedRequest, sdkClients, startCapture } from './sdk-capture.js';

const ARNS = { region: 'us-east-1', account: () => '123456789012' };
const B = 'arn:aws:s3:::bkt';
const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:chunks';
const QUEUE_URL = 'http://127.0.0.1/123456789012/chunks';

let capture: { endpoint: string; requests: CapturedRequest[]; server: Server };
let clients: ReturnType<typeof sdkClients>;

beforeAll(async () => {
  capture = await startCapture();
  clients = sdkClients(capture.endpoint, 'FANOUTWORKER');
});
afterAll(() => new Promise<void>((done) => capture.server.close(() => done())));

/** Sends one command with the real client and classifies the request it made. */
async function classified(send: () => Promise<unknown>): Promise<AwsCall> {
  const before = capture.requests.length;
  await send().catch(() => {}); // the capture server's `{}` is not every operation's answer
  expect(capture.requests.length).toBe(before + 1);
  return classifyRequest(capture.requests.at(-1)!, ARNS);
}

function summary(call: AwsCall) {
  return { service: call.service, operation: call.operation, authorizations: call.authorizations };
}

describe('classifyRequest: S3, path-style, as the SDK sends it', () => {
  it.each<[string, () => Promise<unknown>, string, Array<[string, string]>]>([
    [
      'GetObject',
      () => clients.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'results/a b+c%.json' })),
      'GetObject',
      [['s3:GetObject', `${B}/results/a b+c%.json`]],
    ],
    [
      'HeadObject',
      () => clients.s3.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'k' })),
      'HeadObject',
      [['s3:GetObject', `${B}/k`]],
    ],
    [
      'PutObject',
      () => clients.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'a/b', Body: 'x' })),
      'PutObject',
      [['s3:PutObject', `${B}/a/b`]],
    ],
    [
      'PutObject with tags',
      () =>
        clients.s3.send(
          new PutObjectCommand({ Bucket: 'bkt', Key: 'a', Body: 'x', Tagging: 'retention=job' }),
        ),
      'PutObject',
      [
        ['s3:PutObject', `${B}/a`],
        ['s3:PutObjectTagging', `${B}/a`],
      ],
    ],
    [
      'CopyObject',
      () =>
        clients.s3.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'to', CopySource: 'src/from%20here' })),
      'CopyObject',
      [
        ['s3:PutObject', `${B}/to`],
        ['s3:GetObject', 'arn:aws:s3:::src/from here'],
      ],
    ],
    [
      'UploadPartCopy',
      () =>
        clients.s3.send(
          new UploadPartCopyCommand({
            Bucket: 'bkt',
            Key: 'to',
            UploadId: 'u',
            PartNumber: 1,
            CopySource: 'bkt/part',
          }),
        ),
      'UploadPartCopy',
      [
        ['s3:PutObject', `${B}/to`],
        ['s3:GetObject', `${B}/part`],
      ],
    ],
    [
      'CreateMultipartUpload',
      () => clients.s3.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'm' })),
      'CreateMultipartUpload',
      [['s3:PutObject', `${B}/m`]],
    ],
    [
      'UploadPart',
      () =>
        clients.s3.send(
          new UploadPartCommand({ Bucket: 'bkt', Key: 'm', UploadId: 'u', PartNumber: 2, Body: 'x' }),
        ),
      'UploadPart',
      [['s3:PutObject', `${B}/m`]],
    ],
    [
      'CompleteMultipartUpload',
      () =>
        clients.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'bkt',
            Key: 'm',
            UploadId: 'u',
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"e"' }] },
          }),
        ),
      'CompleteMultipartUpload',
      [['s3:PutObject', `${B}/m`]],
    ],
    [
      'AbortMultipartUpload',
      () => clients.s3.send(new AbortMultipartUploadCommand({ Bucket: 'bkt', Key: 'm', UploadId: 'u' })),
      'AbortMultipartUpload',
      [['s3:AbortMultipartUpload', `${B}/m`]],
    ],
    [
      'PutObjectTagging',
      () =>
        clients.s3.send(
          new PutObjectTaggingCommand({
            Bucket: 'bkt',
            Key: 'k',
            Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
          }),
        ),
      'PutObjectTagging',
      [['s3:PutObjectTagging', `${B}/k`]],
    ],
    [
      'GetObjectTagging',
      () => clients.s3.send(new GetObjectTaggingCommand({ Bucket: 'bkt', Key: 'k' })),
      'GetObjectTagging',
      [['s3:GetObjectTagging', `${B}/k`]],
    ],
    [
      'DeleteObject',
      () => clients.s3.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' })),
      'DeleteObject',
      [['s3:DeleteObject', `${B}/k`]],
    ],
    [
      'DeleteObjects',
      () =>
        clients.s3.send(
          new DeleteObjectsCommand({
            Bucket: 'bkt',
            Delete: { Objects: [{ Key: 'a&b<c' }, { Key: 'd/e' }] },
          }),
        ),
      'DeleteObjects',
      [
        ['s3:DeleteObject', `${B}/a&b<c`],
        ['s3:DeleteObject', `${B}/d/e`],
      ],
    ],
    [
      'ListObjects',
      () => clients.s3.send(new ListObjectsCommand({ Bucket: 'bkt' })),
      'ListObjects',
      [['s3:ListBucket', B]],
    ],
    [
      'CreateBucket',
      () => clients.s3.send(new CreateBucketCommand({ Bucket: 'bkt' })),
      'CreateBucket',
      [['s3:CreateBucket', B]],
    ],
    [
      'HeadBucket',
      () => clients.s3.send(new HeadBucketCommand({ Bucket: 'bkt' })),
      'HeadBucket',
      [['s3:ListBucket', B]],
    ],
    [
      'PutBucketNotificationConfiguration',
      () =>
        clients.s3.send(
          new PutBucketNotificationConfigurationCommand({ Bucket: 'bkt', NotificationConfiguration: {} }),
        ),
      'PutBucketNotificationConfiguration',
      [['s3:PutBucketNotification', B]],
    ],
  ])('%s', async (_, send, operation, authorizations) => {
    const call = await classified(send);
    expect(summary(call)).toEqual({
      service: 's3',
      operation,
      authorizations: authorizations.map(([action, resource]) => ({ action, resource })),
    });
    expect(call.accessKeyId).toBe('FANOUTWORKER');
  });

  it('ListObjectsV2 authorizes s3:ListBucket on the bucket with its prefix as s3:prefix', async () => {
    const call = await classified(() =>
      clients.s3.send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'jobs/j 1/', Delimiter: '/' })),
    );
    expect(summary(call)).toEqual({
      service: 's3',
      operation: 'ListObjectsV2',
      authorizations: [{ action: 's3:ListBucket', resource: B }],
    });
    expect(call.context).toMatchObject({
      's3:prefix': 'jobs/j 1/',
      's3:delimiter': '/',
      'aws:SecureTransport': 'true',
      'aws:RequestedRegion': 'us-east-1',
    });
  });

  it('reads the caller of a presigned URL from X-Amz-Credential', async () => {
    const url = new URL(await getSignedUrl(clients.s3, new GetObjectCommand({ Bucket: 'bkt', Key: 'k' })));
    const call = classifyRequest({ method: 'GET', path: url.pathname + url.search, headers: {} }, ARNS);
    expect(call).toMatchObject({ service: 's3', operation: 'GetObject', accessKeyId: 'FANOUTWORKER' });
  });
});

describe('classifyRequest: SQS, DynamoDB, Lambda, EventBridge', () => {
  it.each<[string, () => Promise<unknown>, string, Array<[string, string]>]>([
    [
      'SendMessageBatch',
      () =>
        clients.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: [{ Id: '1', MessageBody: 'x' }] }),
        ),
      'SendMessageBatch',
      [['sqs:SendMessage', QUEUE]],
    ],
    [
      'DeleteMessageBatch',
      () =>
        clients.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: [{ Id: '1', ReceiptHandle: 'r' }] }),
        ),
      'DeleteMessageBatch',
      [['sqs:DeleteMessage', QUEUE]],
    ],
    [
      'ChangeMessageVisibilityBatch',
      () =>
        clients.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: QUEUE_URL,
            Entries: [{ Id: '1', ReceiptHandle: 'r', VisibilityTimeout: 0 }],
          }),
        ),
      'ChangeMessageVisibilityBatch',
      [['sqs:ChangeMessageVisibility', QUEUE]],
    ],
    [
      'ReceiveMessage',
      () => clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL })),
      'ReceiveMessage',
      [['sqs:ReceiveMessage', QUEUE]],
    ],
    [
      'GetQueueUrl',
      () => clients.sqs.send(new GetQueueUrlCommand({ QueueName: 'chunks' })),
      'GetQueueUrl',
      [['sqs:GetQueueUrl', QUEUE]],
    ],
    [
      'GetItem',
      () => clients.dynamodb.send(new GetItemCommand({ TableName: 'jobs', Key: { pk: { S: 'a' } } })),
      'GetItem',
      [['dynamodb:GetItem', `${TABLE}/jobs`]],
    ],
    [
      'Query on an index',
      () =>
        clients.dynamodb.send(
          new QueryCommand({ TableName: 'jobs', IndexName: 'byStatus', KeyConditionExpression: 'x = :x' }),
        ),
      'Query',
      [['dynamodb:Query', `${TABLE}/jobs/index/byStatus`]],
    ],
    [
      'BatchGetItem',
      () =>
        clients.dynamodb.send(
          new BatchGetItemCommand({
            RequestItems: { jobs: { Keys: [{ pk: { S: 'a' } }] }, parts: { Keys: [{ pk: { S: 'a' } }] } },
          }),
        ),
      'BatchGetItem',
      [
        ['dynamodb:BatchGetItem', `${TABLE}/jobs`],
        ['dynamodb:BatchGetItem', `${TABLE}/parts`],
      ],
    ],
    [
      'BatchWriteItem',
      () =>
        clients.dynamodb.send(
          new BatchWriteItemCommand({
            RequestItems: { jobs: [{ DeleteRequest: { Key: { pk: { S: 'a' } } } }] },
          }),
        ),
      'BatchWriteItem',
      [['dynamodb:BatchWriteItem', `${TABLE}/jobs`]],
    ],
    [
      'TransactWriteItems',
      () =>
        clients.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: 'jobs', Item: { pk: { S: 'a' } } } },
              { Update: { TableName: 'jobs', Key: { pk: { S: 'b' } }, UpdateExpression: 'SET x = :x' } },
              { Delete: { TableName: 'parts', Key: { pk: { S: 'c' } } } },
              {
                ConditionCheck: {
                  TableName: 'jobs',
                  Key: { pk: { S: 'd' } },
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
            ],
          }),
        ),
      'TransactWriteItems',
      [
        ['dynamodb:PutItem', `${TABLE}/jobs`],
        ['dynamodb:UpdateItem', `${TABLE}/jobs`],
        ['dynamodb:DeleteItem', `${TABLE}/parts`],
        ['dynamodb:ConditionCheckItem', `${TABLE}/jobs`],
      ],
    ],
    [
      'TransactGetItems',
      () =>
        clients.dynamodb.send(
          new TransactGetItemsCommand({
            TransactItems: [{ Get: { TableName: 'jobs', Key: { pk: { S: 'a' } } } }],
          }),
        ),
      'TransactGetItems',
      [['dynamodb:GetItem', `${TABLE}/jobs`]],
    ],
    [
      'DescribeTable',
      () => clients.dynamodb.send(new DescribeTableCommand({ TableName: 'jobs' })),
      'DescribeTable',
      [['dynamodb:DescribeTable', `${TABLE}/jobs`]],
    ],
    [
      'UpdateTimeToLive',
      () =>
        clients.dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: 'jobs',
            TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
          }),
        ),
      'UpdateTimeToLive',
      [['dynamodb:UpdateTimeToLive', `${TABLE}/jobs`]],
    ],
    [
      'Invoke by name:qualifier',
      () =>
        clients.lambda.send(
          new InvokeCommand({ FunctionName: 'fanout-Dispatcher:live', InvocationType: 'Event' }),
        ),
      'Invoke',
      [['lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:123456789012:function:fanout-Dispatcher']],
    ],
    [
      'Invoke by ARN',
      () =>
        clients.lambda.send(
          new InvokeCommand({
            FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:Api',
            Qualifier: '$LATEST',
          }),
        ),
      'Invoke',
      [['lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:123456789012:function:Api']],
    ],
    [
      'PutEvents',
      () =>
        clients.events.send(
          new PutEventsCommand({
            Entries: [
              { Source: 'fanout', DetailType: 'x', Detail: '{}' },
              { Source: 'fanout', DetailType: 'x', Detail: '{}', EventBusName: 'jobs' },
              {
                Source: 'fanout',
                DetailType: 'x',
                Detail: '{}',
                EventBusName: 'arn:aws:events:eu-west-1:999999999999:event-bus/other',
              },
              { Source: 'fanout', DetailType: 'y', Detail: '{}', EventBusName: 'default' },
            ],
          }),
        ),
      'PutEvents',
      [
        ['events:PutEvents', 'arn:aws:events:us-east-1:123456789012:event-bus/default'],
        ['events:PutEvents', 'arn:aws:events:us-east-1:123456789012:event-bus/jobs'],
        ['events:PutEvents', 'arn:aws:events:eu-west-1:999999999999:event-bus/other'],
      ],
    ],
  ])('%s', async (_, send, operation, authorizations) => {
    const call = await classified(send);
    expect(summary(call)).toMatchObject({
      operation,
      authorizations: authorizations.map(([action, resource]) => ({ action, resource })),
    });
    expect(call.accessKeyId).toBe('FANOUTWORKER');
  });

  it('classifies the SQS query protocol (form body)', () => {
    const body = Buffer.from(
      `Action=SendMessageBatch&QueueUrl=${encodeURIComponent(QUEUE_URL)}&Version=2012-11-05`,
    );
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=FANOUTAPI/20261208/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
    };
    const call = classifyRequest({ method: 'POST', path: '/', headers, body }, ARNS);
    expect(call).toMatchObject({
      service: 'sqs',
      operation: 'SendMessageBatch',
      accessKeyId: 'FANOUTAPI',
      authorizations: [{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:123456789012:chunks' }],
    });
  });
});

describe('classifyRequest: what it does not model is unknown, with the reason', () => {
  it.each<[string, () => Promise<unknown>, RegExp]>([
    [
      'Lambda ListFunctions',
      () => clients.lambda.send(new ListFunctionsCommand({})),
      /Lambda GET \/2015-03-31\/functions is not modelled \(only Invoke\)/,
    ],
    [
      'DynamoDB PartiQL',
      () => clients.dynamodb.send(new ExecuteStatementCommand({ Statement: 'SELECT * FROM jobs' })),
      /ExecuteStatement \(PartiQL\) is not modelled/,
    ],
  ])('%s', async (_, send, reason) => {
    const call = await classified(send);
    expect(call.operation).toBe('unknown');
    expect(call.authorizations).toEqual([]);
    expect(call.reason).toMatch(reason);
  });

  it.each<[string, Parameters<typeof classifyRequest>[0], RegExp]>([
    ['an unsigned request', { method: 'GET', path: '/bkt/k', headers: {} }, /no SigV4 credential/],
    [
      'an S3 object sub-resource fanout does not use',
      {
        method: 'PUT',
        path: '/bkt/k?retention',
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=K/20261208/us-east-1/s3/aws4_request' },
      },
      /S3 PUT on an object with query "retention=" is not modelled/,
    ],
    [
      'a service not emulated',
      {
        method: 'POST',
        path: '/',
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=K/20261208/us-east-1/sns/aws4_request' },
      },
      /service sns is not emulated/,
    ],
    [
      'a JSON body that is not JSON',
      {
        method: 'POST',
        path: '/',
        headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' },
        body: Buffer.from('{'),
      },
      /not a JSON object/,
    ],
    [
      'an SQS call naming no queue',
      {
        method: 'POST',
        path: '/',
        headers: { 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: Buffer.from('{}'),
      },
      /no queue \(QueueUrl or QueueName\) for SQS SendMessage/,
    ],
  ])('%s', (_, request, reason) => {
    const call = classifyRequest(request, ARNS);
    expect(call.operation).toBe('unknown');
    expect(call.reason).toMatch(reason);
  });
});
