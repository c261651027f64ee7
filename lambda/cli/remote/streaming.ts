import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/** An object's body as a stream (never loaded whole); null when there is no such object. */
export async function openObject(s3: S3Client, bucket: string, key: string): Promise<Readable | null> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return res.Body instanceof Readable ? res.Body : Readable.from([]);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Whether an object exists (HeadObject). */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Pipes a body to a file, or to stdout when `out` is absent, gunzipping it on the way
 * when asked (concatenated gzip members included). A file left half-written is removed;
 * a reader that goes away early (`| head`) is not an error.
 */
export async function streamBody(body: Readable, options: { gunzip: boolean; out?: string }): Promise<void> {
  const copy = (destination: Writable, end: boolean) =>
    options.gunzip
      ? pipeline(body, createGunzip(), destination, { end })
      : pipeline(body, destination, { end });
  if (options.out) {
    try {
      await copy(createWriteStream(options.out), true);
    } catch (err) {
      await rm(options.out, { force: true });
      throw err;
    }
    return;
  }
  try {
    await copy(process.stdout, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    body.destroy();
  }
}

/** The parsed JSON lines of a body, one at a time (blank lines skipped). */
export async function* jsonLines<T>(body: Readable): AsyncGenerator<T> {
  const lines = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as T;
}
