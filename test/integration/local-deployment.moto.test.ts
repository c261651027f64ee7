import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FanoutFetcher } from '../../infra/fanout-fetcher.js';
import { type AwsClients, createAwsClients } from '../../lambda/adapters/aws/clients.js';
import { LocalDeployment } from '../../lambda/local/local-deployment.js';
import { logicalId, testApp } from '../infra/cdk-test-app.js';
import { type MotoServer, motoEnv, startMoto } from '../support/moto-server.js';

// `fanout run --endpoint` and the integration tests run the stack in one process
// (LocalDeployment): with no settings given, its queues, event sources and dispatcher
// retries must be those of the template `cdk deploy` installs.

let moto: MotoServer;
let clients: AwsClients;
let fetcher: FanoutFetcher;
let template: Template;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, motoEnv(moto.endpoint));
  clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
  fetcher = new FanoutFetcher(new Stack(testApp(), 'Defaults'), 'Fanout');
  template = Template.fromStack(fetcher.node.scope as Stack);
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

/** The Properties of one resource of the template. */
// biome-ignore lint/suspicious/noExplicitAny: template properties are read field by field
const propertiesOf = (construct: Parameters<typeof logicalId>[0]): Record<string, any> =>
  template.toJSON().Resources[logicalId(construct)].Properties;

/** The one resource of a type, as the template declares it. */
const onlyOf = (type: string) => {
  const [resource, ...more] = Object.values(template.findResources(type));
  expect(more).toHaveLength(0);
  return resource?.Properties;
};

async function start(name: string): Promise<LocalDeployment> {
  return LocalDeployment.start({
    clients,
    names: { bucket: name, queueName: `${name}-chunks`, dlqName: `${name}-dlq`, tableName: `${name}-jobs` },
  });
}

describe('a local deployment with no settings given', () => {
  it('has the chunk queue and dead-letter queue of the stack', async () => {
    const deployment = await start('same-queues');
    const attributes = async (url: string) =>
      (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
        .Attributes ?? {};
    const chunks = await attributes(deployment.services.config.queueUrl);
    const stackChunks = propertiesOf(fetcher.chunkQueue);
    expect(JSON.parse(chunks.RedrivePolicy ?? '{}').maxReceiveCount).toBe(
      stackChunks.RedrivePolicy.maxReceiveCount,
    );
    expect(Number(chunks.VisibilityTimeout)).toBe(stackChunks.VisibilityTimeout);
    expect(Number(chunks.MessageRetentionPeriod)).toBe(stackChunks.MessageRetentionPeriod);

    const { QueueUrl: dlqUrl } = await clients.sqs.send(
      new GetQueueUrlCommand({ QueueName: 'same-queues-dlq' }),
    );
    expect(JSON.parse(chunks.RedrivePolicy ?? '{}').deadLetterTargetArn).toMatch(/:same-queues-dlq$/);
    const dlq = await attributes(dlqUrl ?? '');
    const stackDlq = propertiesOf(fetcher.deadLetterQueue);
    expect(Number(dlq.MessageRetentionPeriod)).toBe(stackDlq.MessageRetentionPeriod);
    expect(Number(dlq.VisibilityTimeout)).toBe(stackDlq.VisibilityTimeout);
  }, 60_000);

  it('hands the worker batches of the stack’s size', async () => {
    const deployment = await start('same-batches');
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const workerMapping = mappings.find(
      (m) => m.Properties.FunctionName.Ref === logicalId(fetcher.worker),
    )?.Properties;
    expect(deployment.chunks.batchSize).toBe(workerMapping?.BatchSize);
  }, 60_000);

  it('runs a failing asynchronous dispatch as often as Lambda does for the stack', async () => {
    const deployment = await start('same-retries');
    let runs = 0;
    Object.assign(deployment, {
      dispatcher: async () => {
        runs += 1;
        throw new Error('the dispatcher fails every run');
      },
    });
    deployment.startDispatch({ jobId: 'never-dispatched' });
    await deployment.settled();
    const invokeConfig = onlyOf('AWS::Lambda::EventInvokeConfig');
    expect(runs).toBe(invokeConfig?.MaximumRetryAttempts + 1);
  }, 60_000);
});
