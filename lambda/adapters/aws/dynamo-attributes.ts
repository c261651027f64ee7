import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { JOB_STATUSES, type JobState, type JobStatus } from '../../core/ports.js';

/** A DynamoDB item as the low-level client sees it. */
export type Item = Record<string, AttributeValue>;

/** A string attribute. */
export const str = (value: string): AttributeValue => ({ S: value });
/** A number attribute. */
export const num = (value: number): AttributeValue => ({ N: String(value) });
/** A boolean attribute. */
export const bool = (value: boolean): AttributeValue => ({ BOOL: value });

/** ExpressionAttributeNames for the given attributes, each named `#<attribute>` (avoids reserved words such as status). */
export function names(...attributes: string[]): Record<string, string> {
  return Object.fromEntries(attributes.map((a) => [`#${a}`, a]));
}

function readString(item: Item, key: string): string | undefined {
  return item[key]?.S;
}

/** A job's chunk and URL counts: what its counter shards hold, summed. */
export interface JobCounters {
  chunksDone: number;
  urlsDone: number;
  urlsFailed: number;
}

/** The sum of counter shard items (absent counters count 0). */
export function sumCounters(shards: readonly Item[]): JobCounters {
  const sum: JobCounters = { chunksDone: 0, urlsDone: 0, urlsFailed: 0 };
  for (const shard of shards) {
    sum.chunksDone += readNumber(shard, 'chunksDone') ?? 0;
    sum.urlsDone += readNumber(shard, 'urlsDone') ?? 0;
    sum.urlsFailed += readNumber(shard, 'urlsFailed') ?? 0;
  }
  return sum;
}

/** A number attribute of an item, undefined when absent. */
export function readNumber(item: Item, key: string): number | undefined {
  const n = item[key]?.N;
  return n === undefined ? undefined : Number(n);
}

/** Maps a job item and its summed counters to the port's JobState; throws on an item that is not a job. */
export function toJobState(item: Item, counters: JobCounters): JobState {
  const pk = readString(item, 'pk') ?? '';
  const jobId = readString(item, 'jobId') ?? pk.replace(/^job#/, '');
  const status = readString(item, 'status');
  if (!JOB_STATUSES.includes(status as JobStatus)) throw new Error(`job ${jobId}: unknown status ${status}`);
  const state: JobState = {
    jobId,
    status: status as JobStatus,
    totalChunks: readNumber(item, 'totalChunks') ?? null,
    chunksDone: counters.chunksDone,
    accepted: readNumber(item, 'accepted') ?? 0,
    invalid: readNumber(item, 'invalid') ?? 0,
    urlsDone: counters.urlsDone,
    urlsFailed: counters.urlsFailed,
    createdAt: readString(item, 'createdAt') ?? '',
    updatedAt: readString(item, 'updatedAt') ?? '',
  };
  const error = readString(item, 'error');
  if (error !== undefined) state.error = error;
  if (item.cancelRequested?.BOOL === true) state.cancelRequested = true;
  return state;
}
