import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createEventBridgeClient } from '../adapters/aws/clients.js';
import { JOB_FINISHED_EVENT } from '../core/contract.js';
import type { HandlerConfig } from './config.js';
import { once, type Services } from './services.js';

/**
 * announce: a finished job's EventBridge event, when a bus is configured. The EventBridge
 * client is read on the first announcement.
 */
export function jobAnnouncer(
  config: Pick<HandlerConfig, 'bucket' | 'eventBus'>,
  client: () => EventBridgeClient = once(() => createEventBridgeClient()),
): Services['announce'] {
  return async (summary) => {
    if (!config.eventBus) return;
    const { histograms: _histograms, ...brief } = summary;
    const res = await client().send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: config.eventBus,
            Source: JOB_FINISHED_EVENT.source,
            DetailType: JOB_FINISHED_EVENT.detailType,
            Detail: JSON.stringify({ bucket: config.bucket, ...brief }),
          },
        ],
      }),
    );
    if (res.FailedEntryCount)
      throw new Error(`EventBridge refused the event: ${res.Entries?.[0]?.ErrorMessage}`);
  };
}
