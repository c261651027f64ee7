import type { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../adapters/aws/clients.js';
import { SqsChunkQueue } from '../adapters/aws/sqs-chunk-queue.js';
import type { HandlerConfig } from './config.js';
import type { Services } from './services.js';

/** The chunk queue, on an SQS client of its own unless given one. */
export function chunkQueue(
  config: Pick<HandlerConfig, 'queueUrl'>,
  client: SQSClient = createSqsClient(),
): Services['queue'] {
  return new SqsChunkQueue({ client, queueUrl: config.queueUrl });
}
