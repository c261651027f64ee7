import {
  type AwsClients,
  createAwsClients,
  SERVICE_ENDPOINT_ENV,
} from '../../lambda/adapters/aws/clients.js';
import { startLocalStack } from './localstack-server.js';
import { motoEnv, startMoto } from './moto-server.js';

/** Where each service the pipeline stores in runs. */
export interface EmulatorEndpoints {
  s3: string;
  sqs: string;
  dynamodb: string;
}

/** The emulators of one set-up, running. */
export interface RunningEmulators {
  endpoints: EmulatorEndpoints;
  /** SDK clients on these endpoints (a fresh set each call, as each Lambda instance has its own). */
  clients(): AwsClients;
  stop(): Promise<void>;
}

/** One way to emulate S3, SQS and DynamoDB: what the pipeline suites run on, each in turn. */
export interface Emulator {
  name: string;
  /** `serialized`: moto applies one S3/DynamoDB request at a time (see startMoto). */
  start(options?: { serialized?: boolean }): Promise<RunningEmulators>;
}

/** Any key signs for an emulator; LocalStack files what it stores under its default account. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function running(endpoints: EmulatorEndpoints, stop: () => Promise<void>): RunningEmulators {
  return {
    endpoints,
    clients: () => createAwsClients({ endpoints, region: 'us-east-1', credentials: EMULATOR_CREDENTIALS }),
    stop,
  };
}

/** Everything on moto. */
export const MOTO: Emulator = {
  name: 'moto',
  start: async (options = {}) => {
    const moto = await startMoto(options);
    const { endpoint } = moto;
    return running({ s3: endpoint, sqs: endpoint, dynamodb: endpoint }, () => moto.stop());
  },
};

/** S3 and SQS on LocalStack, separate code from moto's; DynamoDB on moto (LocalStack's needs Java from the internet). */
export const LOCALSTACK: Emulator = {
  name: 'LocalStack (S3, SQS) + moto (DynamoDB)',
  start: async (options = {}) => {
    const [localStack, moto] = await Promise.allSettled([startLocalStack(), startMoto(options)]);
    if (localStack.status === 'rejected' || moto.status === 'rejected') {
      if (localStack.status === 'fulfilled') await localStack.value.stop();
      if (moto.status === 'fulfilled') await moto.value.stop();
      throw localStack.status === 'rejected' ? localStack.reason : (moto as PromiseRejectedResult).reason;
    }
    const endpoints = {
      s3: localStack.value.endpoint,
      sqs: localStack.value.endpoint,
      dynamodb: moto.value.endpoint,
    };
    return running(endpoints, async () => {
      await Promise.all([localStack.value.stop(), moto.value.stop()]);
    });
  },
};

/** The set-ups a pipeline suite runs on: `describe.each(EMULATORS)('on $name', ...)`. */
export const EMULATORS: readonly Emulator[] = [MOTO, LOCALSTACK];

/**
 * The environment for SDK clients built from it (the handlers' own, presigned links): each
 * service's AWS_ENDPOINT_URL_<service>, AWS_ENDPOINT_URL (the other services) on DynamoDB's
 * endpoint, and moto's fake credentials and region.
 */
export function emulatorEnv(endpoints: EmulatorEndpoints): Record<string, string> {
  return {
    ...motoEnv(endpoints.dynamodb),
    [SERVICE_ENDPOINT_ENV.s3]: endpoints.s3,
    [SERVICE_ENDPOINT_ENV.sqs]: endpoints.sqs,
    [SERVICE_ENDPOINT_ENV.dynamodb]: endpoints.dynamodb,
  };
}
