import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { FanoutRetryStrategy } from './retry.js';

/**
 * Attempts per request against an AWS-compatible endpoint (moto, LocalStack). moto_server
 * copies the whole table at the start of each DynamoDB transaction and answers an HTML 500
 * when another request changes the table meanwhile; at 2,000 chunk markers and 27 workers,
 * runs of 10 such answers in a row were seen (docs/local-aws-path.md). With the SDK's backoff
 * (full jitter, at most 20 s) 20 attempts span about two minutes. Against AWS itself the
 * SDK's defaults stand (3 attempts, 4 for DynamoDB).
 */
export const ENDPOINT_MAX_ATTEMPTS = 20;

/**
 * The services fanout calls: each a client of AwsClients, and Secrets Manager, which only the
 * worker calls (request headers' `secret:` values) with a client of its own (secrets-client.ts,
 * apart so that nothing else that imports this file loads its package).
 */
export type AwsService = keyof AwsClients | 'secretsmanager';

/**
 * The SDK's per-service endpoint variable of each service (AWS_ENDPOINT_URL_<service id>), read
 * before AWS_ENDPOINT_URL as every SDK-based tool reads it: S3 and SQS may point at one
 * emulator and DynamoDB at another.
 */
export const SERVICE_ENDPOINT_ENV: Readonly<Record<AwsService, string>> = {
  s3: 'AWS_ENDPOINT_URL_S3',
  sqs: 'AWS_ENDPOINT_URL_SQS',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  lambda: 'AWS_ENDPOINT_URL_LAMBDA',
  events: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
};

/**
 * The endpoint a service's client talks to: the one given for the service, else the one given
 * for all, else its AWS_ENDPOINT_URL_<service> variable, else AWS_ENDPOINT_URL; undefined
 * means AWS itself.
 */
export function serviceEndpoint(
  service: AwsService,
  config: Pick<AwsClientConfig, 'endpoint' | 'endpoints'> = {},
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return (
    config.endpoints?.[service] ??
    config.endpoint ??
    (env[SERVICE_ENDPOINT_ENV[service]] || undefined) ??
    (env.AWS_ENDPOINT_URL || undefined)
  );
}

/** Where the clients talk to: real AWS by default, any AWS-compatible endpoint when set. */
export interface AwsClientConfig {
  /** Every service's endpoint, unless `endpoints` names the service's own. */
  endpoint?: string;
  /** A service's own endpoint, before `endpoint` and the environment. */
  endpoints?: Partial<Record<AwsService, string>>;
  region?: string;
  /** Static credentials (a local endpoint); the SDK's default chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request. @default the SDK's against AWS, ENDPOINT_MAX_ATTEMPTS with an endpoint */
  maxAttempts?: number;
}

/** The SDK clients the AWS adapters use. */
export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
  /** Starts the dispatcher (the API, and a dispatcher handing over to the next run). */
  lambda: LambdaClient;
  /** The completion event of each finished job. */
  events: EventBridgeClient;
}

/** The settings every client shares: region, endpoint, credentials and attempts for `service`. */
export function clientSettings(service: AwsService, config: AwsClientConfig) {
  const region = config.region ?? (process.env.AWS_REGION || 'us-east-1');
  const endpoint = serviceEndpoint(service, config);
  const maxAttempts = config.maxAttempts ?? (endpoint ? ENDPOINT_MAX_ATTEMPTS : undefined);
  return {
    region,
    ...(endpoint && { endpoint }),
    ...(config.credentials && { credentials: config.credentials }),
    ...(maxAttempts !== undefined && { maxAttempts }),
  };
}

/*
 * One builder per service, so that a function's bundle holds only the SDK clients it builds:
 * esbuild drops the others (the SDK's packages declare no side effects). Each client talks to
 * {@link serviceEndpoint}'s endpoint, in AWS_REGION or 'us-east-1', and retries with its own
 * FanoutRetryStrategy (the SDK's standard strategy, an unparseable 5xx counted transient).
 */

/** An S3 client; path-style addressing when an endpoint is set. */
export function createS3Client(config: AwsClientConfig = {}): S3Client {
  // Virtual-hosted buckets need DNS for <bucket>.<host>, which a local endpoint lacks.
  const forcePathStyle = serviceEndpoint('s3', config) !== undefined;
  return withRetry(
    (retryStrategy) => new S3Client({ ...clientSettings('s3', config), retryStrategy, forcePathStyle }),
  );
}

/** An SQS client. */
export function createSqsClient(config: AwsClientConfig = {}): SQSClient {
  return withRetry((retryStrategy) => new SQSClient({ ...clientSettings('sqs', config), retryStrategy }));
}

/** A DynamoDB client. */
export function createDynamoDbClient(config: AwsClientConfig = {}): DynamoDBClient {
  return withRetry(
    (retryStrategy) => new DynamoDBClient({ ...clientSettings('dynamodb', config), retryStrategy }),
  );
}

/** A Lambda client. */
export function createLambdaClient(config: AwsClientConfig = {}): LambdaClient {
  return withRetry(
    (retryStrategy) => new LambdaClient({ ...clientSettings('lambda', config), retryStrategy }),
  );
}

/** An EventBridge client. */
export function createEventBridgeClient(config: AwsClientConfig = {}): EventBridgeClient {
  return withRetry(
    (retryStrategy) => new EventBridgeClient({ ...clientSettings('events', config), retryStrategy }),
  );
}

/**
 * All five clients, each built on first read (by the create* builder of its service), so a
 * caller pays only for the clients it reads. For the CLI, the local deployment and tests; a
 * Lambda handler builds its own few clients with the builders, leaving the rest out of its bundle.
 */
export function createAwsClients(config: AwsClientConfig = {}): AwsClients {
  return lazyMembers<AwsClients>({
    s3: () => createS3Client(config),
    sqs: () => createSqsClient(config),
    dynamodb: () => createDynamoDbClient(config),
    lambda: () => createLambdaClient(config),
    events: () => createEventBridgeClient(config),
  });
}

/** An object whose members are each built on first read, then kept. */
function lazyMembers<T extends object>(builders: { [K in keyof T]: () => T[K] }): T {
  const built: Partial<T> = {};
  const members = {} as T;
  for (const name of Object.keys(builders) as (keyof T)[]) {
    Object.defineProperty(members, name, {
      enumerable: true,
      get: () => {
        if (!(name in built)) built[name] = builders[name]();
        return built[name];
      },
    });
  }
  return members;
}

/**
 * A client with its own FanoutRetryStrategy, whose attempts are the client's resolved
 * maxAttempts (the option, else AWS_MAX_ATTEMPTS, else the SDK's default for the service).
 */
export function withRetry<C extends { config: { maxAttempts: () => Promise<number> } }>(
  build: (retryStrategy: FanoutRetryStrategy) => C,
): C {
  const client: C = build(new FanoutRetryStrategy(() => client.config.maxAttempts()));
  return client;
}

/**
 * Dummy static credentials for a local AWS-compatible endpoint, unless the environment names
 * real ones (AWS_ACCESS_KEY_ID or AWS_PROFILE): local endpoints accept any signature.
 */
export function localEndpointCredentials(): AwsClientConfig['credentials'] {
  const { AWS_ACCESS_KEY_ID, AWS_PROFILE } = process.env;
  if (AWS_ACCESS_KEY_ID || AWS_PROFILE) return undefined;
  return { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
}

let shared: AwsClients | undefined;

/** The process-wide clients, each built on its first read. */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
