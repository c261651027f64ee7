import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { EXIT } from '../exit-codes.js';
import { RemoteError } from './remote-error.js';

/** Object metadata holding the uploaded file's sha256, so a second upload of other content is caught. */
const DIGEST_METADATA = 'fanout-sha256';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function head(s3: S3Client, bucket: string, key: string) {
  try {
    const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: (res.ETag ?? '').replace(/"/g, ''), digest: res.Metadata?.[DIGEST_METADATA] };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return null;
    throw err;
  }
}

/** An uploaded file: its ETag (unquoted, as S3 event notifications carry it) and whether this call wrote it. */
export interface Uploaded {
  etag: string;
  created: boolean;
}

/**
 * Uploads a local file to s3://bucket/key (multipart when large), unless the key already
 * holds the same content. A key holding other content is never overwritten: an earlier job
 * may still be reading it. `hint` says how to choose another key.
 */
export async function uploadOnce(
  s3: S3Client,
  location: { bucket: string; key: string },
  path: string,
  hint: string,
): Promise<Uploaded> {
  const { bucket, key } = location;
  const digest = await sha256Of(path);
  const existing = await head(s3, bucket, key);
  if (existing) {
    if (existing.digest === digest) return { etag: existing.etag, created: false };
    throw new RemoteError(
      'KEY_EXISTS',
      `s3://${bucket}/${key} already holds a different list; ${hint}`,
      EXIT.USAGE,
    );
  }
  await new Upload({
    client: s3,
    params: {
      Bucket: bucket,
      Key: key,
      Body: createReadStream(path),
      Metadata: { [DIGEST_METADATA]: digest },
    },
  }).done();
  const written = await head(s3, bucket, key);
  if (!written)
    throw new RemoteError('UPLOAD', `s3://${bucket}/${key} is missing after its upload`, EXIT.FAILED);
  return { etag: written.etag, created: true };
}

/** Deletes an object this command uploaded for a job that was then refused (best effort). */
export async function removeUpload(s3: S3Client, location: { bucket: string; key: string }): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key })).catch(() => {});
}
