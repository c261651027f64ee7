import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeJsonlGz, encodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { digestOf } from '../../../lambda/core/job/part-digest.js';
import { encodePart, readPart } from '../../../lambda/core/job/part-file.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { makeFailure, makeRecord } from '../../helpers/factories.js';
import { sampleRecords } from '../report/sample-job.js';

const FEXTRA = 0x04;

describe('part files', () => {
  const records = sampleRecords(1000, 11);

  it('carry their digest in the gzip header, and stay plain .jsonl.gz for any gzip reader', () => {
    const { data, digest } = encodePart(records);
    expect(data[3]).toBe(FEXTRA);
    expect(digest).toEqual(digestOf(records));
    // gunzip skips the extra field: the stored part reads as the records.
    expect(decodeJsonlGz<ResultRecord>(data)).toEqual(records);
    const read = readPart(data);
    expect(read.digest).toEqual(digest);
    expect(read.member[3]).toBe(0);
    expect(decodeJsonlGz<ResultRecord>(read.member)).toEqual(records);
  });

  it('strip to members that concatenate into one valid results file', () => {
    const a = encodePart(records.slice(0, 400)).data;
    const b = encodePart(records.slice(400)).data;
    const joined = Buffer.concat([readPart(a).member, readPart(b).member]);
    expect(decodeJsonlGz<ResultRecord>(joined)).toEqual(records);
    // No member of the joined file keeps a header extra field.
    expect(joined.indexOf(Buffer.from([0x1f, 0x8b, 0x08, FEXTRA]))).toBe(-1);
  });

  it('digest counts, failed lines and report share match the records', () => {
    const { digest } = encodePart(records);
    const failed = records.filter((r) => r.error !== null);
    expect(digest.summary.records).toBe(records.length);
    expect(digest.summary.failed).toBe(failed.length);
    expect(digest.failed.map((f) => f.url)).toEqual(failed.map((r) => r.url));
    expect(digest.report.records).toBe(records.length);
    expect(digest.report.failures).toBe(failed.length);
    expect(digest.report.hosts.reduce((n, h) => n + h.records, 0)).toBe(records.length);
  });

  it('leave the digest out when it cannot fit in a header, and the part is still read by its records', () => {
    // Incompressible metadata on every failure: the failed lines alone pass 64 KiB.
    const heavy = Array.from({ length: 100 }, (_, i) =>
      makeFailure('DNS', { line: i + 1, meta: { blob: randomBytes(1024).toString('base64') } }),
    );
    const { data, digest } = encodePart(heavy);
    expect(digest.failed).toHaveLength(100);
    expect(data[3]).toBe(0);
    expect(readPart(data)).toEqual({ member: data, digest: null });
    expect(decodeJsonlGz<ResultRecord>(data)).toEqual(heavy);
  });

  it.each([
    ['a part without a digest (written before digests)', encodeJsonlGz([makeRecord()])],
    ['not gzip at all', Buffer.from('{"url":"x"}\n')],
    ['an empty object', Buffer.alloc(0)],
    ['a gzip member with a file name', withFlag(encodeJsonlGz([makeRecord()]), 0x08)],
  ])('pass %s through untouched, with no digest', (_name, data) => {
    expect(readPart(data)).toEqual({ member: data, digest: null });
  });

  it('ignore a damaged or unknown digest but keep the records readable', () => {
    const { data } = encodePart(records.slice(0, 50));
    const damaged = Buffer.from(data);
    // The subfield's deflated bytes start after the header (10), XLEN (2) and the subfield header (4).
    for (let i = 16; i < 40; i += 1) damaged[i] = 0xff;
    const read = readPart(damaged);
    expect(read.digest).toBeNull();
    expect(decodeJsonlGz<ResultRecord>(read.member)).toEqual(records.slice(0, 50));

    const cut = data.subarray(0, 14);
    expect(readPart(cut).digest).toBeNull();
  });

  it('the stripped member is byte for byte what gzip made, header flag aside', () => {
    const plain = encodeJsonlGz(records.slice(0, 10));
    const { member } = readPart(encodePart(records.slice(0, 10)).data);
    expect(member).toEqual(plain);
    expect(gunzipSync(member).toString('utf8').split('\n')).toHaveLength(11);
  });
});

function withFlag(gzip: Buffer, flag: number): Buffer {
  const copy = Buffer.from(gzip);
  copy[3] = flag;
  return copy;
}
