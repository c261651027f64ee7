import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { createLambdaClient } from '../adapters/aws/clients.js';
import { HANDLER_ENV } from '../core/contract.js';
import type { HandlerConfig } from './config.js';
import { type DispatchInvocation, type FinalizeInvocation, once, type Services } from './services.js';

/**
 * startDispatch and startFinalize: asynchronous invocations of the dispatcher function. The
 * Lambda client is read on the first invocation (most runs of a worker start no fan-in).
 */
export function dispatcherInvoker(
  config: Pick<HandlerConfig, 'dispatcherFunction'>,
  client: () => LambdaClient = once(() => createLambdaClient()),
): Pick<Services, 'startDispatch' | 'startFinalize'> {
  const invoke = async (invocation: DispatchInvocation | FinalizeInvocation) => {
    if (!config.dispatcherFunction) throw new Error(`${HANDLER_ENV.dispatcherFunction} is not set`);
    await client().send(
      new InvokeCommand({
        FunctionName: config.dispatcherFunction,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(invocation)),
      }),
    );
  };
  return { startDispatch: invoke, startFinalize: (jobId) => invoke({ jobId, finalize: true }) };
}
