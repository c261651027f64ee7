/** Engine helpers for tests: one item through the path workers use (FetchEngine.fetchAll). */
import type { FetchEngine } from '../../lambda/core/fetch/engine.js';
import type { InputItem, ResultRecord } from '../../lambda/core/record.js';

/** Fetches `item` as a chunk of one, through `fetchAll`, and returns its record. */
export async function fetchItem(
  engine: FetchEngine,
  item: InputItem,
  signal?: AbortSignal,
): Promise<ResultRecord> {
  const [record] = await engine.fetchAll([item], signal);
  return record as ResultRecord;
}
