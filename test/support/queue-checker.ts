import { decodeJsonlGz } from '../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../lambda/core/job/keys.js';
import type { ObjectStore } from '../../lambda/core/ports.js';
import type { ResultRecord } from '../../lambda/core/record.js';

/** How a job's results compare with the lines expected (1..expected): all but `records` must be 0. */
export interface QueueScore {
  lost: number;
  duplicated: number;
  unexpected: number;
  records: number;
}

/** Scores a job's results.jsonl.gz like a queue checker: expected lines vs the records there. */
export async function scoreResults(store: ObjectStore, jobId: string, expected: number): Promise<QueueScore> {
  const data = await store.get(jobKeys.results(jobId));
  const records = data ? decodeJsonlGz<ResultRecord>(data) : [];
  const seen = new Map<number, number>();
  for (const r of records) seen.set(r.line, (seen.get(r.line) ?? 0) + 1);
  let lost = 0;
  for (let line = 1; line <= expected; line += 1) if (!seen.has(line)) lost += 1;
  return {
    lost,
    duplicated: [...seen.values()].filter((n) => n > 1).length,
    unexpected: [...seen.keys()].filter((line) => line < 1 || line > expected).length,
    records: records.length,
  };
}
