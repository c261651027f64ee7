import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../lambda/adapters/aws/s3-object-store.js';
import { makeS3Error } from '../../helpers/factories.js';

const s3 = mockClient(S3Client);
const store = new S3ObjectStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'bucket' });

beforeEach(() => s3.reset());

const notFoundKey = () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'no such key' });
const conflict = () => makeS3Error('ConditionalRequestConflict', 409);
const preconditionFailed = () => makeS3Error('PreconditionFailed', 412);

function body(text: string): GetObjectCommandOutput['Body'] {
  // Only the method the store calls; the SDK's stream mixin is not needed to test the mapping.
  return {
    transformToByteArray: async () => new TextEncoder().encode(text),
  } as unknown as GetObjectCommandOutput['Body'];
}

describe('S3ObjectStore.putIfAbsent', () => {
  it('is a PutObject with If-None-Match: * that answers true when written', async () => {
    s3.on(PutObjectCommand).resolves({});
    expect(await store.putIfAbsent('k', Buffer.from('x'), 'application/gzip')).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'bucket',
      Key: 'k',
      IfNoneMatch: '*',
      ContentType: 'application/gzip',
    });
  });

  it('412 PreconditionFailed (the key exists) → false', async () => {
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    expect(await store.putIfAbsent('k', Buffer.from('x'))).toBe(false);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it.each([
    [
      'written',
      () => s3.on(PutObjectCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({}),
      true,
    ],
    [
      'already there',
      () => s3.on(PutObjectCommand).rejectsOnce(conflict()).rejects(preconditionFailed()),
      false,
    ],
  ])(
    '409 ConditionalRequestConflict is retried; the retry answers (%s)',
    async (_case, arrange, expected) => {
      arrange();
      expect(await store.putIfAbsent('k', Buffer.from('x'))).toBe(expected);
      expect(s3.commandCalls(PutObjectCommand).length).toBeGreaterThan(1);
    },
  );

  it('a 409 that never clears fails after bounded attempts', async () => {
    s3.on(PutObjectCommand).rejects(conflict());
    await expect(store.putIfAbsent('k', Buffer.from('x'))).rejects.toThrow('ConditionalRequestConflict');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(6);
  });

  it.each([
    ['AccessDenied', 403],
    ['InternalError', 500],
  ])('other errors propagate (%s)', async (name, status) => {
    s3.on(PutObjectCommand).rejects(makeS3Error(name, status));
    await expect(store.putIfAbsent('k', Buffer.from('x'))).rejects.toThrow(name);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});

describe('S3ObjectStore.get and exists', () => {
  it('get returns the body as a Buffer', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('hello') });
    const got = await store.get('k');
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got?.toString()).toBe('hello');
  });

  it.each([
    ['NoSuchKey', notFoundKey],
    ['a bare 404', () => makeS3Error('UnknownError', 404)],
  ])('get of a missing key (%s) → null', async (_case, error) => {
    s3.on(GetObjectCommand).rejects(error());
    expect(await store.get('k')).toBeNull();
  });

  it.each([
    ['NoSuchBucket', () => new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchBucket' })],
    ['AccessDenied', () => makeS3Error('AccessDenied', 403)],
  ])('get propagates %s', async (name, error) => {
    s3.on(GetObjectCommand).rejects(error());
    await expect(store.get('k')).rejects.toThrow(name);
  });

  it.each([
    ['an object', () => s3.on(HeadObjectCommand).resolves({}), true],
    [
      'NotFound',
      () =>
        s3.on(HeadObjectCommand).rejects(new NotFound({ $metadata: { httpStatusCode: 404 }, message: '' })),
      false,
    ],
    ['a bare 404', () => s3.on(HeadObjectCommand).rejects(makeS3Error('Unknown', 404)), false],
  ])('exists with %s → %s', async (_case, arrange, expected) => {
    arrange();
    expect(await store.exists('k')).toBe(expected);
  });

  it('exists propagates other errors', async () => {
    s3.on(HeadObjectCommand).rejects(makeS3Error('Forbidden', 403));
    await expect(store.exists('k')).rejects.toThrow('Forbidden');
  });
});

describe('S3ObjectStore.list', () => {
  it('follows continuation tokens across pages', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'p/1' }, { Key: 'p/2' }],
        IsTruncated: true,
        NextContinuationToken: 't1',
      })
      .resolvesOnce({ Contents: [{ Key: 'p/3' }], IsTruncated: false });
    expect(await store.list('p/')).toEqual(['p/1', 'p/2', 'p/3']);
    const calls = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(calls).toEqual([
      expect.objectContaining({ Bucket: 'bucket', Prefix: 'p/' }),
      expect.objectContaining({ Bucket: 'bucket', Prefix: 'p/', ContinuationToken: 't1' }),
    ]);
  });
});
