import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../../core/errors.js';
import type { OpenedSource, SourceStart } from '../../core/input/open-input.js';

/** An s3://bucket/key location. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** Parses `s3://bucket/key`; throws a message naming the expected form. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url);
  if (!match)
    throw new InputError('INPUT_UNREADABLE', `${JSON.stringify(url)} is not an s3://bucket/key URL`);
  return { bucket: match[1] as string, key: match[2] as string };
}

async function* nothing(): AsyncGenerator<Uint8Array> {}

/**
 * Streams an S3 object (never loads it whole); a missing object is INPUT_UNREADABLE.
 * `start.offset` asks for the bytes from there on (`Range: bytes=N-`); `start.etag` sends
 * `If-Match`, so an object replaced since that ETag was read fails as INPUT_UNREADABLE
 * instead of mixing two versions.
 */
export async function openS3Object(
  client: S3Client,
  location: S3Location,
  start: SourceStart = {},
): Promise<OpenedSource> {
  const { offset = 0, etag } = start;
  const name = `s3://${location.bucket}/${location.key}`;
  try {
    const object = await client.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(offset > 0 && { Range: `bytes=${offset}-` }),
        ...(etag !== undefined && { IfMatch: etag }),
      }),
    );
    if (!object.Body) throw new Error('empty response body');
    return { body: object.Body as Readable, ...(object.ETag !== undefined && { etag: object.ETag }) };
  } catch (err) {
    const code = (err as { name?: string }).name;
    if (code === 'InvalidRange' && offset > 0) {
      // The offset is the object's end (the last line was handled): nothing is left to read.
      return { body: nothing(), ...(etag !== undefined && { etag }) };
    }
    if (code === 'PreconditionFailed') {
      throw new InputError(
        'INPUT_UNREADABLE',
        `${name} changed while its dispatch ran (its ETag is no longer ${etag}); upload the list again to start a new job`,
        { cause: err },
      );
    }
    if (code === 'NoSuchKey' || code === 'NoSuchBucket' || code === 'AccessDenied') {
      throw new InputError('INPUT_UNREADABLE', `cannot read ${name}: ${code}`, { cause: err });
    }
    throw err;
  }
}
