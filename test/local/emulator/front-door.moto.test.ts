import { randomBytes } from 'node:crypto';
import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrontDoor } from '../../../lambda/local/emulator/front-door.js';
import { type MotoServer, startMoto } from '../../support/moto-server.js';
import { sdkClients } from './sdk-capture.js';

const ACCOUNT = '123456789012';
const region = 'us-east-1';
const worker = {
  name: 'Worker',
  arn: `arn:aws:iam::${ACCOUNT}:role/fanout-WorkerRole`,
  policies: [
    {
      Statement: [
        {
          Effect: 'Allow' as const,
          Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
          Resource: 'arn:aws:s3:::fanout/*',
        },
        {
          Effect: 'Allow' as const,
          Action: ['sqs:SendMessage', 'sqs:ReceiveMessage'],
          Resource: `arn:aws:sqs:${region}:${ACCOUNT}:chunks`,
        },
        {
          Effect: 'Allow' as const,
          Action: 'dynamodb:PutItem',
          Resource: `arn:aws:dynamodb:${region}:${ACCOUNT}:table/jobs`,
        },
      ],
    },
  ],
};

let moto: MotoServer;
let door: FrontDoor;
const created: Array<{ bucket: string; key: string; size?: number; eTag?: string }> = [];

beforeAll(async () => {
  moto = await startMoto();
  door = await FrontDoor.start({
    backends: { s3: moto.endpoint, sqs: moto.endpoint, dynamodb: moto.endpoint },
    region,
    account: () => ACCOUNT,
    principals: new Map([['FANOUTWORKER', worker]]),
    onObjectCreated: (event) => created.push(event),
  });
  // The operator (any other key) sets the stack up through the same door.
  const operator = sdkClients(door.endpoint, 'operator');
  await operator.s3.send(new CreateBucketCommand({ Bucket: 'fanout' }));
  await operator.sqs.send(new CreateQueueCommand({ QueueName: 'chunks' }));
  await operator.dynamodb.send(
    new CreateTableCommand({
      TableName: 'jobs',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 120_000);

afterAll(async () => {
  await door?.close();
  await moto?.stop();
});

describe('the front door in front of moto', () => {
  it("runs a Worker's allowed calls on moto and refuses the others as AWS does", async () => {
    const { s3, sqs, dynamodb } = sdkClients(door.endpoint, 'FANOUTWORKER');
    const body = randomBytes(12 * 1024 * 1024);
    await new Upload({
      client: s3,
      params: { Bucket: 'fanout', Key: 'results/j1/all.bin', Body: body },
      partSize: 5 * 1024 * 1024,
    }).done();
    expect(created).toEqual([
      { bucket: 'fanout', key: 'results/j1/all.bin', size: body.length, eTag: expect.stringMatching(/-3"$/) },
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'fanout', Key: 'results/j1/all.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);

    await s3.send(
      new CopyObjectCommand({
        Bucket: 'fanout',
        Key: 'results/j1/copy.bin',
        CopySource: 'fanout/results/j1/all.bin',
      }),
    );
    expect(created.at(-1)).toMatchObject({ key: 'results/j1/copy.bin', size: body.length });
    await s3.send(
      new DeleteObjectsCommand({ Bucket: 'fanout', Delete: { Objects: [{ Key: 'results/j1/copy.bin' }] } }),
    );

    // No s3:ListBucket: listing is refused, and a missing key is 403, not moto's 404.
    await expect(
      s3.send(new ListObjectsV2Command({ Bucket: 'fanout', Prefix: 'results/' })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(s3.send(new GetObjectCommand({ Bucket: 'fanout', Key: 'missing' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });

    const QueueUrl = `${moto.endpoint}/${ACCOUNT}/chunks`;
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '1', MessageBody: 'chunk-1' }] }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(Messages.map((m) => m.Body)).toEqual(['chunk-1']);
    await dynamodb.send(new PutItemCommand({ TableName: 'jobs', Item: { pk: { S: 'j1' } } }));
    await expect(
      dynamodb.send(new PutItemCommand({ TableName: 'parts', Item: { pk: { S: 'j1' } } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });

    // The queue URL names moto's host: the calls still came through the door (explicit endpoint).
    expect(door.calls).toContainEqual(
      expect.objectContaining({ principal: 'Worker', action: 'sqs:ReceiveMessage', allowed: true, count: 1 }),
    );
    expect(door.denials.map((d) => [d.principal, d.action, d.resource])).toEqual([
      ['Worker', 's3:ListBucket', 'arn:aws:s3:::fanout'],
      ['Worker', 's3:ListBucket', 'arn:aws:s3:::fanout'],
      ['Worker', 'dynamodb:PutItem', `arn:aws:dynamodb:${region}:${ACCOUNT}:table/parts`],
    ]);
  });
});
