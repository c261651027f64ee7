import { chunkIdAt } from '../chunker.js';
import { jobKeys } from '../job/keys.js';
import type { ObjectStore } from '../ports.js';

/** Lines per write of index.cdxj. */
const LINES_PER_WRITE = 4096;

/**
 * Writes a WARC job's index.cdxj: the CDXJ lines of every chunk (each chunk's lines were
 * stored with its WARC), sorted by SURT key and timestamp, as pywb and `warcio index` sort
 * them. Memory: the job's index lines at once (about 250 bytes per response), never a body.
 */
export async function writeCdxIndex(store: ObjectStore, jobId: string, chunks: number): Promise<void> {
  const lines: string[] = [];
  for (let index = 0; index < chunks; index += 1) {
    const key = jobKeys.warcIndex(jobId, chunkIdAt(index));
    const data = await store.get(key);
    if (data === null) throw new Error(`${key} is missing: its chunk's WARC was not stored`);
    for (const line of data.toString('utf8').split('\n')) if (line !== '') lines.push(line);
  }
  lines.sort(byKey);
  await store.putStream(jobKeys.cdxIndex(jobId), batches(lines), 'application/cdxj');
}

/** Byte order of the lines (code unit order is byte order for the ASCII keys and stamps). */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function* batches(lines: readonly string[]): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < lines.length; start += LINES_PER_WRITE) {
    yield Buffer.from(`${lines.slice(start, start + LINES_PER_WRITE).join('\n')}\n`);
  }
}
