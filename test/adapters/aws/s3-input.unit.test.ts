import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { openS3Object, parseS3Url } from '../../../lambda/adapters/aws/s3-input.js';
import { InputError } from '../../../lambda/core/errors.js';
import type { DispatchCheckpoint } from '../../../lambda/core/job/dispatch.js';
import type { JobManifest } from '../../../lambda/core/job/job-request.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { makeDispatcherHandler } from '../../../lambda/handlers/dispatcher.js';
import { makeS3Error } from '../../helpers/factories.js';
import { memoryServices } from '../../helpers/memory-services.js';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });
const LOCATION = { bucket: 'lists', key: 'inputs/list.txt' };

beforeEach(() => s3.reset());

const bodyOf = (data: Buffer) => Readable.from([data]) as unknown as GetObjectCommandOutput['Body'];

/** Answers GetObject from `data` as S3 would: Range from an offset, If-Match against `etag`. */
function serve(data: () => Buffer, etag: () => string) {
  s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    if (input.IfMatch !== undefined && input.IfMatch !== etag()) throw makeS3Error('PreconditionFailed', 412);
    const range = input.Range ? /^bytes=(\d+)-$/.exec(input.Range) : null;
    if (input.Range && !range) throw new Error(`unexpected Range ${input.Range}`);
    const from = range ? Number(range[1]) : 0;
    if (from > 0 && from >= data().length) throw makeS3Error('InvalidRange', 416);
    return { Body: bodyOf(data().subarray(from)), ETag: etag() };
  });
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return Buffer.concat(parts).toString('utf8');
}

describe('openS3Object', () => {
  it('reads the whole object and hands back its ETag', async () => {
    serve(
      () => Buffer.from('a\nb\n'),
      () => '"e1"',
    );
    const opened = await openS3Object(client, LOCATION);
    expect(await text(opened.body)).toBe('a\nb\n');
    expect(opened.etag).toBe('"e1"');
    const input = s3.commandCalls(GetObjectCommand)[0]?.args[0].input;
    expect(input).toEqual({ Bucket: 'lists', Key: 'inputs/list.txt' });
  });

  it('from an offset: a ranged GET (Range: bytes=N-) with If-Match', async () => {
    serve(
      () => Buffer.from('a\nb\n'),
      () => '"e1"',
    );
    const opened = await openS3Object(client, LOCATION, { offset: 2, etag: '"e1"' });
    expect(await text(opened.body)).toBe('b\n');
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'lists',
      Key: 'inputs/list.txt',
      Range: 'bytes=2-',
      IfMatch: '"e1"',
    });
  });

  it('an offset at the end of the object (416 InvalidRange) reads nothing', async () => {
    serve(
      () => Buffer.from('a\nb\n'),
      () => '"e1"',
    );
    const opened = await openS3Object(client, LOCATION, { offset: 4, etag: '"e1"' });
    expect(await text(opened.body)).toBe('');
  });

  it('an object replaced since its ETag was read (412) fails as INPUT_UNREADABLE, naming it', async () => {
    serve(
      () => Buffer.from('a\nb\n'),
      () => '"e2"',
    );
    const failure = openS3Object(client, LOCATION, { offset: 2, etag: '"e1"' });
    await expect(failure).rejects.toBeInstanceOf(InputError);
    await expect(failure).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringMatching(/^s3:\/\/lists\/inputs\/list\.txt changed while its dispatch ran/),
    });
  });
});

describe('the dispatcher on S3: a long dispatch hands over by offset', () => {
  const list = Buffer.from(
    `${Array.from({ length: 23 }, (_, i) => (i % 5 === 2 ? 'not a url' : `https://e.com/${i}`)).join('\r\n')}\r\n`,
  );
  const event = (key: string): S3Event =>
    ({ Records: [{ s3: { bucket: { name: 'lists' }, object: { key, eTag: 'e1' } } }] }) as unknown as S3Event;

  /** Memory services whose list is read from the mocked S3; every run is out of time at once. */
  function setup() {
    const s = memoryServices({ FANOUT_JOB_DEFAULTS: JSON.stringify({ chunkSize: 4 }) });
    s.openSource = (url, start) => openS3Object(client, parseS3Url(url), start);
    const handler = makeDispatcherHandler(() => s);
    const outOfTime = { getRemainingTimeInMillis: () => 0 };
    return { s, handler, outOfTime };
  }

  it('every resumed run sends Range: bytes=<checkpoint offset>- and If-Match of the first ETag', async () => {
    serve(
      () => list,
      () => '"e1"',
    );
    const { s, handler, outOfTime } = setup();
    await handler(event('inputs/list.txt'), outOfTime);
    for (let i = 0; i < s.dispatches.length; i += 1) await handler(s.dispatches[i]!, outOfTime);
    const checkpoints = s.dispatches.map((d) => d.resume as DispatchCheckpoint);
    expect(checkpoints.length).toBeGreaterThanOrEqual(4);

    const gets = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input);
    expect(gets[0]).toEqual({ Bucket: 'lists', Key: 'inputs/list.txt' });
    expect(gets.slice(1)).toEqual(
      checkpoints.map((cp) => ({
        Bucket: 'lists',
        Key: 'inputs/list.txt',
        Range: `bytes=${cp.offset}-`,
        IfMatch: '"e1"',
      })),
    );
    const jobId = s.sent[0]?.jobId ?? '';
    const manifest = JSON.parse(
      s.store.objects.get(jobKeys.manifest(jobId))?.toString() ?? '{}',
    ) as JobManifest;
    expect(manifest).toMatchObject({ lines: 23, accepted: 18, invalid: 5, chunks: 5 });
    expect(s.sent.map((m) => m.chunkId)).toEqual([
      '00000000',
      '00000001',
      '00000002',
      '00000003',
      '00000004',
    ]);
    expect(s.sent.flatMap((m) => m.items.map((item) => item.line))).toEqual(
      Array.from({ length: 23 }, (_, i) => i + 1).filter((line) => line % 5 !== 3),
    );
  });

  it('a list replaced between runs fails the job, naming the change, instead of mixing', async () => {
    let etag = '"e1"';
    serve(
      () => list,
      () => etag,
    );
    const { s, handler, outOfTime } = setup();
    await handler(event('inputs/list.txt'), outOfTime);
    expect(s.dispatches).toHaveLength(1);
    etag = '"e2"';
    await handler(s.dispatches[0]!, outOfTime);
    expect(s.dispatches).toHaveLength(1);
    const jobId = s.sent[0]?.jobId ?? '';
    expect(await s.jobs.get(jobId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(
        /INPUT_UNREADABLE: s3:\/\/lists\/inputs\/list\.txt changed while its dispatch ran/,
      ),
    });
  });
});
