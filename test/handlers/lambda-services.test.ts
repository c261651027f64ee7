import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { HANDLER_ENV } from '../../lambda/core/contract.js';
import { dispatcherInvoker } from '../../lambda/handlers/lambda-services.js';
import { countedFactory } from '../helpers/counted-factory.js';

/** A Lambda client that keeps what it was sent, and how many times it was asked for. */
function fakeLambda() {
  const sent: InvokeCommand[] = [];
  const client = { send: async (command: InvokeCommand) => sent.push(command) } as unknown as LambdaClient;
  return { sent, factory: countedFactory(client) };
}

const payload = (command: InvokeCommand) =>
  JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString());

describe('dispatcherInvoker', () => {
  it('starts a dispatch and a fan-in as asynchronous invocations of the dispatcher', async () => {
    const lambda = fakeLambda();
    const { startDispatch, startFinalize } = dispatcherInvoker(
      { dispatcherFunction: 'fanout-d' },
      lambda.factory,
    );
    await startDispatch({ jobId: 'j1', resume: { run: 2 } as never });
    await startFinalize('j2');
    expect(lambda.sent.map((c) => [c.input.FunctionName, c.input.InvocationType, payload(c)])).toEqual([
      ['fanout-d', 'Event', { jobId: 'j1', resume: { run: 2 } }],
      ['fanout-d', 'Event', { jobId: 'j2', finalize: true }],
    ]);
    expect(lambda.sent[0]).toBeInstanceOf(InvokeCommand);
  });

  it('reads no Lambda client until the first invocation', async () => {
    const lambda = fakeLambda();
    const { startFinalize } = dispatcherInvoker({ dispatcherFunction: 'fanout-d' }, lambda.factory);
    expect(lambda.factory.reads).toBe(0);
    await startFinalize('j1');
    expect(lambda.factory.reads).toBe(1);
  });

  it('names the missing variable, and builds no client, when no dispatcher is configured', async () => {
    const lambda = fakeLambda();
    const { startDispatch } = dispatcherInvoker({ dispatcherFunction: '' }, lambda.factory);
    await expect(startDispatch({ jobId: 'j1' })).rejects.toThrow(
      `${HANDLER_ENV.dispatcherFunction} is not set`,
    );
    expect(lambda.factory.reads).toBe(0);
  });
});
