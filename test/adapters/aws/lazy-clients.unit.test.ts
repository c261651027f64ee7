import { describe, expect, it, vi } from 'vitest';

/** The services whose client was constructed, in order: each SDK client class below records itself. */
const built = vi.hoisted(() => [] as string[]);

vi.mock('@aws-sdk/client-s3', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-s3')>();
  return { ...sdk, S3Client: recording(sdk.S3Client, 's3') };
});
vi.mock('@aws-sdk/client-sqs', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-sqs')>();
  return { ...sdk, SQSClient: recording(sdk.SQSClient, 'sqs') };
});
vi.mock('@aws-sdk/client-dynamodb', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-dynamodb')>();
  return { ...sdk, DynamoDBClient: recording(sdk.DynamoDBClient, 'dynamodb') };
});
vi.mock('@aws-sdk/client-lambda', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-lambda')>();
  return { ...sdk, LambdaClient: recording(sdk.LambdaClient, 'lambda') };
});
vi.mock('@aws-sdk/client-eventbridge', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-eventbridge')>();
  return { ...sdk, EventBridgeClient: recording(sdk.EventBridgeClient, 'events') };
});

// biome-ignore lint/suspicious/noExplicitAny: any SDK client class
function recording<C extends new (...args: any[]) => object>(Client: C, service: string): C {
  return class extends Client {
    // biome-ignore lint/suspicious/noExplicitAny: the class's own arguments
    constructor(...args: any[]) {
      super(...args);
      built.push(service);
    }
  };
}

const { createAwsClients } = await import('../../../lambda/adapters/aws/clients.js');

describe('createAwsClients, lazily', () => {
  it('builds no client until one is read, then only that one, once', async () => {
    built.length = 0;
    const clients = createAwsClients({ endpoint: 'http://127.0.0.1:4566', region: 'eu-west-1' });
    expect(built).toEqual([]);
    const dynamodb = clients.dynamodb;
    expect(clients.dynamodb).toBe(dynamodb);
    expect(built).toEqual(['dynamodb']);
    expect((await dynamodb.config.endpoint?.())?.port).toBe(4566);
    expect(await clients.s3.config.region()).toBe('eu-west-1');
    expect(built).toEqual(['dynamodb', 's3']);
  });

  it('builds the Lambda and EventBridge clients only when read', () => {
    built.length = 0;
    const { s3, sqs, dynamodb } = createAwsClients();
    expect([s3, sqs, dynamodb].every(Boolean)).toBe(true);
    expect(built).toEqual(['s3', 'sqs', 'dynamodb']);
  });

  it('lists all five services, so a spread or destructuring still finds each', () => {
    built.length = 0;
    const clients = createAwsClients();
    expect(Object.keys(clients).sort()).toEqual(['dynamodb', 'events', 'lambda', 's3', 'sqs']);
    expect(built).toEqual([]);
    const copy = { ...clients };
    expect(copy.lambda).toBe(clients.lambda);
    expect(built.sort()).toEqual(['dynamodb', 'events', 'lambda', 's3', 'sqs']);
  });
});
