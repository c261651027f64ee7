import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../lambda/adapters/aws/s3-object-store.js';
import { uniqueName, useMoto } from './moto-fixture.js';

const clients = useMoto();
let store: S3ObjectStore;
let bucket: string;

beforeAll(async () => {
  bucket = uniqueName('fanout-s3');
  await clients().s3.send(new CreateBucketCommand({ Bucket: bucket }));
  store = new S3ObjectStore({ client: clients().s3, bucket });
});

async function* pieces(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('S3ObjectStore against moto', () => {
  it('put, get, exists; absent keys read as null and false', async () => {
    expect(await store.get('a/b.json')).toBeNull();
    expect(await store.exists('a/b.json')).toBe(false);
    await store.put('a/b.json', '{"x":1}', 'application/json');
    expect((await store.get('a/b.json'))?.toString()).toBe('{"x":1}');
    expect(await store.exists('a/b.json')).toBe(true);
    await store.put('a/b.json', Buffer.from('replaced'));
    expect((await store.get('a/b.json'))?.toString()).toBe('replaced');
  });

  it('putIfAbsent writes once: the second writer gets false and the content is unchanged', async () => {
    expect(await store.putIfAbsent('once/part', Buffer.from('first'), 'application/gzip')).toBe(true);
    expect(await store.putIfAbsent('once/part', Buffer.from('second'))).toBe(false);
    expect((await store.get('once/part'))?.toString()).toBe('first');
  });

  it('putStream of ~12 MB goes multipart and round-trips byte for byte', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 12345);
    await store.putStream('big/results.jsonl.gz', pieces(data, 64 * 1024), 'application/gzip');
    const back = await store.get('big/results.jsonl.gz');
    expect(back?.length).toBe(data.length);
    expect(sha256(back ?? Buffer.alloc(0))).toBe(sha256(data));
  });

  it('putStream of a small and of an empty stream', async () => {
    await store.putStream('small/failed.jsonl', pieces(Buffer.from('{"url":"x"}\n'), 4));
    expect((await store.get('small/failed.jsonl'))?.toString()).toBe('{"url":"x"}\n');
    await store.putStream('small/empty.jsonl', pieces(Buffer.alloc(0), 4));
    expect((await store.get('small/empty.jsonl'))?.length).toBe(0);
  });

  it('a failing stream leaves no object behind', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield randomBytes(6 * 1024 * 1024);
      throw new Error('source broke');
    }
    await expect(store.putStream('broken/results', broken())).rejects.toThrow('source broke');
    expect(await store.exists('broken/results')).toBe(false);
  });

  it('list returns every key under a prefix, across pages', async () => {
    const keys = Array.from(
      { length: 1005 },
      (_, i) => `listing/parts/${String(i).padStart(8, '0')}.jsonl.gz`,
    );
    for (let i = 0; i < keys.length; i += 250) {
      await Promise.all(keys.slice(i, i + 250).map((key) => store.put(key, 'x')));
    }
    await store.put('listing-other/x', 'x');
    expect(await store.list('listing/')).toEqual(keys);
    expect(await store.list('nothing-here/')).toEqual([]);
  });

  it('presign gives a URL that fetch() can read', async () => {
    await store.put('jobs/j1/summary.json', '{"status":"succeeded"}', 'application/json');
    const url = await store.presign('jobs/j1/summary.json', 300);
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"succeeded"}');
  });

  it('tags scratch objects and bodies for the lifecycle rules, leaves results untagged', async () => {
    const tags = async (key: string) =>
      (await clients().s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet ?? [];
    await store.putIfAbsent('jobs/j2/parts/00000000.jsonl.gz', Buffer.from('p'));
    await store.put('jobs/j2/checkpoints/00000001.jsonl.gz', Buffer.from('c'));
    await store.putStream('jobs/j2/dispatch/invalid-00000.jsonl.gz', pieces(Buffer.from('i'), 1));
    await store.putIfAbsent('jobs/j2/bodies/abc', Buffer.from('b'));
    await store.put('jobs/j2/summary.json', '{}');
    await store.putStream('jobs/j2/results.jsonl.gz', pieces(Buffer.from('r'), 1));
    const scratch = [{ Key: 'fanout-retention', Value: 'scratch' }];
    expect(await tags('jobs/j2/parts/00000000.jsonl.gz')).toEqual(scratch);
    expect(await tags('jobs/j2/checkpoints/00000001.jsonl.gz')).toEqual(scratch);
    expect(await tags('jobs/j2/dispatch/invalid-00000.jsonl.gz')).toEqual(scratch);
    expect(await tags('jobs/j2/bodies/abc')).toEqual([{ Key: 'fanout-retention', Value: 'body' }]);
    expect(await tags('jobs/j2/summary.json')).toEqual([]);
    expect(await tags('jobs/j2/results.jsonl.gz')).toEqual([]);
  });
});
