import { createHash } from 'node:crypto';
import { MemoryJobStore } from '../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../lambda/adapters/memory-object-store.js';
import { InputError } from '../../lambda/core/errors.js';
import type { ChunkMessage } from '../../lambda/core/ports.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import { readConfig } from '../../lambda/handlers/config.js';
import type { DispatchInvocation, Services } from '../../lambda/handlers/services.js';

/** Services on memory adapters, with what the handlers sent kept for the test to look at. */
export interface MemoryServices extends Services {
  store: MemoryObjectStore;
  jobs: MemoryJobStore;
  /** Chunk messages sent to the queue. */
  sent: ChunkMessage[];
  /** Dispatcher runs started. */
  dispatches: DispatchInvocation[];
  /** Jobs whose fan-in was started (a finalize invocation of the dispatcher). */
  finalizes: string[];
  /** Completion events announced. */
  announced: JobSummary[];
  /** Receipt handles of messages made visible again before their visibility timeout. */
  released: string[];
  /** After how long each of those comes back (s), in the same order. */
  releaseDelays: number[];
}

/**
 * Handler services with memory adapters. Sources `s3://b/<key>` read the memory store's
 * object under `<key>` (the bucket is 'b'); presigned links are `memory://<key>?ttl=<s>`.
 */
export function memoryServices(env: NodeJS.ProcessEnv = {}): MemoryServices {
  const store = new MemoryObjectStore();
  const sent: ChunkMessage[] = [];
  const dispatches: DispatchInvocation[] = [];
  const announced: JobSummary[] = [];
  const finalizes: string[] = [];
  const released: string[] = [];
  const releaseDelays: number[] = [];
  return {
    config: readConfig({
      FANOUT_BUCKET: 'b',
      FANOUT_TABLE: 't',
      FANOUT_QUEUE_URL: 'http://q',
      FANOUT_DISPATCHER_FUNCTION: 'dispatcher',
      ...env,
    }),
    store,
    jobs: new MemoryJobStore(),
    queue: {
      send: async (messages) => {
        sent.push(...messages);
      },
      release: async (receiptHandle, afterSeconds) => {
        released.push(receiptHandle);
        releaseDelays.push(afterSeconds);
      },
    },
    openSource: async (url, start = {}) => {
      const key = url.replace(/^s3:\/\/b\//, '');
      const data = await store.get(key);
      if (!data) throw new Error(`no object ${key}`);
      // As S3 does: the ETag is the MD5 of the object, a changed object fails If-Match.
      const etag = `"${createHash('md5').update(data).digest('hex')}"`;
      if (start.etag !== undefined && start.etag !== etag)
        throw new InputError('INPUT_UNREADABLE', `${url} changed while its dispatch ran`);
      const body = data.subarray(start.offset ?? 0);
      return {
        body: (async function* () {
          yield body;
        })(),
        etag,
      };
    },
    startDispatch: async (invocation) => {
      dispatches.push(invocation);
    },
    startFinalize: async (jobId) => {
      finalizes.push(jobId);
    },
    linkTo: async (key, seconds) => `memory://${key}?ttl=${seconds}`,
    announce: async (summary) => {
      announced.push(summary);
    },
    sent,
    dispatches,
    finalizes,
    announced,
    released,
    releaseDelays,
  };
}
