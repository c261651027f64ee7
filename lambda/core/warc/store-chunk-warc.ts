import { readFile } from 'node:fs/promises';
import { jobKeys, warcFile } from '../job/keys.js';
import type { ChunkMessage, ObjectStore } from '../ports.js';
import type { ResultRecord } from '../record.js';
import { ChunkWarc, chunkWarcContents } from './chunk-warc.js';

/** The WARC a chunk's exchanges are written to (body mode 'warc'), with its warcinfo record. */
export function openChunkWarc(message: ChunkMessage): Promise<ChunkWarc> {
  const { jobId, chunkId, options } = message;
  return ChunkWarc.open(
    warcFile(chunkId),
    { 'http-header-user-agent': options.userAgent, 'fanout-job': jobId, 'fanout-chunk': chunkId },
    options.maxBodyBytes,
  );
}

/**
 * Stores a chunk's WARC once, like its part: the first delivery to store it wins, and its
 * result records are the ones the part gets. A delivery that finds a WARC already stored (a
 * copy of the message fetched alongside, or a worker that died before its part) takes the
 * records that WARC closes with, so every record points into the WARC that was kept.
 * Returns the records for the part.
 */
export async function storeChunkWarc(
  store: ObjectStore,
  message: ChunkMessage,
  warc: ChunkWarc,
  results: ResultRecord[],
): Promise<ResultRecord[]> {
  const { jobId, chunkId } = message;
  const key = jobKeys.warc(jobId, chunkId);
  let contents = await warc.seal(results, `urn:fanout:results:${jobId}/${chunkId}`);
  const written = store.putFileIfAbsent
    ? await store.putFileIfAbsent(key, warc.path, 'application/warc')
    : await store.putIfAbsent(key, await readFile(warc.path), 'application/warc');
  if (!written) {
    const stored = await store.get(key);
    if (!stored) throw new Error(`${key} was there a moment ago and is gone`);
    contents = await chunkWarcContents(stored);
  }
  // Before the part: finalize reads the index of every chunk the part count says is done.
  await store.put(jobKeys.warcIndex(jobId, chunkId), contents.index.join(''), 'application/cdxj');
  return contents.records;
}
