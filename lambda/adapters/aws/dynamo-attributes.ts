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

function readNumber(item: Item, key: string): number | undefined {
  const n = item[key]?.N;
  return n === undefined ? undefined : Number(n);
}

/** Maps a job item to the port's JobState; throws on an item that is not a job. */
export function toJobState(item: Item): JobState {
  const pk = readString(item, 'pk') ?? '';
  const jobId = readString(item, 'jobId') ?? pk.replace(/^job#/, '');
  const status = readString(item, 'status');
  if (!JOB_STATUSES.includes(status as JobStatus)) throw new Error(`job ${jobId}: unknown status ${status}`);
  const state: JobState = {
    jobId,
    status: status as JobStatus,
    totalChunks: readNumber(item, 'totalChunks') ?? null,
    chunksDone: readNumber(item, 'chunksDone') ?? 0,
    accepted: readNumber(item, 'accepted') ?? 0,
    invalid: readNumber(item, 'invalid') ?? 0,
    urlsDone: readNumber(item, 'urlsDone') ?? 0,
    urlsFailed: readNumber(item, 'urlsFailed') ?? 0,
    createdAt: readString(item, 'createdAt') ?? '',
    updatedAt: readString(item, 'updatedAt') ?? '',
  };
  const error = readString(item, 'error');
  if (error !== undefined) state.error = error;
  if (item.cancelRequested?.BOOL === true) state.cancelRequested = true;
  return state;
}
