import { MULTIPART_LIMITS, type ObjectStore, type UploadedPart } from '../ports.js';

/** Copies of segments in flight while a multipart upload is assembled. */
const COPIES_IN_FLIGHT = 16;

/** One stored object whose bytes go, in order, into the assembled object. */
export interface Segment {
  key: string;
  bytes: number;
}

/**
 * Writes `key` as the concatenation of `segments`' bytes, in order. Where the store assembles
 * objects server-side (S3) and the segments allow it (every one but the last at least 5 MiB,
 * at most 10,000), each segment is copied in as one part of a multipart upload, so no byte
 * passes through this process; otherwise the segments are read one by one and streamed out.
 * Repeating it writes the same object again.
 */
export async function assembleObject(
  store: ObjectStore,
  key: string,
  segments: readonly Segment[],
  contentType: string,
): Promise<'copied' | 'streamed'> {
  const multipart = store.multipart;
  if (multipart && segments.length > 0 && copyable(segments)) {
    const uploadId = await multipart.create(key, contentType);
    try {
      const parts: UploadedPart[] = new Array(segments.length);
      let next = 0;
      const copier = async () => {
        for (let index = next++; index < segments.length; index = next++) {
          parts[index] = await multipart.copyPart(key, uploadId, index + 1, (segments[index] as Segment).key);
        }
      };
      await Promise.all(Array.from({ length: Math.min(COPIES_IN_FLIGHT, segments.length) }, copier));
      await multipart.complete(key, uploadId, parts);
    } catch (err) {
      await multipart.abort(key, uploadId).catch(() => {});
      throw err;
    }
    return 'copied';
  }
  async function* bytes(): AsyncGenerator<Buffer> {
    for (const segment of segments) {
      const data = await store.get(segment.key);
      if (!data) throw new Error(`${segment.key} is missing`);
      yield data;
    }
  }
  await store.putStream(key, bytes(), contentType);
  return 'streamed';
}

/** Whether S3 would take the segments as the parts of one upload. */
function copyable(segments: readonly Segment[]): boolean {
  if (segments.length > MULTIPART_LIMITS.maxParts) return false;
  return segments.slice(0, -1).every((s) => s.bytes >= MULTIPART_LIMITS.minPartBytes);
}
