import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../adapters/aws/clients.js';
import { DynamoJobStore } from '../adapters/aws/dynamo-job-store.js';
import type { HandlerConfig } from './config.js';
import type { Services } from './services.js';

/** The job table, on a DynamoDB client of its own unless given one. */
export function jobStore(
  config: Pick<HandlerConfig, 'tableName'>,
  client: DynamoDBClient = createDynamoDbClient(),
): Services['jobs'] {
  return new DynamoJobStore({ client, tableName: config.tableName });
}
