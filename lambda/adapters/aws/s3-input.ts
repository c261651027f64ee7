import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../../core/errors.js';

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

/** Streams an S3 object (never loads it whole); a missing object is INPUT_UNREADABLE. */
export async function openS3Object(
  client: S3Client,
  location: S3Location,
): Promise<AsyncIterable<Uint8Array>> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    if (!object.Body) throw new Error('empty response body');
    return object.Body as Readable;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'AccessDenied') {
      throw new InputError(
        'INPUT_UNREADABLE',
        `cannot read s3://${location.bucket}/${location.key}: ${name}`,
        { cause: err },
      );
    }
    throw err;
  }
}
