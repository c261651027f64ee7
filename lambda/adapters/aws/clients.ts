import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/** Where the clients talk to: real AWS by default, any AWS-compatible endpoint when set. */
export interface AwsClientConfig {
  endpoint?: string;
  region?: string;
  /** Static credentials (a local endpoint); the SDK's default chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
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

/**
 * Builds the clients; endpoint defaults to env AWS_ENDPOINT_URL (any AWS-compatible
 * endpoint), region to AWS_REGION or 'us-east-1'; S3 uses path-style addressing when an
 * endpoint is set.
 */
export function createAwsClients(config: AwsClientConfig = {}): AwsClients {
  const endpoint = config.endpoint ?? (process.env.AWS_ENDPOINT_URL || undefined);
  const region = config.region ?? (process.env.AWS_REGION || 'us-east-1');
  const common = {
    region,
    ...(endpoint && { endpoint }),
    ...(config.credentials && { credentials: config.credentials }),
  };
  return {
    // Virtual-hosted buckets need DNS for <bucket>.<host>, which a local endpoint lacks.
    s3: new S3Client({ ...common, forcePathStyle: endpoint !== undefined }),
    sqs: new SQSClient(common),
    dynamodb: new DynamoDBClient(common),
    lambda: new LambdaClient(common),
    events: new EventBridgeClient(common),
  };
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

/** The process-wide clients, built once on first use (Lambda handlers call this at module scope). */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
