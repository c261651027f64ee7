import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  paginateListObjectsV2,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { retentionTagging } from '../../core/job/keys.js';
import type { MultipartUploads, ObjectStore } from '../../core/ports.js';
import { awsErrorOf, backoff } from './retry.js';

/** Attempts of a conditional put that S3 answers with 409 ConditionalRequestConflict. */
const CONFLICT_ATTEMPTS = 6;
const CONFLICT_BASE_MS = 50;
const CONFLICT_MAX_MS = 1000;

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  client: S3Client;
  bucket: string;
}

/** A job's objects in one S3 bucket; put-if-absent is a conditional PutObject (If-None-Match: *). */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
  }

  /** Multipart uploads whose parts are UploadPartCopy of objects of the same bucket: no bytes pass through. */
  readonly multipart: MultipartUploads = {
    create: async (key, contentType) => {
      const res = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: contentType,
          Tagging: retentionTagging(key),
        }),
      );
      if (!res.UploadId) throw new Error(`S3 started no multipart upload for ${key}`);
      return res.UploadId;
    },
    copyPart: async (key, uploadId, partNumber, sourceKey) => {
      const res = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: `${this.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
      const etag = res.CopyPartResult?.ETag;
      if (!etag) throw new Error(`S3 returned no ETag for part ${partNumber} of ${key}`);
      return { partNumber, etag };
    },
    complete: async (key, uploadId, parts) => {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    },
    abort: async (key, uploadId) => {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
    },
  };

  /**
   * S3 answers 412 when the key exists, and 409 when another conditional write to the key
   * is in flight; the 409 is retried, since the other writer may yet fail.
   */
  putIfAbsent(key: string, body: Uint8Array, contentType?: string): Promise<boolean> {
    return this.putBodyIfAbsent(key, () => ({ Body: body }), contentType);
  }

  /** One PutObject of the file's bytes as a stream (up to 5 GB), reopened for each attempt. */
  async putFileIfAbsent(key: string, path: string, contentType?: string): Promise<boolean> {
    const { size } = await stat(path);
    return this.putBodyIfAbsent(
      key,
      () => ({ Body: createReadStream(path), ContentLength: size }),
      contentType,
    );
  }

  private async putBodyIfAbsent(
    key: string,
    body: () => Pick<PutObjectCommandInput, 'Body' | 'ContentLength'>,
    contentType?: string,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            ...body(),
            ContentType: contentType,
            Tagging: retentionTagging(key),
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (err) {
        const { name, status } = awsErrorOf(err);
        if (name === 'PreconditionFailed' || status === 412) return false;
        const conflict = name === 'ConditionalRequestConflict' || status === 409;
        if (!conflict || attempt >= CONFLICT_ATTEMPTS) throw err;
        await backoff(attempt, CONFLICT_BASE_MS, CONFLICT_MAX_MS);
      }
    }
  }

  async put(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        // Set even when 0: without it the SDK takes an empty body for a stream of unknown length.
        ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
        ContentType: contentType,
        Tagging: retentionTagging(key),
      }),
    );
  }

  /** A multipart upload once the stream passes one part (5 MiB); aborted when the stream fails. */
  async putStream(key: string, body: AsyncIterable<Uint8Array>, contentType?: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body instanceof Readable ? body : Readable.from(body),
        ContentType: contentType,
        Tagging: retentionTagging(key),
      },
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isNotFound(err) && awsErrorOf(err).name !== 'NoSuchBucket') return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Every key under a prefix, in S3's (lexical) order. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    }
    return keys;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** A presigned GET URL for one object, valid for the given time. */
  presign(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }
}

function isNotFound(err: unknown): boolean {
  const { name, status } = awsErrorOf(err);
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}
