import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ensureResources } from '../../../lambda/adapters/aws/provision.js';
import { SqsChunkQueue } from '../../../lambda/adapters/aws/sqs-chunk-queue.js';
import { DEFAULT_OPTIONS } from '../../../lambda/core/options.js';
import { uniqueName, useMoto } from './moto-fixture.js';

const clients = useMoto();

describe('ensureResources against moto', () => {
  it('creates bucket, queues with redrive, and the table; running it again changes nothing', async () => {
    const names = {
      bucket: uniqueName('fanout-bucket'),
      queueName: uniqueName('chunks'),
      dlqName: uniqueName('chunks-dlq'),
      tableName: uniqueName('jobs'),
    };
    const first = await ensureResources(clients(), names);
    const second = await ensureResources(clients(), names);
    expect(second).toEqual(first);
    expect(first.queueUrl).toContain(names.queueName);
    expect(first.dlqUrl).toContain(names.dlqName);
    expect(first.dlqArn).toMatch(new RegExp(`^arn:aws:sqs:us-east-1:\\d+:${names.dlqName}$`));

    await clients().s3.send(new HeadBucketCommand({ Bucket: names.bucket }));
    const { Attributes } = await clients().sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.queueUrl, AttributeNames: ['All'] }),
    );
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: first.dlqArn,
      maxReceiveCount: 5,
    });
    // The stack's settings: six times the 5-minute worker timeout, 4 days' retention.
    expect(Attributes?.VisibilityTimeout).toBe('1800');
    expect(Attributes?.MessageRetentionPeriod).toBe('345600');
    const table = await clients().dynamodb.send(new DescribeTableCommand({ TableName: names.tableName }));
    expect(table.Table?.TableStatus).toBe('ACTIVE');
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table.Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        'jobs-by-created',
        [
          { AttributeName: 'kind', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
      ],
    ]);
    const ttl = await clients().dynamodb.send(new DescribeTimeToLiveCommand({ TableName: names.tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
  });

  it('converges an existing queue to new redrive and visibility settings', async () => {
    const names = {
      bucket: uniqueName('fanout-bucket'),
      queueName: uniqueName('chunks'),
      dlqName: uniqueName('chunks-dlq'),
      tableName: uniqueName('jobs'),
    };
    await ensureResources(clients(), names);
    const { queueUrl, dlqArn } = await ensureResources(clients(), {
      ...names,
      maxReceiveCount: 7,
      visibilityTimeoutSeconds: 900,
    });
    const { Attributes } = await clients().sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: 7,
    });
    expect(Attributes?.VisibilityTimeout).toBe('900');
  });

  it('queues named *.fifo are FIFO: a message group goes to one receiver at a time, as the stack relies on', async () => {
    const names = {
      bucket: uniqueName('fanout-bucket'),
      queueName: `${uniqueName('chunks')}.fifo`,
      dlqName: `${uniqueName('chunks-dlq')}.fifo`,
      tableName: uniqueName('jobs'),
    };
    const { queueUrl } = await ensureResources(clients(), names);
    const { Attributes } = await clients().sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({ FifoQueue: 'true', DeduplicationScope: 'messageGroup' });
    const queue = new SqsChunkQueue({ client: clients().sqs, queueUrl });
    const chunk = (chunkId: string, group: number) => ({
      jobId: 'j',
      chunkId,
      group,
      options: DEFAULT_OPTIONS,
      items: [{ line: 1, url: 'https://e.com/' }],
    });
    await queue.send([chunk('a1', 1), chunk('a2', 1), chunk('b1', 2)]);
    const receive = async () =>
      (
        (await clients().sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1 })))
          .Messages ?? []
      ).map((m) => (JSON.parse(m.Body ?? '{}') as { chunkId: string }).chunkId);
    // a1 is in flight: its group's next chunk waits, another group's does not.
    expect(await receive()).toEqual(['a1']);
    expect(await receive()).toEqual(['b1']);
    expect(await receive()).toEqual([]);
    // The same chunk sent again (a dispatch retried) is not dropped as a duplicate.
    await queue.send([chunk('c1', 3), chunk('c1', 3)]);
    expect(await receive()).toEqual(['c1']);
  });

  it('a message received maxReceiveCount times without being deleted moves to the DLQ', async () => {
    const names = {
      bucket: uniqueName('fanout-bucket'),
      queueName: uniqueName('chunks'),
      dlqName: uniqueName('chunks-dlq'),
      tableName: uniqueName('jobs'),
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 0,
    };
    const { queueUrl, dlqUrl } = await ensureResources(clients(), names);
    await clients().sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const receive = async (url: string) =>
      (await clients().sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 })))
        .Messages ?? [];
    expect(await receive(queueUrl)).toHaveLength(1);
    expect(await receive(queueUrl)).toHaveLength(1);
    expect(await receive(queueUrl)).toHaveLength(0);
    expect((await receive(dlqUrl)).map((m) => m.Body)).toEqual(['poison']);
  });

  it('adds the jobs index to a job table made without it (by an older version)', async () => {
    const names = {
      bucket: uniqueName('fanout-bucket'),
      queueName: uniqueName('chunks'),
      dlqName: uniqueName('chunks-dlq'),
      tableName: uniqueName('jobs'),
    };
    await clients().dynamodb.send(
      new CreateTableCommand({
        TableName: names.tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ensureResources(clients(), names);
    const table = await clients().dynamodb.send(new DescribeTableCommand({ TableName: names.tableName }));
    expect(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['jobs-by-created']);
  });
});
