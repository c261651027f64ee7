/**
 * Issue 26, item 1, through processChunk with a memory store (no put-file write: the fallback
 * path): what a chunk's WARC holds, read back with warcio.js's parser, and what a second
 * delivery of the chunk does when the first left its WARC but no part.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WARCParser, type WARCRecord } from 'warcio';
import { MemoryJobStore } from '../../../lambda/adapters/memory-job-store.js';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { FetchEngine } from '../../../lambda/core/fetch/engine.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { readPart } from '../../../lambda/core/job/part-file.js';
import { processChunk } from '../../../lambda/core/job/process-chunk.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import type { ChunkMessage } from '../../../lambda/core/ports.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { startTargetServer, type TargetServer } from '../../helpers/target-server.js';

const BIG = Buffer.alloc(40_000, 'z');

let server: TargetServer;
beforeAll(async () => {
  server = await startTargetServer({
    '/hop': (_req, res) => {
      res.writeHead(307, { location: '/gz' });
      res.end();
    },
    '/gz': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'x-case': 'Kept' });
      res.end(gzipSync('zipped'));
    },
    '/big': (_req, res) => {
      res.writeHead(200, { 'content-length': BIG.length });
      res.end(BIG);
    },
  });
});
afterAll(() => server.close());

const options = resolveOptions({ allow: ['127.0.0.1/32'], retries: 0, body: 'warc', maxBodyBytes: 10_000 });
const engines: FetchEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function deliver(store: MemoryObjectStore, jobs: MemoryJobStore, message: ChunkMessage) {
  const engine = new FetchEngine({ options });
  engines.push(engine);
  return processChunk({ store, jobs, engine }, message);
}

async function setup() {
  const store = new MemoryObjectStore();
  const jobs = new MemoryJobStore();
  await jobs.create('j', new Date());
  await jobs.setTotal('j', { chunks: 1, accepted: 2, invalid: 0 });
  const message: ChunkMessage = {
    jobId: 'j',
    chunkId: '00000000',
    options,
    items: ['/hop', '/big'].map((path, i) => ({ line: i + 1, url: server.url(path) })),
  };
  return { store, jobs, message };
}

async function recordsOf(data: Buffer) {
  const records: Array<{ record: WARCRecord; offset: number; length: number; payload: Uint8Array }> = [];
  const parser = new WARCParser([data]);
  for await (const record of parser) {
    const payload = await record.readFully(false);
    records.push({ record, offset: parser.offset, length: parser.recordLength, payload });
  }
  return records;
}

describe('a chunk with body mode warc', () => {
  it('writes warcinfo, a response and a request per hop, and a closing metadata record', async () => {
    const { store, jobs, message } = await setup();
    await deliver(store, jobs, message);
    const data = (await store.get(jobKeys.warc('j', '00000000'))) as Buffer;
    const records = await recordsOf(data);
    expect(records.map((r) => `${r.record.warcType} ${r.record.warcTargetURI ?? ''}`.trim()).sort()).toEqual(
      [
        'warcinfo',
        `response ${server.url('/hop')}`,
        `request ${server.url('/hop')}`,
        `response ${server.url('/gz')}`,
        `request ${server.url('/gz')}`,
        `response ${server.url('/big')}`,
        `request ${server.url('/big')}`,
        'metadata urn:fanout:results:j/00000000',
      ].sort(),
    );
    for (const { record } of records) {
      expect(record.warcHeaders.statusline).toBe('WARC/1.1');
      if (record.warcType !== 'response') continue;
      expect(record.warcHeader('WARC-IP-Address')).toBe('127.0.0.1');
      expect(record.warcPayloadDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(record.warcBlockDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const id = record.warcHeader('WARC-Record-ID');
      const request = records.find((r) => r.record.warcHeader('WARC-Concurrent-To') === id);
      expect(request?.record.warcType).toBe('request');
      expect(request?.record.httpHeaders?.statusline).toMatch(/^GET \/\w+ HTTP\/1\.1$/);
    }
    const gz = records.find(
      (r) => r.record.warcType === 'response' && r.record.warcTargetURI?.endsWith('/gz'),
    );
    expect(gz?.record.httpHeaders?.headers.get('x-case')).toBe('Kept');
    expect(Buffer.from(gz?.payload ?? []).equals(gzipSync('zipped'))).toBe(true);
    const big = records.find(
      (r) => r.record.warcType === 'response' && r.record.warcTargetURI?.endsWith('/big'),
    );
    expect(big?.record.warcHeader('WARC-Truncated')).toBe('length');
    expect(big?.payload.length).toBe(10_000);
  });

  it('keeps a sensitive header by name in the request record, never its value', async () => {
    const { store, jobs } = await setup();
    const withHeaders = resolveOptions({
      ...options,
      headers: { Authorization: 'env:WARC_TOKEN', 'X-Api-Key': 'env:WARC_KEY', Accept: 'text/plain' },
      sensitiveHeaders: ['X-Api-Key'],
    });
    const values: Record<string, string> = { WARC_TOKEN: 'Bearer s3cr3t-token', WARC_KEY: 'k3y-value' };
    const engine = new FetchEngine({
      options: withHeaders,
      readReference: (_kind, name) => values[name] ?? '',
    });
    engines.push(engine);
    const message: ChunkMessage = {
      jobId: 'j',
      chunkId: '00000000',
      options: withHeaders,
      items: [{ line: 1, url: server.url('/gz') }],
    };
    await processChunk({ store, jobs, engine }, message);
    const sent = server.requests.at(-1)?.headers;
    expect(sent?.authorization).toBe('Bearer s3cr3t-token');
    const data = (await store.get(jobKeys.warc('j', '00000000'))) as Buffer;
    const request = (await recordsOf(data)).find((r) => r.record.warcType === 'request');
    expect(request?.record.httpHeaders?.headers.get('authorization')).toBe('[redacted]');
    expect(request?.record.httpHeaders?.headers.get('x-api-key')).toBe('[redacted]');
    expect(request?.record.httpHeaders?.headers.get('accept')).toBe('text/plain');
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(data).toString('latin1');
    expect(text).not.toContain('s3cr3t-token');
    expect(text).not.toContain('k3y-value');
  });

  it('names in each result record the offset and length of its last response record', async () => {
    const { store, jobs, message } = await setup();
    await deliver(store, jobs, message);
    const records = await recordsOf((await store.get(jobKeys.warc('j', '00000000'))) as Buffer);
    const part = readPart((await store.get(jobKeys.part('j', '00000000'))) as Buffer);
    for (const result of decodeJsonlGz<ResultRecord>(part.member)) {
      const at = records.find((r) => r.offset === result.warc?.offset);
      expect(at?.length).toBe(result.warc?.length);
      expect(at?.record.warcType).toBe('response');
      expect(at?.record.warcTargetURI).toBe(result.finalUrl);
      expect(result.warc?.file).toBe('warc/00000000.warc.gz');
    }
    const index = (await store.get(jobKeys.warcIndex('j', '00000000')))?.toString() ?? '';
    expect(index.trimEnd().split('\n')).toHaveLength(3);
  });

  it('a delivery that finds the WARC stored and no part takes the stored WARC’s records', async () => {
    const { store, jobs, message } = await setup();
    await deliver(store, jobs, message);
    const warc = (await store.get(jobKeys.warc('j', '00000000'))) as Buffer;
    const first = (await store.get(jobKeys.part('j', '00000000'))) as Buffer;
    // As if the first worker died after its WARC, before its part.
    await store.delete(jobKeys.part('j', '00000000'));
    const outcome = await deliver(store, jobs, message);
    expect(outcome.part).toBe('written');
    expect((await store.get(jobKeys.warc('j', '00000000')))?.equals(warc)).toBe(true);
    const again = readPart((await store.get(jobKeys.part('j', '00000000'))) as Buffer);
    expect(decodeJsonlGz<ResultRecord>(again.member)).toEqual(
      decodeJsonlGz<ResultRecord>(readPart(first).member),
    );
  });
});
