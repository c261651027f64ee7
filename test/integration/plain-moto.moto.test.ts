import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lambda/adapters/aws/clients.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { type MotoServer, motoEnv, startMoto } from '../support/moto-server.js';
import { scoreResults } from '../support/queue-checker.js';
import { isolatedDeployment, submitUrls } from './deployment-fixture.js';

// The local AWS path against moto_server as a user starts it: not serialized, so DynamoDB
// transactions that overlap crash inside moto and come back as HTML 500 pages. The SDK's
// retry strategy must absorb them: no chunk may be left to wait out its visibility timeout.

const CHUNKS = 400;
/** A failed chunk would come back after this, and be counted as a second delivery. */
const VISIBILITY_SECONDS = 60;

let moto: MotoServer;
let target: TargetServer;
let clients: AwsClients;

beforeAll(async () => {
  moto = await startMoto();
  target = await startTargetServer({ '/ok': (_req, res) => res.end('fine') });
  Object.assign(process.env, motoEnv(moto.endpoint));
  clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
}, 120_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
});

/** Messages visible and in flight on a queue (the dead-letter queue's are all chunks given up on). */
async function messagesOn(QueueUrl: string): Promise<number> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('a local deployment on a plain (un-serialized) moto_server', () => {
  it(`finishes a job of ${CHUNKS} chunks with 24 workers, every chunk delivered once`, async () => {
    const { deployment } = await isolatedDeployment(clients, {
      visibilityTimeoutSeconds: VISIBILITY_SECONDS,
      workers: 24,
      // As `fanout run --endpoint` runs them: each worker with clients of its own.
      workerClients: () => createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' }),
    });
    const { queueUrl } = deployment.services.config;
    const urls = Array.from({ length: CHUNKS }, (_, i) => target.url(`/ok?plain=${i}`));
    const jobId = await submitUrls(deployment, urls, { chunkSize: 1, concurrency: 4 });
    const state = await deployment.runUntilFinished(jobId);

    expect(state).toMatchObject({ status: 'succeeded', chunksDone: CHUNKS, totalChunks: CHUNKS });
    expect(await scoreResults(deployment.services.store, jobId, CHUNKS)).toMatchObject({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      records: CHUNKS,
    });
    // No chunk failed and came back after its visibility timeout, none was dead-lettered.
    expect(deployment.chunks.delivered).toBe(CHUNKS);
    expect(await messagesOn(queueUrl.replace(/-chunks$/, '-dlq'))).toBe(0);
  }, 300_000);
});
