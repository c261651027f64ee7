import { type AwsClients, awsClients } from '../adapters/aws/clients.js';
import { type HandlerConfig, readConfig } from './config.js';
import { jobStore } from './dynamodb-services.js';
import { jobAnnouncer } from './eventbridge-services.js';
import { dispatcherInvoker } from './lambda-services.js';
import { objectServices } from './s3-services.js';
import type { Services } from './services.js';
import { chunkQueue } from './sqs-services.js';

/**
 * Every member of Services on AWS: the dispatcher's set (it uses all five services), and the
 * local deployment's. Each client is built on its first read (the process's own by default).
 */
export function awsServices(
  config: HandlerConfig = readConfig(),
  clients: AwsClients = awsClients(),
): Services {
  return {
    config,
    ...objectServices(config, clients.s3),
    queue: chunkQueue(config, clients.sqs),
    jobs: jobStore(config, clients.dynamodb),
    ...dispatcherInvoker(config, () => clients.lambda),
    announce: jobAnnouncer(config, () => clients.events),
  };
}
