import { randomUUID } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSurt, WARCParser, WARCRecord, WARCSerializer } from 'warcio';
import type { ResultRecord, WarcLocation } from '../record.js';
import {
  type CapturedExchange,
  ExchangeCapture,
  type WarcRequest,
  warcRequestHeaders,
} from './exchange-capture.js';

const WARC_VERSION = 'WARC/1.1';
const SERIALIZE = { gzip: true, digest: { algo: 'sha-256', prefix: 'sha256:' } } as const;
/** The metadata record that closes a chunk's WARC: the chunk's result records and index lines. */
const RESULTS_TYPE = 'application/x-fanout-chunk+json';

/** What closes a chunk's WARC, and what a redelivery reads back from a WARC already stored. */
export interface ChunkWarcContents {
  records: ResultRecord[];
  /** CDXJ lines of its response records, sorted, each ending in a newline. */
  index: string[];
}

/**
 * One chunk's WARC file, written as its exchanges finish: a warcinfo record first, then a
 * response and a request record per exchange (one gzip member each), and last a metadata record
 * with the chunk's result records. Records go to a temporary file as they are made, so only the
 * exchanges in flight are in memory; `seal` closes it for the upload.
 */
export class ChunkWarc {
  private position = 0;
  /** Writes in file order: each exchange's pair lands whole, at the offset it was given. */
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly index: string[] = [];

  private constructor(
    /** The file's name relative to the job's folder: `warc/<chunk>.warc.gz`. */
    readonly file: string,
    /** The temporary file the records are written to. */
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly maxPayloadBytes: number,
  ) {}

  /** Opens the temporary file and writes the warcinfo record. */
  static async open(file: string, info: Record<string, string>, maxPayloadBytes: number): Promise<ChunkWarc> {
    const path = join(tmpdir(), `fanout-${randomUUID()}.warc.gz`);
    const warc = new ChunkWarc(file, path, await open(path, 'wx'), maxPayloadBytes);
    const record = WARCRecord.createWARCInfo(
      { filename: file.slice(file.lastIndexOf('/') + 1), warcVersion: WARC_VERSION },
      { software: 'fanout', format: 'WARC File Format 1.1', ...info },
    );
    await warc.append([await WARCSerializer.serialize(record, SERIALIZE)]);
    return warc;
  }

  /** A tap for one exchange; its records are written once it ends. */
  capture(request: WarcRequest): ExchangeCapture {
    return new ExchangeCapture(request, this.maxPayloadBytes, (exchange) =>
      this.track(this.writeExchange(exchange)),
    );
  }

  /** Writes the closing metadata record and closes the file; the WARC's contents for the part. */
  async seal(records: ResultRecord[], target: string): Promise<ChunkWarcContents> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    if (this.failure) throw this.failure;
    this.index.sort();
    const contents: ChunkWarcContents = { records, index: this.index };
    const record = WARCRecord.create(
      {
        url: target,
        type: 'metadata',
        warcVersion: WARC_VERSION,
        warcHeaders: { 'Content-Type': RESULTS_TYPE },
      },
      [Buffer.from(JSON.stringify(contents))],
    );
    await this.append([await WARCSerializer.serialize(record, SERIALIZE)]);
    await this.handle.close();
    return contents;
  }

  /** Removes the temporary file. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.path, { force: true });
  }

  private track<T>(writing: Promise<T>): Promise<T> {
    this.pending.add(writing);
    void writing.then(
      () => this.pending.delete(writing),
      (err: unknown) => {
        this.failure ??= err as Error;
        this.pending.delete(writing);
      },
    );
    return writing;
  }

  /** The response record, then the request record that names it (WARC-Concurrent-To). */
  private async writeExchange(exchange: CapturedExchange): Promise<WarcLocation> {
    const { request } = exchange;
    const date = request.date.toISOString();
    const url = request.url.href;
    const ip: Record<string, string> = {};
    if (exchange.remoteAddress !== null) ip['WARC-IP-Address'] = exchange.remoteAddress;
    const truncated: Record<string, string> = {};
    if (exchange.truncated !== null) truncated['WARC-Truncated'] = exchange.truncated;
    const response = WARCRecord.create(
      {
        url,
        date,
        type: 'response',
        warcVersion: WARC_VERSION,
        warcHeaders: { ...ip, ...truncated },
        statusline: `HTTP/1.1 ${exchange.statusCode} ${exchange.statusText}`.trimEnd(),
        httpHeaders: exchange.headers,
        keepHeadersCase: true,
      },
      exchange.payload,
    );
    const responseId = response.warcHeader('WARC-Record-ID') as string;
    const requestRecord = WARCRecord.create(
      {
        url,
        date,
        type: 'request',
        warcVersion: WARC_VERSION,
        warcHeaders: { ...ip, 'WARC-Concurrent-To': responseId },
        statusline: `${request.method} ${request.url.pathname}${request.url.search} HTTP/1.1`,
        httpHeaders: warcRequestHeaders(request.url, request.headers),
        keepHeadersCase: true,
      },
      [],
    );
    const responseBytes = await WARCSerializer.serialize(response, SERIALIZE);
    const requestBytes = await WARCSerializer.serialize(requestRecord, SERIALIZE);
    const [place] = await this.append([responseBytes, requestBytes]);
    const location = place as WarcLocation;
    this.index.push(cdxjLine(response, exchange, location));
    return location;
  }

  /** Appends gzip members in order; their places in the file. */
  private append(members: Uint8Array[]): Promise<WarcLocation[]> {
    const places = members.map((member) => {
      const place = { file: this.file, offset: this.position, length: member.length };
      this.position += member.length;
      return place;
    });
    const writing = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      try {
        for (const member of members) await this.handle.write(member);
      } catch (err) {
        this.failure = err as Error;
        throw err;
      }
    });
    this.tail = writing.catch(() => {});
    return writing.then(() => places);
  }
}

/** A response record's CDXJ line: `surt timestamp {json}`, as pywb and warcio read them. */
function cdxjLine(record: WARCRecord, exchange: CapturedExchange, place: WarcLocation): string {
  const url = record.warcTargetURI as string;
  const timestamp = (record.warcDate as string).replace(/[-:T]/g, '').slice(0, 14);
  const contentType = exchange.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const fields: Record<string, string> = { url };
  if (contentType) fields.mime = contentType.split(';', 1)[0]?.trim() ?? '';
  fields.status = String(exchange.statusCode);
  const digest = record.warcPayloadDigest;
  if (digest) fields.digest = digest.slice(digest.indexOf(':') + 1);
  fields.length = String(place.length);
  fields.offset = String(place.offset);
  fields.filename = place.file;
  return `${getSurt(url)} ${timestamp} ${JSON.stringify(fields)}\n`;
}

/** The result records and index lines a stored chunk WARC closes with (its metadata record). */
export async function chunkWarcContents(data: Uint8Array): Promise<ChunkWarcContents> {
  let contents: ChunkWarcContents | null = null;
  for await (const record of WARCParser.iterRecords([data])) {
    if (record.warcType === 'metadata' && record.warcContentType === RESULTS_TYPE) {
      contents = JSON.parse(await record.contentText()) as ChunkWarcContents;
    } else await record.skipFully();
  }
  if (!contents) throw new Error('the WARC has no fanout results record: it was not written whole');
  return contents;
}
