import { afterEach, describe, expect, it, vi } from 'vitest';
import { awsClients, createAwsClients } from '../../../lambda/adapters/aws/clients.js';

afterEach(() => vi.unstubAllEnvs());

describe('createAwsClients', () => {
  it('uses the given endpoint and region, with path-style S3', async () => {
    const clients = createAwsClients({ endpoint: 'http://127.0.0.1:4566', region: 'eu-west-1' });
    expect(await clients.s3.config.region()).toBe('eu-west-1');
    expect(clients.s3.config.forcePathStyle).toBe(true);
    for (const client of [clients.s3, clients.sqs, clients.dynamodb]) {
      const endpoint = await client.config.endpoint?.();
      expect(endpoint?.hostname).toBe('127.0.0.1');
      expect(endpoint?.port).toBe(4566);
    }
  });

  it('reads AWS_ENDPOINT_URL and AWS_REGION when not given', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://localhost:5000');
    vi.stubEnv('AWS_REGION', 'ap-southeast-2');
    const clients = createAwsClients();
    expect(await clients.sqs.config.region()).toBe('ap-southeast-2');
    expect(clients.s3.config.forcePathStyle).toBe(true);
    expect((await clients.dynamodb.config.endpoint?.())?.port).toBe(5000);
  });

  it("reads each service's own endpoint variable before AWS_ENDPOINT_URL", async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:5000');
    vi.stubEnv('AWS_ENDPOINT_URL_S3', 'http://127.0.0.1:4566');
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', 'http://127.0.0.1:4567');
    const clients = createAwsClients();
    expect((await clients.s3.config.endpoint?.())?.port).toBe(4566);
    expect((await clients.sqs.config.endpoint?.())?.port).toBe(4567);
    expect((await clients.dynamodb.config.endpoint?.())?.port).toBe(5000);
    expect(clients.s3.config.forcePathStyle).toBe(true);
  });

  it("takes a service's endpoint from `endpoints` before `endpoint`", async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', 'http://127.0.0.1:9999');
    const clients = createAwsClients({
      endpoint: 'http://127.0.0.1:4566',
      endpoints: { dynamodb: 'http://127.0.0.1:5000' },
    });
    expect((await clients.s3.config.endpoint?.())?.port).toBe(4566);
    expect((await clients.dynamodb.config.endpoint?.())?.port).toBe(5000);
  });

  it('defaults to us-east-1 and virtual-hosted S3 without an endpoint', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', '');
    vi.stubEnv('AWS_ENDPOINT_URL_S3', '');
    vi.stubEnv('AWS_REGION', '');
    const clients = createAwsClients();
    expect(await clients.s3.config.region()).toBe('us-east-1');
    expect(clients.s3.config.forcePathStyle).toBe(false);
  });

  it('awsClients builds the clients once per process', () => {
    expect(awsClients()).toBe(awsClients());
  });
});
