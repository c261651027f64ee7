import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { JOB_FINISHED_EVENT } from '../../lambda/core/contract.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import { jobAnnouncer } from '../../lambda/handlers/eventbridge-services.js';
import { countedFactory } from '../helpers/counted-factory.js';

/** An EventBridge client that answers `failed` failed entries, and counts how often it was asked for. */
function fakeEvents(failed = 0) {
  const sent: PutEventsCommand[] = [];
  const client = {
    send: async (command: PutEventsCommand) => {
      sent.push(command);
      return { FailedEntryCount: failed, Entries: [{ ErrorMessage: failed ? 'bus full' : undefined }] };
    },
  } as unknown as EventBridgeClient;
  return { sent, factory: countedFactory(client) };
}

const summary = { jobId: 'j1', status: 'succeeded', histograms: { latency: {} } } as unknown as JobSummary;

describe('jobAnnouncer', () => {
  it("puts the finished job's event on the bus, without its histograms", async () => {
    const events = fakeEvents();
    await jobAnnouncer({ bucket: 'b', eventBus: 'bus' }, events.factory)(summary);
    const [entry] = events.sent[0]?.input.Entries ?? [];
    expect(entry).toMatchObject({
      EventBusName: 'bus',
      Source: JOB_FINISHED_EVENT.source,
      DetailType: JOB_FINISHED_EVENT.detailType,
    });
    expect(JSON.parse(entry?.Detail ?? '')).toEqual({ bucket: 'b', jobId: 'j1', status: 'succeeded' });
  });

  it('builds no EventBridge client when no bus is configured', async () => {
    const events = fakeEvents();
    await jobAnnouncer({ bucket: 'b', eventBus: '' }, events.factory)(summary);
    expect(events.factory.reads).toBe(0);
  });

  it('fails, quoting EventBridge, when the event is refused', async () => {
    const events = fakeEvents(1);
    await expect(jobAnnouncer({ bucket: 'b', eventBus: 'bus' }, events.factory)(summary)).rejects.toThrow(
      'EventBridge refused the event: bus full',
    );
  });
});
